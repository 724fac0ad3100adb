"""Chinese: hanzi -> numbered pinyin -> IPA (Chao tone letters), in two schemes.

``native``: readings come from pypinyin over the whole sentence, so a polyphone is read from its
phrase (行 is *hang2* in 银行 and *xing2* in 行走; 重 is *zhong4* in 重要, *chong2* in 重复). PAN-X zh
is one character per token and mixes Traditional and Simplified script (SOURCES.md), while pypinyin's
phrase table is Simplified (銀行 alone would read *yin2 xing2*). So the sentence is first folded
character by character to Simplified with OpenCC's ``TSCharacters`` table, using only the characters
that have exactly one Simplified form (乾 -> 干/乾 is left alone), which keeps offsets 1:1. Phrases
(words of two or more characters after pypinyin's segmentation) are read from the folded text; a
character standing alone is read from its original form, so a fold that merges two characters
(髮 fà and 發 fā both -> 发) does not change a single character's reading. Pinyin -> IPA is
dragonmapper's table.

Polyphones are then read in context by g2pM's BiLSTM (:mod:`.polyphone_model`, trained on the CPP
benchmark's train split): at every character the model knows several readings of, its reading
replaces the phrase reading -- unless the character is inside a phrase of two or more characters and
the model's probability is below :data:`PHRASE_TRUST_BELOW` (0.9999), where the phrase table, which
lists whole words, is the better judge. The model reads the folded (Simplified) sentence, and its
reading is kept only if it is one of pypinyin's readings of the character as written (a fold that
merges 髮 and 發 must not lend 髮 the reading fā). In a Traditional sentence (one the fold changed),
a character the fold leaves alone because it has several Simplified forms (於 -> 于 or 於, 乾 -> 干
or 乾, 著 -> 着 or 著) keeps its phrase reading: the model, trained on Simplified text, knows it only
in its Simplified use (於 wū), and read the preposition 於 yú of Traditional PAN-X sentences as wū. Both the rule and the threshold were chosen on the
tune half of CPP dev (``benchmarks/bench_cpp.py`` reports both halves; README table). A text that
is one word of the phrase table, or one character, is read from the table alone: the model, trained
on sentences, reads isolated words worse (了解 alone: le5 at p > 0.9999; zh-hans lexicon, 12,000
words, data layout: PER 1.41% with the model on every input, 1.27% without it on one-word inputs,
1.25% without the model at all; CPP's sentences are never one word).

Tone sandhi of 一 and 不 is applied by rule everywhere (:func:`yi_bu_sandhi`: 不对 bu2, 一样 yi2,
一天 yi4, 第一 yi1), as dictionaries write them in phrases; other tones are citation tones (no
third-tone sandhi).

``paper``: the seed paper's chain, character by character with dragonmapper (its hanzi -> pinyin
gives each character's most frequent reading, so 行 is always *xing2*), then dragonmapper's IPA.

Romanized (both schemes): pinyin with tone numbers, neutral tone 5, ü written ``ü`` (``lü4``, ``le5``),
one syllable per character, a multi-character token's syllables joined without a separator (the tone
digits mark the boundaries). IPA: one dragonmapper syllable per character, joined the same way
(``yin2hang2`` -> ``in˧˥xɑŋ˧˥``). Tones are Chao tone letters (see ``strip_tones``).
A syllable dragonmapper cannot map (interjections such as *m2*, *ng4*, *ê1*) gets the Latin-letter
reading of its pinyin, status ``fallback``; a character with no pinyin at all is ``failed``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from typing import Callable, Sequence

from dragonmapper import hanzi as dm_hanzi
from dragonmapper import transcriptions as dm_trans
from pypinyin import Style, pinyin
from pypinyin.seg.mmseg import seg as mmseg

from cjkv_phon.data.normalize import normalize_tokens
from cjkv_phon.data.phonemize.base import Phonemizer
from cjkv_phon.data.phonemize.latin import latin_to_ipa
from cjkv_phon.data.phonemize.polyphone_model import polyphone_model
from cjkv_phon.data.phonemize.registry import register
from cjkv_phon.data.phonemize.scripts import (STATUS_FALLBACK, STATUS_OK, Piece, combine, failed,
                                              passthrough, script_of, script_pattern)
from cjkv_phon.data.phonemize.tables import opencc_ambiguous, opencc_char_map
from cjkv_phon.data.phonemize.tokens import (PASSTHROUGH_SCRIPTS, Span, TokenwisePhonemizer,
                                             assemble)
from cjkv_phon.data.phonemize.transcription import Transcription

# A numbered pinyin syllable as pypinyin/dragonmapper write it; anything else is "no pinyin".
_NUMBERED = re.compile(r"^[a-zü]+[1-5]?$")


def _no_pinyin(chars: str) -> list[list[str]]:
    """pypinyin ``errors`` callback: one empty reading per character, so outputs stay 1:1."""
    return [[""] for _ in chars]


def _pinyin_of(text: str) -> list[str]:
    """Numbered pinyin per character of ``text`` (``""`` where a character has none)."""
    out = [syl[0] for syl in pinyin(text, style=Style.TONE3, neutral_tone_with_five=True,
                                    v_to_u=True, errors=_no_pinyin)]
    out = [s if _NUMBERED.match(s) else "" for s in out]
    if len(out) == len(text):
        return out
    # pypinyin did not give one reading per character: read the characters one by one instead.
    return [_pinyin_of(c)[0] for c in text] if len(text) > 1 else [""]


# Below this model probability a phrase reading (a word of 2+ characters) wins over the model's.
# Chosen on the tune half of CPP dev (even 0-based lines), accuracy there: 0.5 97.43%, 0.9 97.72%,
# 0.95 97.82%, 0.99 97.82%, 0.999 97.88%, 0.9999 97.90% (best), 1 (phrases always win) 97.17%.
# Isolated words agree (zh-hans lexicon, data layout, 4,000 words: PER 1.25% at 0.95, 1.17% at
# 0.999, 1.15% at 0.9999; 1.12% without the model): 银行行长 keeps háng zhǎng (model: xíng, p 0.97).
PHRASE_TRUST_BELOW = 0.9999
# Read by the sandhi rule, never by the model.
_RULE_READ = frozenset("一不")


@lru_cache(maxsize=None)
def _written_readings(char: str) -> frozenset[str]:
    """Every numbered-pinyin reading pypinyin lists for ``char`` as written (heteronyms)."""
    out = pinyin(char, style=Style.TONE3, heteronym=True, neutral_tone_with_five=True,
                 v_to_u=True, errors=_no_pinyin)
    return frozenset(out[0]) if len(out) == 1 else frozenset()


# Numerals: 一 next to one of these (or after 第) is counted and keeps its citation tone yi1.
_NUMERALS = frozenset("零〇一二三四五六七八九十百千万萬亿億两兩第")


def yi_bu_sandhi(text: str, readings: list[str]) -> list[str]:
    """The tone sandhi of 一 and 不 applied by rule, everywhere (pypinyin's phrase table has it only
    for the phrases it lists: 不对 bu2 but 不去 bu4, 一样 yi1).

    不 is bu2 before a 4th tone, else bu4; 一 is yi2 before a 4th (or neutral) tone and yi4 before
    tones 1-3, except when counted (next to a numeral, after 第) or with no syllable after it: yi1.
    The convention of Mandarin dictionaries' phrase entries (ipa-dict: 一样 i˧˥jɑŋ˥˩); third-tone
    sandhi is not applied (citation tones).
    """
    out = list(readings)
    for i, char in enumerate(text):
        if char not in "一不" or not out[i]:
            continue
        nxt = out[i + 1] if i + 1 < len(out) else ""
        tone = nxt[-1] if nxt[-1:].isdigit() else ""
        if char == "不":
            out[i] = "bu2" if tone == "4" else "bu4"
            continue
        counted = (i and text[i - 1] in _NUMERALS) or (i + 1 < len(text) and text[i + 1] in _NUMERALS)
        if counted or not tone:
            out[i] = "yi1"
        else:
            out[i] = "yi2" if tone in "45" else "yi4"
    return out


def syllable_piece(syllable: str) -> Piece:
    """One numbered pinyin syllable as IPA (``ok``), or its Latin-letter reading (``fallback``)."""
    try:
        return Piece(dm_trans.pinyin_syllable_to_ipa(syllable), syllable, STATUS_OK)
    except ValueError:
        return Piece(latin_to_ipa(syllable), syllable, STATUS_FALLBACK)


def _memoise(func: Callable[[str], object], cache: bool) -> Callable[[str], object]:
    """``func`` with an unbounded per-instance cache when caching is on (units repeat a lot)."""
    return lru_cache(maxsize=None)(func) if cache else func


@dataclass(frozen=True)
class _Phrases:
    """A sentence's phrase readings (filled in place by the model) and where its phrases are."""

    readings: list[str]
    in_phrase: list[bool]
    one_word: bool  # the whole text is one word of the phrase table (or one character)


