"""Input normalisation of tokens: Unicode NFC, which also composes conjoining Hangul jamo.

Why one function: the same text can arrive in several code-point spellings. Korean in decomposed form
(NFD, as macOS file names and some scrapers write it) or as conjoining jamo (U+1100 ᄒ + U+1161 ᅡ +
U+11AB ᆫ) is the syllable 한 to a reader but not to a phonemizer's table, which then copies the raw
jamo through as "IPA"; Vietnamese tone marks may be precomposed (ộ) or combining (ô + U+0323); kana
with a combining voicing mark (か + U+3099) is が. NFC (canonical composition) turns each of these into
its one precomposed form, and composes every well-formed leading-consonant + vowel (+ final) jamo
sequence into its Hangul syllable (the Unicode Hangul composition algorithm is part of NFC). NFC
never changes what the text means (canonical equivalence), unlike NFKC, which would fold full-width
letters and compatibility ideographs.

Every reader (XTREME TSV, CoNLL-U, the hub) passes each token through :func:`normalize_token`
before a sentence is made, and counts how many tokens it changed (``ReadResult.normalised``, shown in
the build report and the file metadata); every phonemizer applies it again at its one entry point,
:meth:`~cjkv_phon.data.phonemize.base.Phonemizer.transcribe`, so callers that bypass the readers
(``cjkv phonemize``, the dictionaries) get the same normalisation. On text already in NFC it is a
cheap check (``unicodedata.is_normalized``).
"""

from __future__ import annotations

import unicodedata

FORM = "NFC"


def normalize_token(token: str) -> str:
    """``token`` in NFC: ``normalize_token("\\u1112\\u1161\\u11ab") == "한"``."""
    if unicodedata.is_normalized(FORM, token):
        return token
    return unicodedata.normalize(FORM, token)


def normalize_tokens(tokens: tuple[str, ...] | list[str]) -> tuple[tuple[str, ...], int]:
    """Every token normalised, and how many of them changed."""
    out = tuple(normalize_token(t) for t in tokens)
    return out, sum(a != b for a, b in zip(tokens, out))
