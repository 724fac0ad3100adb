"""Vietnamese: spelling -> IPA with viphoneme's syllable converter, Hanoi reading, tone numbers.

viphoneme's public functions are unusable here: ``vi2IPA`` spawns a subprocess per call and writes
inside site-packages (~39 tokens/s), and importing the package at all fails without ``vinorm`` and
``underthesea`` (its text normaliser and word segmenter, imported at the top of ``T2IPA.py`` though
``T2IPA`` never uses them) and uses the ``imp`` module removed in Python 3.12. Its converter proper,
``convert(word, dialect, glottal, pham, cao, palatals, delimit)``, is pure Python and sits above those
imports, so :func:`viphoneme_convert` compiles just that part of ``viphoneme/T2IPA.py`` from the
installed package (found with ``importlib.util.find_spec``, which does not run the package) and calls
it with ``T2IPA``'s own settings: Northern dialect, tones as numbers 1-6 (1 ngang, 2 huyền, 3 ngã,
4 hỏi, 5 sắc, 6 nặng), e.g. ``việt`` -> ``viət6``.

Dialect (``native``): ``hanoi`` by default, the standard the lexicons and most speakers follow:
viphoneme's Northern reading keeps tr/ch, s/x and r/d/gi apart, which Hanoi merges (tr = ch [c],
s = x [s], r = d = gi [z]), and misreads some rhymes (eo, êu, ưu, iê after y/u, gi + iê, gì); the
table ``resources/phonemize/vi_hanoi.csv`` rewrites each syllable's IPA (tones untouched).
``NativeVi(dialect="northern")`` keeps viphoneme's reading as it is.

``native``: the token is NFC-normalised (PAN-X mixes ``hoà``/``hòa`` tone placements; both decode the
same) and lower-cased. A token that is several syllables written together (UDPOS vi removes the
spaces inside words: ``chiếntranh``) is split into the fewest valid syllables by dynamic programming
(``chiến`` + ``tranh``), syllable IPA joined without a separator (the tone digits mark the edges).
A Latin word that is not Vietnamese (``Barcelona``, ``FC``) is read with the Latin-letter table,
status ``fallback``.

``paper``: ``T2IPA``'s own per-word behaviour, as the seed paper's pipeline would see a token: strip
punctuation, lower-case, convert; a word it cannot parse (joined syllables, foreign words) comes
back as ``[word]`` from viphoneme, which we record as ``failed`` (the field holds the spelling).

Romanized (both schemes): the spelling itself, NFC-normalised.
"""

from __future__ import annotations

import importlib.util
import re
import unicodedata
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from string import punctuation
from typing import Callable

from cjkv_phon.data.phonemize.latin import latin_to_ipa
from cjkv_phon.data.phonemize.registry import register
from cjkv_phon.data.phonemize.scripts import STATUS_FALLBACK, STATUS_OK, Piece, failed
from cjkv_phon.data.phonemize.tables import read_table, table_path
from cjkv_phon.data.phonemize.tokens import TokenwisePhonemizer
from cjkv_phon.errors import InputError, check_choice

# T2IPA's settings: Northern dialect, no glottal onset, "pham" tone numbers, no palatal codas.
_DIALECT, _GLOTTAL, _PHAM, _CAO, _PALATALS, _DELIMIT = "n", 0, 1, 0, 0, ""
# The first line of T2IPA.py that needs the missing packages; everything above it is the converter.
_CUT_AT = "from vinorm import"
_MAX_SYLLABLE = 8  # letters in the longest Vietnamese syllable (nghiêng has 7)
# Combining tone marks: grave (huyền), acute (sắc), hook (hỏi), tilde (ngã), dot below (nặng).
_TONE_MARKS = frozenset("\u0300\u0301\u0309\u0303\u0323")
_VOWEL_LETTERS = frozenset("aăâeêioôơuưy")


@lru_cache(maxsize=1)
def viphoneme_convert() -> Callable[..., str]:
    """viphoneme's ``convert`` function, compiled from its source without its broken imports."""
    spec = importlib.util.find_spec("viphoneme")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("viphoneme is not installed")
    path = Path(list(spec.submodule_search_locations)[0]) / "T2IPA.py"
    source = path.read_text(encoding="utf-8")
    if _CUT_AT not in source:
        raise ImportError(f"{path}: layout changed ({_CUT_AT!r} not found); check viphoneme's version")
    namespace: dict[str, object] = {}
    exec(compile(source[:source.index(_CUT_AT)], str(path), "exec"), namespace)  # noqa: S102
    return namespace["convert"]  # type: ignore[return-value]


def syllable_ipa(syllable: str) -> str | None:
    """IPA of one lower-case syllable (``"việt"`` -> ``"viət6"``), None if it is not Vietnamese."""
    ipa = viphoneme_convert()(syllable, _DIALECT, _GLOTTAL, _PHAM, _CAO, _PALATALS, _DELIMIT)
    return None if not ipa or ipa.startswith("[") else ipa