@register("native", "zh")
class NativeZh(Phonemizer):
    """Phrase-aware pypinyin readings over the whole sentence, then dragonmapper IPA."""

    def __init__(self, cache: bool = True, context_model: bool = True) -> None:
        super().__init__(cache)
        # False: phrase readings only (the reading before the model; bench_cpp.py's comparison).
        self.context_model = context_model
        self._prefetched: dict[str, list[str]] = {}  # text -> readings, during transcribe_many
        self._fold = opencc_char_map("TSCharacters.txt")
        # Traditional characters with several Simplified forms, left unfolded (see _read_polyphones).
        self._unfoldable = opencc_ambiguous("TSCharacters.txt")
        self._phrase = _memoise(_pinyin_of, cache)
        self._syllable = _memoise(syllable_piece, cache)
        self._piece = lru_cache(maxsize=None)(self._char_piece) if cache else self._char_piece

    def versions(self) -> dict[str, str]:
        names = ("pypinyin", "dragonmapper", "opencc-python-reimplemented")
        return {name: metadata.version(name)
                for name in (*names, "g2pM", "torch")[:len(names) + 2 * self.context_model]}

    def _transcribe(self, tokens: tuple[str, ...]) -> Transcription:
        """Read the joined sentence, then give each character's syllable back to its token."""
        text = "".join(tokens)
        readings = self._prefetched.get(text) or self.readings(text)
        spans: list[Span] = [(i, i + 1, self._piece(char, syllable))
                             for i, (char, syllable) in enumerate(zip(text, readings))]
        return assemble(tokens, spans)

    def transcribe_many(self, sentences: Sequence[Sequence[str]]) -> list[Transcription]:
        """Each sentence's :meth:`transcribe`, with the polyphone model run once for the batch.

        The readings of every sentence are computed together (:meth:`readings_many`), then each
        sentence goes through :meth:`transcribe` as usual, which finds its readings ready.
        """
        texts = ["".join(normalize_tokens(tuple(tokens))[0]) for tokens in sentences]
        self._prefetched = dict(zip(texts, self.readings_many(texts)))
        try:
            return [self.transcribe(tokens) for tokens in sentences]
        finally:
            self._prefetched = {}

    def readings(self, text: str) -> list[str]:
        """Numbered pinyin per character of a sentence, in context (``""``: no pinyin).

        Example:
            >>> NativeZh().readings("去銀行")
            ['qu4', 'yin2', 'hang2']
        """
        return self.readings_many([text])[0]

    def readings_many(self, texts: Sequence[str]) -> list[list[str]]:
        """:meth:`readings` of several sentences, the polyphone model run once for all of them.

        Phrase readings first: each run of hanzi is segmented by pypinyin's own maximum-matching
        segmenter (what ``pypinyin.pinyin`` does inside, without its slower per-character script
        split); then the polyphone model (module docstring); then the sandhi of 一 and 不.
        """
        folded = [text.translate(self._fold) for text in texts]
        phrases = [self._phrase_readings(text, fold) for text, fold in zip(texts, folded)]
        if self.context_model:
            self._read_polyphones(texts, folded, phrases)
        return [yi_bu_sandhi(fold, p.readings) for fold, p in zip(folded, phrases)]

    def _phrase_readings(self, text: str, folded: str) -> "_Phrases":
        """Phrase readings per character, which characters are inside a phrase of 2+ characters,
        and whether the whole text is one word of the phrase table (or one character)."""
        out = [""] * len(text)
        in_phrase = [False] * len(text)
        words = 0
        for run in script_pattern("han").finditer(folded):
            pos = run.start()
            for word in mmseg.cut(run.group()):
                # A phrase is read folded; a lone character from its original form (see module doc).
                out[pos:pos + len(word)] = self._phrase(word if len(word) > 1 else text[pos])
                in_phrase[pos:pos + len(word)] = [len(word) > 1] * len(word)
                pos += len(word)
                words += 1
        one_word = words == 1 and len(folded) == sum(map(len, script_pattern("han").findall(folded)))
        return _Phrases(out, in_phrase, one_word)

    def _read_polyphones(self, texts: Sequence[str], folded: Sequence[str],
                         phrases: Sequence["_Phrases"]) -> None:
        """Replace phrase readings of polyphones by the model's where it is trusted (module doc)."""
        model = polyphone_model()
        targets = [(s, i) for s, (fold, p) in enumerate(zip(folded, phrases)) if not p.one_word
                   for i, c in enumerate(fold) if p.readings[i] and c not in _RULE_READ
                   and model.is_polyphone(c)
                   and not (c in self._unfoldable and fold != texts[s])]
        for (s, i), (reading, prob) in zip(targets, model.predict(folded, targets)):
            p = phrases[s]
            if p.in_phrase[i] and prob < PHRASE_TRUST_BELOW:
                continue
            if reading in _written_readings(texts[s][i]):
                p.readings[i] = reading

    def _char_piece(self, char: str, syllable: str) -> Piece:
        script = script_of(char)
        if script != "han":
            return passthrough(char) if script in PASSTHROUGH_SCRIPTS else failed(char)
        return self._syllable(syllable) if syllable else failed(char)


@register("paper", "zh")
class PaperZh(TokenwisePhonemizer):
    """The seed paper's chain: dragonmapper hanzi -> pinyin -> IPA, one character at a time."""

    own_scripts = frozenset({"han"})

    def __init__(self, cache: bool = True) -> None:
        super().__init__(cache)
        # Tokens are memoised whole; multi-character words (UDPOS) share their characters, so the
        # dragonmapper lookup (the costly step) is memoised per character too.
        self._char = _memoise(self._char_uncached, cache)

    def versions(self) -> dict[str, str]:
        return {"dragonmapper": metadata.version("dragonmapper")}

    def _run(self, text: str) -> Piece:
        return combine(self._char(c) for c in text)

    @staticmethod
    def _char_uncached(char: str) -> Piece:
        syllable = dm_hanzi.to_pinyin(char, accented=False)
        return syllable_piece(syllable) if _NUMBERED.match(syllable) else failed(char)
