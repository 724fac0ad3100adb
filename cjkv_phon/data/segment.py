"""Raw text -> tokens, the way the datasets tokenise each language, before transcription.

The phonemizers take tokenised sentences (readings are made over the whole sentence, then aligned
back to the tokens), so raw text must be cut into tokens first. Two segmentations, registered by name:

* ``chars`` -- one token per non-space character, as PAN-X zh and ja are (``银行行长`` -> 银 行 行 长);
  whitespace only separates and is dropped.
* ``words`` -- the language's own words: whitespace-separated words for ko and vi (PAN-X ko/vi), with
  punctuation at a word's edges split off (``Kim,`` -> ``Kim`` ``,``; a run of one repeated mark,
  ``''`` or ``...``, stays one token, as PAN-X writes them); fugashi + unidic-lite morphemes for ja
  (the tagger the ``native`` ja phonemizer uses); for zh, pypinyin's maximum-matching segmenter over
  its phrase dictionary (the segmenter the ``native`` zh phonemizer reads phrases with), Han runs only,
  other runs split as for ko/vi.

``pretokenized`` input (whitespace-separated tokens, or a list of tokens) is not segmented at all.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from itertools import groupby
from typing import Callable

from cjkv_phon.errors import check_choice
from cjkv_phon.schema import LANGS

TOKENIZATIONS: tuple[str, ...] = ("chars", "words", "pretokenized")
# What PAN-X does when nothing is said: one character per token for zh/ja, words for ko/vi.
DEFAULT_TOKENIZATION: dict[str, str] = {"zh": "chars", "ja": "chars", "ko": "words", "vi": "words"}


def default_tokenization(lang: str) -> str:
    """The PAN-X convention for ``lang`` (``chars`` for zh/ja, ``words`` for ko/vi)."""
    check_choice("language", lang, LANGS)
    return DEFAULT_TOKENIZATION[lang]


def chars(text: str) -> list[str]:
    """One token per non-whitespace character (PAN-X zh/ja)."""
    return [ch for ch in text if not ch.isspace()]


def _is_punct(ch: str) -> bool:
    return unicodedata.category(ch).startswith("P")


def split_edge_punctuation(word: str) -> list[str]:
    """``word`` with leading and trailing punctuation split off, one token per run of one mark.

    Punctuation inside the word (``10.17``, ``K-리그``) stays; a word of punctuation only is cut into
    runs of the same mark (``'',`` -> ``''`` ``,``).
    """
    start, end = 0, len(word)
    while start < end and _is_punct(word[start]):
        start += 1
    while end > start and _is_punct(word[end - 1]):
        end -= 1
    runs = lambda s: ["".join(g) for _, g in groupby(s)]  # noqa: E731
    return [*runs(word[:start]), *([word[start:end]] if end > start else []), *runs(word[end:])]


def whitespace_words(text: str) -> list[str]:
    """Whitespace-separated words with edge punctuation split off (PAN-X ko/vi)."""
    return [tok for word in text.split() for tok in split_edge_punctuation(word)]


def _zh_words(text: str) -> list[str]:
    """Han runs cut by pypinyin's mmseg segmenter; other runs as whitespace words."""
    from pypinyin.seg.mmseg import seg as mmseg  # loads pypinyin's phrase table: only when asked

    from cjkv_phon.data.phonemize.scripts import script_of

    out: list[str] = []
    for word in text.split():
        for is_han, run in groupby(word, key=lambda ch: script_of(ch) == "han"):
            piece = "".join(run)
            out.extend(mmseg.cut(piece) if is_han else split_edge_punctuation(piece))
    return out


@lru_cache(maxsize=1)
def _ja_tagger():
    """One fugashi tagger per process (unidic-lite; ~0.1 s to build)."""
    import fugashi

    return fugashi.Tagger()


def _ja_words(text: str) -> list[str]:
    """fugashi + unidic-lite morphemes (surface forms), whitespace dropped."""
    tagger = _ja_tagger()
    return [node.surface for word in text.split() for node in tagger(word) if node.surface.strip()]


_WORDS: dict[str, Callable[[str], list[str]]] = {
    "zh": _zh_words, "ja": _ja_words, "ko": whitespace_words, "vi": whitespace_words,
}


def segmenter(lang: str, tokenization: str) -> Callable[[str], list[str]]:
    """The function that cuts one line of ``lang`` text into tokens under ``tokenization``.

    Raises:
        ValueError: an unknown language or tokenization, listing the valid ones.
    """
    check_choice("language", lang, LANGS)
    check_choice("tokenization", tokenization, TOKENIZATIONS)
    if tokenization == "chars":
        return chars
    if tokenization == "words":
        return _WORDS[lang]
    return str.split
