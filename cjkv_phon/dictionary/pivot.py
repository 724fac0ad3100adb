"""Bilingual dictionaries between two CJKV languages by pivoting through English.

MUSE only pairs languages with English, so (as in the paper) ``(s, t)`` is an entry of S-T when some
English word ``e`` has ``(e, s)`` in en-S and ``(e, t)`` in en-T. With ``use_reverse`` the X-en files
are added too (union: ``(s, e)`` in S-en counts as ``(e, s)``). Each entry records its pivots and
``support`` = the number of distinct pivots, a confidence that code-switching can sample by.

MUSE's CJKV sides contain many Latin-script words copied from English (``aachener``, ``utc``), so the
pivot yields identity pairs (``aaa`` -> ``aaa``): about half of zh-vi. They translate nothing and would
only spend the code-switching ratio on no-ops, so they are dropped unless ``keep_identical`` is set
(compared case-insensitively; the count is logged).

The same copies make a non-identical kind of noise: 高潮 -> ``orgasm``, whose target side is the English
pivot word itself, or any target word not written in the target language's orthography
(``orthography.in_orthography``), and any source word not written in the source language's
orthography (Latin-script "Chinese" and "Japanese" words: ``ace`` -> ách, ``age`` -> 나이). Those are
dropped too unless ``keep_noise`` is set; the counts of
each rule are logged and, with ``stats``, returned to the caller (build-dict stores them in the
parquet metadata under ``noise_filter``).
"""

from __future__ import annotations

import itertools
import logging
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from cjkv_phon.dictionary.muse import MuseFile, muse_path, read_muse
from cjkv_phon.dictionary.orthography import in_orthography
from cjkv_phon.errors import InputError
from cjkv_phon.schema import LANGS

log = logging.getLogger(__name__)

PIVOT_LANG = "en"
# Every ordered pair of distinct CJKV languages: 12 pairs.
VALID_PAIRS: tuple[str, ...] = tuple(f"{a}-{b}" for a, b in itertools.permutations(LANGS, 2))


@dataclass(frozen=True)
class PivotEntry:
    """One pivoted translation pair.

    Attributes:
        source, target: the words as written in MUSE.
        pivots: the English words linking them, sorted.
        support: ``len(pivots)``.
    """

    source: str
    target: str
    pivots: tuple[str, ...]

    @property
    def support(self) -> int:
        """Number of distinct English pivots (1 = a single, weaker link)."""
        return len(self.pivots)


def parse_pair(pair: str) -> tuple[str, str]:
    """``"zh-vi"`` -> ``("zh", "vi")``; anything but the 12 CJKV pairs raises ValueError listing them."""
    if pair not in VALID_PAIRS:
        raise ValueError(f"unknown language pair {pair!r}; valid: {', '.join(VALID_PAIRS)}")
    src, _, tgt = pair.partition("-")
    return src, tgt


def _english_index(files: Iterable[MuseFile], lang: str) -> dict[str, set[str]]:
    """English word -> set of ``lang`` words, from en-X files and (if given) X-en files."""
    index: dict[str, set[str]] = defaultdict(set)
    for muse in files:
        forward = (muse.src, muse.tgt) == (PIVOT_LANG, lang)
        if not forward and (muse.src, muse.tgt) != (lang, PIVOT_LANG):
            raise ValueError(f"{muse.path}: expected en-{lang} or {lang}-en, got {muse.src}-{muse.tgt}")
        for a, b in muse.pairs:
            english, word = (a, b) if forward else (b, a)
            index[english].add(word)
    return index