def split_syllables(word: str, read: Callable[[str], str | None]) -> list[str] | None:
    """IPA of ``word`` as the fewest Vietnamese syllables (``chiếntranh`` -> 2), or None."""
    best: list[list[str] | None] = [None] * (len(word) + 1)
    best[0] = []
    for end in range(1, len(word) + 1):
        for start in range(max(0, end - _MAX_SYLLABLE), end):
            prefix = best[start]
            if prefix is None or (best[end] is not None and len(best[end]) <= len(prefix) + 1):
                continue
            ipa = read(word[start:end])
            if ipa is not None:
                best[end] = [*prefix, ipa]
    return best[-1]


@lru_cache(maxsize=1)
def hanoi_rules() -> tuple[tuple[re.Pattern[str], str], ...]:
    """The (pattern, replacement) rows of ``vi_hanoi.csv``, applied in file order to a syllable."""
    rules = []
    for line, row in enumerate(read_table("vi_hanoi.csv", ("pattern", "replacement"), ("note",)),
                               start=2):
        try:
            rules.append((re.compile(row["pattern"]), row["replacement"]))
        except re.error as err:
            raise InputError(f"bad regex: {err}", table_path("vi_hanoi.csv"), line,
                             row["pattern"]) from err
    return tuple(rules)


def _base_letters(syllable: str) -> str:
    """``syllable`` without its tone marks (vowel-quality marks kept): ``giếng`` -> ``giêng``."""
    decomposed = unicodedata.normalize("NFD", syllable)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONE_MARKS))


def hanoi_syllable_ipa(syllable: str) -> str | None:
    """IPA of one lower-case syllable in the Hanoi reading (``"trang"`` -> ``"caŋ1"``), or None.

    viphoneme's Northern reading with the Hanoi mergers and rhyme fixes of ``vi_hanoi.csv``; gi
    before iê or a lone i (``giếng``, ``gì``) is the onset z plus that rhyme (viphoneme drops the i
    of iê and reads gì as ɣi).
    """
    base = _base_letters(syllable)
    if base.startswith("gi") and (base[2:3] in ("", "ê") or base[2:3] not in _VOWEL_LETTERS):
        rest = syllable_ipa(syllable[1:])
        ipa = "z" + rest if rest is not None else syllable_ipa(syllable)
    else:
        ipa = syllable_ipa(syllable)
    if ipa is None:
        return None
    for pattern, replacement in hanoi_rules():
        ipa = pattern.sub(replacement, ipa)
    return ipa


# Dialect name -> syllable reader. ``northern`` is viphoneme's reading as it is (kept by name).
DIALECTS: dict[str, Callable[[str], str | None]] = {"hanoi": hanoi_syllable_ipa,
                                                    "northern": syllable_ipa}
DEFAULT_DIALECT = "hanoi"


@register("native", "vi")
class NativeVi(TokenwisePhonemizer):
    """viphoneme syllables (with joined-syllable splitting), Latin-letter fallback for foreign words.

    Args:
        dialect: ``hanoi`` (the default: the standard, merging tr/ch, s/x, r/d/gi) or ``northern``
            (viphoneme's reading as it is, which keeps them apart).
    """

    own_scripts = frozenset({"latin"})

    def __init__(self, cache: bool = True, dialect: str = DEFAULT_DIALECT) -> None:
        super().__init__(cache)
        check_choice("Vietnamese dialect", dialect, tuple(DIALECTS))
        self.dialect = dialect
        read = DIALECTS[dialect]
        self._syllable = lru_cache(maxsize=None)(read) if cache else read
        viphoneme_convert()  # fail at construction, not at the first sentence

    def versions(self) -> dict[str, str]:
        return {"viphoneme": metadata.version("viphoneme"), "dialect": self.dialect}

    def _run(self, text: str) -> Piece:
        spelling = unicodedata.normalize("NFC", text)
        syllables = split_syllables(spelling.lower(), self._syllable)
        if syllables is None:
            return Piece(latin_to_ipa(spelling), spelling, STATUS_FALLBACK)
        return Piece("".join(syllables), spelling, STATUS_OK)


@register("paper", "vi")
class PaperVi(TokenwisePhonemizer):
    """viphoneme ``T2IPA`` per token as the seed paper would call it (no splitting, no fallback)."""

    own_scripts = frozenset({"latin"})

    def __init__(self, cache: bool = True) -> None:
        super().__init__(cache)
        viphoneme_convert()

    def versions(self) -> dict[str, str]:
        return {"viphoneme": metadata.version("viphoneme")}

    def _run(self, text: str) -> Piece:
        spelling = unicodedata.normalize("NFC", text)
        ipa = syllable_ipa(spelling.strip(punctuation).lower())
        return Piece(ipa, spelling, STATUS_OK) if ipa else failed(spelling)
