"""Per-language lookup conventions and Traditional/Simplified script folding.

MUSE zh is Traditional while PAN-X zh mixes Traditional and Simplified sentences (SOURCES.md), so an
exact lookup misses every Simplified word. Folding maps both dictionary keys and sentence text to one
script; entries keep their original form, only the lookup key is folded.

Folding is done character by character (OpenCC ``t2s`` on each character, cached): it is context-free
and length-preserving, so a key folds the same way whether it is seen as one word or as the
one-character tokens of a PAN-X sentence. Phrase-level conversion would fold ``乾燥`` and the tokens
``乾`` ``燥`` differently and break span matching. The conventions per language (tokenisation, which
fold, case folding) live in ``resources/dictionary_languages.csv``; Japanese is deliberately not
folded (shinjitai are neither Traditional nor Simplified).
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Callable, Iterable, Sequence

import hanzidentifier
import opencc

from cjkv_phon.errors import InputError
from cjkv_phon.schema import LANGS

_TABLE = "dictionary_languages.csv"
_TOKENISE = ("chars", "whitespace")
_CASEFOLD = ("lower", "keep")
# Script folds by name -> OpenCC configuration; "none" is the identity.
_OPENCC_CONFIGS = {"t2s": "t2s"}
_SCRIPT_FOLDS = ("none", *_OPENCC_CONFIGS)
# hanzidentifier's result constants, named for reports.
SCRIPT_NAMES: dict[int, str] = {
    hanzidentifier.TRADITIONAL: "traditional",
    hanzidentifier.SIMPLIFIED: "simplified",
    hanzidentifier.BOTH: "both",
    hanzidentifier.MIXED: "mixed",
    hanzidentifier.UNKNOWN: "unknown",
}


@dataclass(frozen=True)
class LangConvention:
    """How one language's dictionary words are tokenised and normalised for lookup.

    Attributes:
        lang: XTREME language code.
        tokenise: ``chars`` (one token per character) or ``whitespace``.
        script_fold: ``none`` or an OpenCC conversion name such as ``t2s``.
        casefold: ``lower`` to ignore letter case in lookups, ``keep`` otherwise.
    """

    lang: str
    tokenise: str
    script_fold: str
    casefold: str

    @property
    def joiner(self) -> str:
        """String that joins this language's tokens back into a word (``""`` for characters)."""
        return "" if self.tokenise == "chars" else " "

    def tokens(self, word: str) -> tuple[str, ...]:
        """Split a dictionary word the way the language's datasets tokenise it."""
        return tuple(word) if self.tokenise == "chars" else tuple(word.split())


def _parse_row(row: dict[str, str], line: int, where: str) -> LangConvention:
    """Validate one CSV row; a bad value raises InputError naming the line."""
    checks = (("lang", LANGS), ("tokenise", _TOKENISE), ("script_fold", _SCRIPT_FOLDS),
              ("casefold", _CASEFOLD))
    for column, valid in checks:
        value = row.get(column)
        if value not in valid:
            raise InputError(f"column {column!r} must be one of {list(valid)}", where, line, value)
    return LangConvention(row["lang"], row["tokenise"], row["script_fold"], row["casefold"])


def parse_conventions(text: str, where: str) -> dict[str, LangConvention]:
    """Parse and check the conventions CSV (``#`` lines are comments); errors name the line.

    Raises:
        InputError: a row has an unknown value, a language is listed twice or missing.
    """
    numbered = [(n, line) for n, line in enumerate(text.splitlines(), 1)
                if line.strip() and not line.startswith("#")]
    reader = csv.DictReader(io.StringIO("\n".join(line for _, line in numbered)))
    table: dict[str, LangConvention] = {}
    for (line_no, _), row in zip(numbered[1:], reader):
        conv = _parse_row(row, line_no, where)
        if conv.lang in table:
            raise InputError("language listed twice", where, line_no, conv.lang)
        table[conv.lang] = conv
    missing = [lang for lang in LANGS if lang not in table]
    if missing:
        raise InputError(f"no row for languages {missing}", where)
    return table


@lru_cache(maxsize=1)
def conventions() -> dict[str, LangConvention]:
    """The packaged table ``resources/dictionary_languages.csv``, read and checked once."""
    text = resources.files("cjkv_phon.resources").joinpath(_TABLE).read_text(encoding="utf-8")
    return parse_conventions(text, f"cjkv_phon/resources/{_TABLE}")


def convention(lang: str) -> LangConvention:
    """The lookup convention of ``lang``; an unknown code raises ValueError listing the valid ones."""
    table = conventions()
    if lang not in table:
        raise ValueError(f"unknown language {lang!r}; valid: {', '.join(table)}")
    return table[lang]


@lru_cache(maxsize=None)
def _char_converter(name: str) -> Callable[[str], str]:
    """A cached per-character converter for an OpenCC configuration (built once per process)."""
    converter = opencc.OpenCC(_OPENCC_CONFIGS[name])

    @lru_cache(maxsize=None)
    def convert(char: str) -> str:
        out = converter.convert(char)
        # Keep the character when a conversion would change the length: folding must stay 1:1.
        return out if len(out) == 1 else char

    return convert


class Folder:
    """Normalises tokens for lookup: optional script fold, then case folding; results are cached.

    Example:
        >>> Folder("zh", fold_script=True)("後來")
        '后来'
    """

    def __init__(self, lang: str, fold_script: bool = True) -> None:
        conv = convention(lang)
        self.lang = lang
        self.fold_script = fold_script and conv.script_fold != "none"
        self._lower = conv.casefold == "lower"
        self._char = _char_converter(conv.script_fold) if self.fold_script else None
        self._cache: dict[str, str] = {}

    def many(self, tokens: Sequence[str]) -> list[str]:
        """The lookup form of each token (fast path: every token already cached)."""
        cache = self._cache
        try:
            return [cache[t] for t in tokens]
        except KeyError:
            return [self(t) for t in tokens]

    def __call__(self, text: str) -> str:
        """The lookup form of ``text``."""
        out = self._cache.get(text)
        if out is None:
            out = text
            if self._char is not None:
                out = "".join(self._char(c) for c in out)
            if self._lower:
                out = out.lower()
            self._cache[text] = out
        return out


def script_counts(words: Iterable[str]) -> dict[str, int]:
    """Count words by Chinese script (traditional/simplified/both/mixed/unknown), via hanzidentifier.

    ``both`` means every Chinese character is shared by the two scripts; ``unknown`` means the word
    has no Chinese character at all (kana, hangul, Latin).
    """
    counts = Counter(SCRIPT_NAMES[hanzidentifier.identify(w)] for w in words)
    return {name: counts.get(name, 0) for name in SCRIPT_NAMES.values()}
