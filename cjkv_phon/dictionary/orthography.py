"""Is a dictionary word written in its language's script and orthography? (the pivot noise filter)

MUSE's CJKV sides hold many English words copied as they are, so the English pivot yields entries
such as 高潮 -> ``orgasm`` or 萵苣 -> ``lettuce`` whose "Vietnamese" side is the pivot word itself:
48.9% of zh->vi before this filter. ``pivot.pivot`` drops (unless ``keep_noise``) target words that

* equal one of their English pivots (case-insensitively), or
* are not written in the target language's orthography (``in_orthography``):

  - zh: every character is a Han ideograph;
  - ja: Han, hiragana, katakana, the long-vowel mark ``ー`` and the iteration mark ``々``;
  - ko: Hangul syllables;
  - vi: every space- or hyphen-separated syllable is a well-formed Vietnamese syllable: an optional
    onset from the Vietnamese alphabet's initials, 1-3 vowel letters, an optional final from
    ``c ch m n ng nh p t`` (tone marks ignored). This rejects English words in Latin script
    (``lettuce``, ``violin``, ``plug``: clusters and finals Vietnamese spelling does not have, letters
    f j w z) while keeping every native syllable; a loanword in Vietnamese spelling (``ga``) stays,
    a loanword written the foreign way (``sulfat``, ``mêtan`` written as one word) goes.
"""

from __future__ import annotations

import re
import unicodedata

# Vietnamese tone marks (grave, acute, tilde, hook above, dot below); the vowel-quality marks
# (circumflex U+0302, breve U+0306, horn U+031B) stay, since they make different letters.
_VI_TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")
_VI_SYLLABLE = re.compile(
    r"(ngh|ng|gh|gi|kh|nh|ph|qu|th|tr|ch|[bcdđghklmnprstvx])?"
    r"[aăâeêioôơuưy]{1,3}"
    r"(ch|ng|nh|[cmnpt])?")


def _strip_vi_tone(syllable: str) -> str:
    decomposed = unicodedata.normalize("NFD", syllable)
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if ch not in _VI_TONE_MARKS))


def is_vietnamese_word(word: str) -> bool:
    """Every syllable of ``word`` (split at spaces and hyphens) is a well-formed Vietnamese syllable."""
    syllables = [s for s in re.split(r"[\s\-]+", word.strip().lower()) if s]
    return bool(syllables) and all(_VI_SYLLABLE.fullmatch(_strip_vi_tone(s)) for s in syllables)


def _is_han(ch: str) -> bool:
    cp = ord(ch)
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x3134F
            or 0xF900 <= cp <= 0xFAFF)


def _is_kana(ch: str) -> bool:
    return 0x3040 <= ord(ch) <= 0x30FF or ch in "ー々"


def _is_hangul(ch: str) -> bool:
    return 0xAC00 <= ord(ch) <= 0xD7A3


def in_orthography(lang: str, word: str) -> bool:
    """Whether ``word`` is written in ``lang``'s script / orthography (rules in the module doc)."""
    chars = [ch for ch in word if not ch.isspace()]
    if not chars:
        return False
    if lang == "vi":
        return is_vietnamese_word(word)
    if lang == "zh":
        return all(_is_han(ch) for ch in chars)
    if lang == "ja":
        return all(_is_han(ch) or _is_kana(ch) for ch in chars)
    if lang == "ko":
        return all(_is_hangul(ch) for ch in chars)
    raise ValueError(f"no orthography rule for language {lang!r}")