def pivot(source_files: Iterable[MuseFile], target_files: Iterable[MuseFile],
          source_lang: str, target_lang: str, *, keep_identical: bool = False, keep_noise: bool = False,
          stats: dict[str, int] | None = None) -> list[PivotEntry]:
    """Join two languages' English dictionaries on the English word.

    Args:
        source_files: en-S (and optionally S-en) files.
        target_files: en-T (and optionally T-en) files.
        source_lang, target_lang: S and T, checked against the files' names.
        keep_identical: keep pairs whose two sides are the same word (see module doc); such a Latin copy
            is usually also its own English pivot, so it survives only with ``keep_noise`` too.
        keep_noise: keep target words equal to their English pivot or outside the target orthography,
            and source words outside the source orthography.
        stats: if given, filled with the number of pairs each rule dropped (``identical``,
            ``target_is_pivot``, ``target_not_in_orthography``, ``source_not_in_orthography``) and
            the pairs before and after.

    Returns:
        Deduplicated entries sorted by source, then descending support, then target (deterministic).
    """
    by_en_src = _english_index(source_files, source_lang)
    by_en_tgt = _english_index(target_files, target_lang)
    links: dict[tuple[str, str], set[str]] = defaultdict(set)
    for english in by_en_src.keys() & by_en_tgt.keys():
        for s in by_en_src[english]:
            for t in by_en_tgt[english]:
                links[(s, t)].add(english)
    counts = {"pairs_pivoted": len(links), "identical": 0, "target_is_pivot": 0,
              "target_not_in_orthography": 0, "source_not_in_orthography": 0}
    if not keep_identical:
        identical = [k for k in links if k[0].lower() == k[1].lower()]
        for k in identical:
            del links[k]
        counts["identical"] = len(identical)
        log.info("%s-%s: dropped %d identical pairs", source_lang, target_lang, len(identical))
    if not keep_noise:
        is_pivot = [k for k, pivots in links.items() if k[1].lower() in {e.lower() for e in pivots}]
        for k in is_pivot:
            del links[k]
        foreign = [k for k in links if not in_orthography(target_lang, k[1])]
        for k in foreign:
            del links[k]
        counts["target_is_pivot"], counts["target_not_in_orthography"] = len(is_pivot), len(foreign)
        foreign_source = [k for k in links if not in_orthography(source_lang, k[0])]
        for k in foreign_source:
            del links[k]
        counts["source_not_in_orthography"] = len(foreign_source)
        log.info("%s-%s: dropped %d pairs whose source is not in %s orthography", source_lang,
                 target_lang, len(foreign_source), source_lang)
        log.info("%s-%s: dropped %d pairs whose target is the English pivot and %d whose target is not "
                 "in %s orthography", source_lang, target_lang, len(is_pivot), len(foreign), target_lang)
    counts["pairs_kept"] = len(links)
    if stats is not None:
        stats.update(counts)
    entries = [PivotEntry(s, t, tuple(sorted(pivots))) for (s, t), pivots in links.items()]
    entries.sort(key=lambda e: (e.source, -e.support, e.target))
    return entries


def pivot_files(muse_dir: str | Path, source_lang: str, target_lang: str,
                use_reverse: bool) -> tuple[tuple[Path, ...], tuple[Path, ...]]:
    """The MUSE files a pivot of ``source_lang``-``target_lang`` reads (source side, target side)."""
    def side(lang: str) -> tuple[Path, ...]:
        paths = [muse_path(muse_dir, PIVOT_LANG, lang)]
        if use_reverse:
            paths.append(muse_path(muse_dir, lang, PIVOT_LANG))
        return tuple(paths)
    return side(source_lang), side(target_lang)


def pivot_pair(muse_dir: str | Path, pair: str, *, use_reverse: bool = False,
               skip_malformed: bool = False,
               keep_identical: bool = False, keep_noise: bool = False,
               stats: dict[str, int] | None = None) -> tuple[list[PivotEntry], tuple[MuseFile, ...]]:
    """Read the MUSE files for ``pair`` (e.g. ``"zh-vi"``) and pivot them (options as in :func:`pivot`).

    Returns:
        The entries (see :func:`pivot`) and the MUSE files read, for provenance.

    Raises:
        ValueError: unknown pair, or the pivot is empty (the two sides share no English word).
    """
    src, tgt = parse_pair(pair)
    src_paths, tgt_paths = pivot_files(muse_dir, src, tgt, use_reverse)
    src_files = tuple(read_muse(p, skip_malformed=skip_malformed) for p in src_paths)
    tgt_files = tuple(read_muse(p, skip_malformed=skip_malformed) for p in tgt_paths)
    for muse in (*src_files, *tgt_files):
        if not muse.pairs:
            raise InputError("no dictionary entries in this MUSE file (empty, or every line skipped)",
                             muse.path)
    entries = pivot(src_files, tgt_files, src, tgt, keep_identical=keep_identical, keep_noise=keep_noise,
                    stats=stats)
    if not entries:
        names = ", ".join(str(p) for p in (*src_paths, *tgt_paths))
        raise InputError(f"pivot {pair} is empty: {names} share no English word")
    log.info("pivot %s: %d entries, %d distinct sources", pair, len(entries),
             len({e.source for e in entries}))
    return entries, src_files + tgt_files
