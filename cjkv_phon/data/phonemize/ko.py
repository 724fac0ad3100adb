"""Korean: Hangul -> IPA with pronunciation rules, and Revised Romanization, in two schemes.

``native``: epitran's ``kor-Hang`` map, whose post-processing rules follow the National Institute of
Korean Language's Standard Pronunciation rulebook (its ``post/kor-Hang.txt`` cites the article of
each rule). Covered there: coda neutralisation (닭 [tak]), liaison of a coda onto a following null
onset (한국어 [hankukʌ]), nasal assimilation (국민 [kuŋmin]), lateralisation (신라 -> [silla]),
palatalisation (같이 [kat͡ɕʰi]), ㅎ aspiration and deletion (좋다 [t͡ɕotʰa], 많이 [mani]) and
tensification after obstruents (읽다 [ikt͈a]). Not covered (they need morphology or a dictionary,
epitran excludes them): n-insertion (솜이불 [somnibul]), tensification across compound boundaries.
Three epitran rules that cannot tell a coda from an onset (ㅎ deletion #12-4, palatalisation #17)
are switched off and applied on syllables instead, with #5 (져 -> 저) and post-nasal tensing of a
verb stem before 다 (#24), by :mod:`~cjkv_phon.data.phonemize.ko_rules` before the map. We add
allophones epitran leaves out, from ``resources/phonemize/ko_allophones.csv``: ㅅ/ㅆ are
alveolo-palatal [ɕ]/[ɕ͈] before i and j (신라 [ɕilla]); ㅎ between voiced sounds is [ɦ]; ㅢ after a
consonant is [i] (희망 [himaŋ]). Rules apply within a token: Korean tokens
are eojeol (space-separated words), and sound changes across spaces are optional in speech.
Korean has no lexical tones.

``paper``: the seed paper's chain, korean-romanizer's Revised Romanization read as Latin text.

Romanized (both schemes): korean-romanizer (Revised Romanization with its own pronunciation rules).
korean-romanizer raises ``KeyError`` on a syllable with a ㄶ or ㅀ coda followed by anything but a
Hangul syllable (``않ㄱ``, or punctuation); such a run is romanized syllable by syllable instead,
status ``fallback``. Mixed tokens (``K리그``, ``FC에서``) keep their Latin part as written and
transcribe the Hangul part; Hanja inside Korean text (關東地方) are read as Sino-Korean through the
``hanja`` package's table and this phonemizer (status ``fallback``, see ``routing.py``).
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import metadata

from jamo import h2j, j2hcj
from korean_romanizer.romanizer import Romanizer

from cjkv_phon.data.phonemize.epitran_engine import FastEpitran
from cjkv_phon.data.phonemize.ko_rules import EPITRAN_RULES_OFF, apply_spelling_rules
from cjkv_phon.data.phonemize.latin import latin_to_ipa
from cjkv_phon.data.phonemize.registry import register
from cjkv_phon.data.phonemize.routing import hanja_version
from cjkv_phon.data.phonemize.scripts import STATUS_FALLBACK, STATUS_OK, Piece, failed
from cjkv_phon.data.phonemize.tables import read_table, table_path
from cjkv_phon.data.phonemize.tokens import TokenwisePhonemizer
from cjkv_phon.errors import InputError


@lru_cache(maxsize=1)
def allophone_rules() -> tuple[tuple[re.Pattern[str], str], ...]:
    """The (pattern, replacement) rules of ``ko_allophones.csv``, applied in file order."""
    rules = []
    rows = read_table("ko_allophones.csv", ("pattern", "replacement"), ("note",))
    for line, row in enumerate(rows, start=2):
        try:
            rules.append((re.compile(row["pattern"]), row["replacement"]))
        except re.error as err:
            raise InputError(f"bad regex: {err}", table_path("ko_allophones.csv"), line,
                             row["pattern"]) from err
    return tuple(rules)


def apply_allophones(ipa: str) -> str:
    """epitran's IPA with our allophone rules applied: ``"silla"`` -> ``"ɕilla"``."""
    for pattern, replacement in allophone_rules():
        ipa = pattern.sub(replacement, ipa)
    return ipa


@lru_cache(maxsize=None)
def compat_jamo(char: str) -> str:
    """One Hangul character as compatibility jamo (신 -> ㅅㅣㄴ), the input of epitran's kor-Hang map."""
    return j2hcj(h2j(char))


def romanize(hangul: str) -> tuple[str, str]:
    """Revised Romanization of a Hangul run and its status (``fallback`` after the KeyError guard)."""
    try:
        return Romanizer(hangul).romanize(), STATUS_OK
    except KeyError:
        # A ㄶ/ㅀ coda before a non-syllable: each syllable alone romanizes fine.
        return "".join(_romanize_one(ch) for ch in hangul), STATUS_FALLBACK


def _romanize_one(syllable: str) -> str:
    try:
        return Romanizer(syllable).romanize() or syllable
    except KeyError:
        return syllable


@register("native", "ko")
class NativeKo(TokenwisePhonemizer):
    """epitran ``kor-Hang`` (Standard Pronunciation rules) + our allophones; korean-romanizer RR."""

    own_scripts = frozenset({"hangul"})

    def __init__(self, cache: bool = True) -> None:
        super().__init__(cache)
        # epitran's map-and-rules engine without the panphon feature table we never use (~4 s and
        # ~100 MB per instance) and with rules skipped where they cannot match (same output).
        self._epitran = FastEpitran("kor-Hang")
        # Rules that epitran applies to onsets as well as codas, applied on syllables instead.
        dropped = self._epitran.drop_post_rules(EPITRAN_RULES_OFF)
        if dropped != len(EPITRAN_RULES_OFF):
            raise RuntimeError(f"epitran kor-Hang: expected to switch off {len(EPITRAN_RULES_OFF)} "
                               f"rules, found {dropped}; check the epitran version")

    def versions(self) -> dict[str, str]:
        return {**{name: metadata.version(name) for name in ("epitran", "korean-romanizer")},
                "hanja": hanja_version()}

    def _run(self, text: str) -> Piece:
        ipa = apply_allophones(self._transliterate(apply_spelling_rules(text)))
        if not ipa:
            return failed(text)
        romanized, status = romanize(text)
        return Piece(ipa, romanized, status)

    def _transliterate(self, text: str) -> str:
        """epitran's IPA for a Hangul run.

        ``SimpleEpitran.transliterate`` first turns the whole word into compatibility jamo with the
        jamo package (about a third of its time), then runs its map and rules (``general_trans``).
        The conversion is character by character, so with caching on we take each syllable's jamo
        from a cache and call ``general_trans`` ourselves; the result is identical (tested).
        """
        if not self.cache or not any("\uac00" <= c <= "\ud7a3" for c in text):
            return self._epitran.transliterate(text)
        return self._epitran.general_trans("".join(map(compat_jamo, text)), lambda _: True)


@register("paper", "ko")
class PaperKo(TokenwisePhonemizer):
    """The seed paper's chain: korean-romanizer, then the romanization read as Latin text."""

    own_scripts = frozenset({"hangul"})

    def versions(self) -> dict[str, str]:
        return {"korean-romanizer": metadata.version("korean-romanizer")}

    def _run(self, text: str) -> Piece:
        romanized, status = romanize(text)
        return Piece(latin_to_ipa(romanized), romanized, status)
