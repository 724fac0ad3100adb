"""``PivotDictionary``: a built dictionary in memory, and ``SpanIndex``: fast span lookup into it.

PAN-X zh/ja give one character per token, so dictionary words must be matched as multi-token spans:
at each position the longest span whose joined (and folded) tokens equal a key, greedy left to right,
non-overlapping. The index keeps every key prefix, so extending a span stops as soon as no key can
start that way; a lookup costs about one dict probe per character actually inside a match.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import pyarrow.parquet as pq

from cjkv_phon.dictionary.script import Folder, convention
from cjkv_phon.errors import check_choice
from cjkv_phon.schema import DICTIONARY_SCHEMA, check_table

log = logging.getLogger(__name__)

SAMPLINGS: tuple[str, ...] = ("support", "uniform", "top")


@dataclass(frozen=True)
class Side:
    """One side of an entry: the word, its dataset-style tokens and per-token transcriptions."""

    word: str
    tokens: tuple[str, ...]
    ipa: tuple[str, ...]
    romanized: tuple[str, ...]


@dataclass(frozen=True)
class DictEntry:
    """A transcribed pivot entry (one row of DICTIONARY_SCHEMA)."""

    source: Side
    target: Side
    pivots: tuple[str, ...]
    support: int


@dataclass(frozen=True)
class Candidates:
    """The translations of one lookup key, best first, with cumulative weights for sampling.

    Attributes:
        sides: replacement sides, sorted by descending support then word.
        cum_support: running sum of support (``random.choices`` ``cum_weights``).
    """

    sides: tuple[Side, ...]
    cum_support: tuple[int, ...]

    def pick(self, sampling: str, rng: random.Random | None) -> Side:
        """Choose a translation: ``top`` = highest support, ``support`` = weighted, ``uniform``."""
        if sampling == "top" or len(self.sides) == 1:
            return self.sides[0]
        if rng is None:
            raise ValueError(f"sampling {sampling!r} needs an rng")
        if sampling == "uniform":
            return self.sides[rng.randrange(len(self.sides))]
        return rng.choices(self.sides, cum_weights=self.cum_support)[0]


class SpanIndex:
    """Lookup of token spans of one language in a dictionary, mapping to the other language.

    Args:
        lang: the language of the sentences to match.
        pairs: ``(key side, replacement side, support)`` for every entry.
        fold_script: fold keys and text to one script (see ``script.py``).
    """

    def __init__(self, lang: str, pairs: Sequence[tuple[Side, Side, int]], fold_script: bool) -> None:
        self.lang = lang
        self.joiner = convention(lang).joiner
        self.fold = Folder(lang, fold_script)
        grouped: dict[str, dict[Side, int]] = {}
        for key_side, repl, support in pairs:
            key = self.joiner.join(self.fold(t) for t in key_side.tokens)
            if key:
                bucket = grouped.setdefault(key, {})
                # Keys that fold together (後/后) pool their translations; repeated ones add support.
                bucket[repl] = bucket.get(repl, 0) + support
        self.candidates: dict[str, Candidates] = {k: _candidates(v) for k, v in grouped.items()}
        self.prefixes = _prefixes(self.candidates, self.joiner)
        # Every string a match can pass through: most positions are rejected by this one set probe.
        self.reachable = self.prefixes | self.candidates.keys()

    def __contains__(self, key: object) -> bool:
        return key in self.candidates

    def __len__(self) -> int:
        return len(self.candidates)

    def keys_of(self, tokens: Sequence[str]) -> list[str]:
        """The lookup form of each token."""
        return self.fold.many(tokens)

    def ends_at(self, keys: Sequence[str], start: int) -> list[int]:
        """Every ``end`` such that tokens ``start:end`` form a dictionary key, ascending."""
        ends: list[int] = []
        span = keys[start]
        if span not in self.reachable:
            return ends
        candidates, prefixes, joiner, n = self.candidates, self.prefixes, self.joiner, len(keys)
        end = start + 1
        while True:
            if span in candidates:
                ends.append(end)
            if end == n or span not in prefixes:
                return ends
            span = span + joiner + keys[end]
            end += 1

    def spans(self, tokens: Sequence[str]) -> list[tuple[int, int]]:
        """Greedy longest-match, left-to-right, non-overlapping spans ``(start, end)`` of ``tokens``."""
        keys = self.keys_of(tokens)
        out: list[tuple[int, int]] = []
        i = 0
        while i < len(keys):
            ends = self.ends_at(keys, i)
            if ends:
                out.append((i, ends[-1]))
                i = ends[-1]
            else:
                i += 1
        return out

    def key(self, keys: Sequence[str], start: int, end: int) -> str:
        """The lookup key of folded tokens ``start:end``."""
        return self.joiner.join(keys[start:end])


def _candidates(by_side: dict[Side, int]) -> Candidates:
    """Sort a key's translations best first and precompute cumulative support."""
    ranked = sorted(by_side.items(), key=lambda kv: (-kv[1], kv[0].word))
    cum, total = [], 0
    for _, support in ranked:
        total += support
        cum.append(total)
    return Candidates(tuple(side for side, _ in ranked), tuple(cum))


