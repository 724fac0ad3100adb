"""Segment IPA strings into phones with panphon, without losing what panphon cannot parse.

panphon's own ``ipa_segs`` silently drops every character it does not know: the tense mark U+0348
(epitran's Korean ``t͈``), a tie bar after such a mark (``t͈͡ɕ`` comes back as ``t``, ``ɕ``), the
labial-velar ``ŋ͡m`` tie, viphoneme's tone digits and superscript ``ʷ`` after ``w``. For phone
inventories and n-grams we need every symbol, so this module NFD-normalises, asks panphon for the
longest known segment at each position, and attaches what is left the way IPA means it:
combining marks and modifier letters to the segment before them, a tie bar joins its two neighbours,
and a run of tone letters (Chao ``˧˥``) or tone digits is one segment of its own.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

# Tie bars (above U+0361 and below U+035C) join the segments on either side into one.
_TIES = frozenset("\u0361\u035c")
# Chao tone letters; a run of them (or of digits, viphoneme's tone numbers) is one tone segment.
_TONE_LETTERS = frozenset("˥˦˧˨˩")


@lru_cache(maxsize=1)
def _feature_table():
    """The panphon feature table (about 5 s to build: once per process)."""
    import panphon  # imported lazily: phonemizing never needs it, the stats do

    return panphon.FeatureTable()


def _is_tone(ch: str) -> bool:
    return ch in _TONE_LETTERS or ch.isdigit()


def _attaches(ch: str) -> bool:
    """Combining marks (Mn, e.g. U+0348 tense, U+0303 nasal) and modifier letters (Lm: ʰ ʷ ː)."""
    return unicodedata.category(ch) in ("Mn", "Lm")


def ipa_segments(ipa: str) -> list[str]:
    """Split an IPA string into segments; spaces separate words and are dropped.

    Example:
        >>> ipa_segments("t͈͡ɕa")   # tense affricate: U+0348 plus a tie bar
        ['t͈͡ɕ', 'a']
        >>> ipa_segments("in˧˥")
        ['i', 'n', '˧˥']

    Nothing else is dropped: a character panphon does not know becomes a segment of its own, so
    ``"".join(ipa_segments(s)) == unicodedata.normalize("NFD", s)`` with spaces removed.
    """
    table = _feature_table()
    text = unicodedata.normalize("NFD", ipa)
    segs: list[str] = []
    join_next = False
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i, join_next = i + 1, False
            continue
        if _is_tone(ch):
            j = i
            while j < len(text) and _is_tone(text[j]):
                j += 1
            seg = text[i:j]
        elif segs and (ch in _TIES or _attaches(ch)) and not _is_tone(segs[-1][-1]):
            segs[-1] += ch
            join_next = join_next or ch in _TIES
            i += 1
            continue
        else:
            seg = table.longest_one_seg_prefix(text[i:], False) or ch
        if join_next and segs:
            segs[-1] += seg
        else:
            segs.append(seg)
        join_next = False
        i += len(seg)
    return segs
