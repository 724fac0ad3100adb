"""Which characters an IPA transcription may hold, and the invariant that only IPA is ever ``ok``.

A phonemizer that cannot read a character tends to copy it: a small kana standing alone, Hangul the
jamo table missed, a kanji without a reading. Such a token must not be labelled ``ok``. This module
decides by character, the same for every language and phonemizer:

* IPA: lower-case ASCII letters (all 26 are IPA letters), IPA Extensions (U+0250-02AF), spacing
  modifier letters (U+02B0-02FF: ʰ ʲ ː and the Chao tone letters ˥-˩), combining diacritics
  (U+0300-036F), phonetic extensions (U+1D00-1DBF: ᵝ), the letters IPA borrows from Latin-1 and
  Greek (æ ç ð ø œ ħ ŋ β θ χ ...), and, for Vietnamese only, viphoneme's tone digits 1-6 (the
  data's tone convention, ``resources/phonemize/tones.csv``);
* anything else is not IPA: kana, Hangul, Han, Latin capitals and letters outside that set (é, đ),
  other digits, punctuation, symbols.

:func:`enforce` applies the invariant to one token: an ``ok`` transcription holding CJK characters
(kana, Hangul, Han: the orthography leaked through) becomes ``failed`` with the orthography in both
fields; an ``ok`` one holding other non-IPA letters (a Latin part copied through inside a mixed
token, ``K리그``) becomes ``fallback``. Digits, punctuation and symbols copied from a passed-through
part of a token (``많.``, ``2009年``: the project's digit convention, ``scripts.py``) do not claim a
sound and do not lower the status; they are never counted as phones either. ``fallback`` (already says part of the token took a
weaker route, e.g. one unreadable kanji in a word), ``passthrough`` and ``failed`` are left as they
are: they do not claim the field is all IPA, and ``cjkv stats`` counts only IPA segments.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from cjkv_phon.data.phonemize.scripts import (STATUS_FAILED, STATUS_FALLBACK, STATUS_OK, Piece,
                                              script_of)

_RANGES = ((0x0250, 0x02AF), (0x02B0, 0x02FF), (0x0300, 0x036F), (0x1D00, 0x1DBF))
# Latin-1, Latin Extended and Greek letters used as IPA symbols.
_BORROWED = frozenset("æçðøœħŋβθχǀǁǂǃ")
_CJK = frozenset({"han", "kana", "hangul"})
_TONE_DIGITS = {"vi": frozenset("123456")}


@lru_cache(maxsize=65536)
def is_ipa_char(ch: str, lang: str = "") -> bool:
    """Whether ``ch`` may appear in an IPA transcription of ``lang``."""
    if "a" <= ch <= "z" or ch in _BORROWED or ch in _TONE_DIGITS.get(lang, ()):
        return True
    cp = ord(ch)
    return any(a <= cp <= b for a, b in _RANGES)


def non_ipa(text: str, lang: str = "") -> str:
    """The characters of ``text`` (NFD) that are not IPA, in order (``""`` when all are)."""
    return "".join(ch for ch in unicodedata.normalize("NFD", text) if not is_ipa_char(ch, lang))


def is_ipa(text: str, lang: str = "") -> bool:
    """``text`` is non-empty and every character of it is IPA."""
    return bool(text) and not non_ipa(text, lang)


@lru_cache(maxsize=1 << 18)
def classify(ipa: str, lang: str) -> str:
    """``"ipa"``, ``"cjk"`` (holds kana, Hangul or Han, or is empty) or ``"other"`` (other non-IPA).

    Cached: the same transcriptions recur constantly, and this runs on every token.
    """
    bad = unicodedata.normalize("NFC", non_ipa(ipa, lang))
    if not ipa or any(script_of(ch) in _CJK for ch in bad):
        return "cjk"
    # Digits, punctuation and symbols copied from a passed-through run (``많.``, ``2009년``) are
    # not letters that claim a sound; a Latin letter outside IPA (``K`` in ``K리그``) is.
    return "other" if any(unicodedata.category(ch)[0] in "LM" for ch in bad) else "ipa"


def enforce(token: str, piece: Piece, lang: str) -> Piece:
    """``piece`` with its status made true to its content (module docstring)."""
    if piece.status != STATUS_OK:
        return piece
    kind = classify(piece.ipa, lang)
    if kind == "ipa":
        return piece
    if kind == "cjk":
        return Piece(token, token, STATUS_FAILED)
    return Piece(piece.ipa, piece.romanized, STATUS_FALLBACK)


def non_ipa_ok(ipa_values: list[str], lang: str) -> list[str]:
    """The distinct transcriptions among ``ipa_values`` (of ``ok`` tokens) that are not all IPA."""
    return sorted(v for v in set(ipa_values) if classify(v, lang) != "ipa")