def _prefixes(keys: dict[str, Candidates], joiner: str) -> set[str]:
    """Every proper prefix of every key, in token units (characters when ``joiner`` is empty)."""
    out: set[str] = set()
    for key in keys:
        parts = list(key) if not joiner else key.split(joiner)
        for n in range(1, len(parts)):
            out.add(joiner.join(parts[:n]))
    return out


class PivotDictionary:
    """A pivot dictionary between ``source_lang`` and ``target_lang``, usable in both directions.

    Example:
        >>> d = PivotDictionary.load("build/dictionaries/zh-vi.parquet")  # doctest: +SKIP
        >>> d.index("zh").spans(list("中国南方航空"))  # doctest: +SKIP
        [(0, 2), (2, 4), (4, 6)]
    """

    def __init__(self, source_lang: str, target_lang: str, entries: Sequence[DictEntry],
                 path: str | Path | None = None) -> None:
        self.source_lang = source_lang
        self.target_lang = target_lang
        self.entries = tuple(entries)
        self.path = Path(path) if path is not None else None
        self._indexes: dict[tuple[str, bool], SpanIndex] = {}

    def __len__(self) -> int:
        return len(self.entries)

    def other(self, lang: str) -> str:
        """The language on the other side from ``lang``."""
        check_choice("dictionary language", lang, (self.source_lang, self.target_lang))
        return self.target_lang if lang == self.source_lang else self.source_lang

    def index(self, lang: str, *, fold_script: bool = True) -> SpanIndex:
        """The span index keyed by ``lang``'s side (built once per setting, then cached)."""
        self.other(lang)
        cache_key = (lang, fold_script)
        if cache_key not in self._indexes:
            forward = lang == self.source_lang
            pairs = [(e.source, e.target, e.support) if forward else (e.target, e.source, e.support)
                     for e in self.entries]
            self._indexes[cache_key] = SpanIndex(lang, pairs, fold_script)
        return self._indexes[cache_key]

    @classmethod
    def load(cls, path: str | Path) -> "PivotDictionary":
        """Read a dictionary parquet written by ``build_dict`` (schema-checked)."""
        table = pq.read_table(path)
        check_table(table, DICTIONARY_SCHEMA, str(path))
        cols = table.to_pydict()
        langs = {(s, t) for s, t in zip(cols["source_lang"], cols["target_lang"])}
        if len(langs) != 1:
            raise ValueError(f"{path}: expected one language pair, found {sorted(langs)}")
        (src, tgt), = langs
        entries = [_row_entry(cols, i) for i in range(table.num_rows)]
        log.debug("%s: %d %s-%s entries", path, len(entries), src, tgt)
        return cls(src, tgt, entries, path)


def _row_entry(cols: dict[str, list], i: int) -> DictEntry:
    """Row ``i`` of a column dict as a DictEntry."""
    def side(prefix: str, word: str) -> Side:
        return Side(cols[word][i], tuple(cols[f"{prefix}_tokens"][i]), tuple(cols[f"{prefix}_ipa"][i]),
                    tuple(cols[f"{prefix}_romanized"][i]))
    return DictEntry(side("source", "source"), side("target", "target"), tuple(cols["pivots"][i]),
                     int(cols["support"][i]))
