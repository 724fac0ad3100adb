"""The leaderboard's rows: our results (mean ± std over seeds per cell) and the paper's, and Δ vs finetune.

Reads every ``results.json`` under a results folder (``run_bench`` writes them), groups the records
by (variant, backbone) and averages each cell over seeds; the paper's cells become rows of the same
shape. The headline Δ is the mean, over a row's target columns, of (row F1 − ``finetune`` F1 on the
same backbone and the same side of the comparison, ours or the paper's). For our rows every Δ is
taken **on the seeds both rows ran only** (the mean of same-seed differences, issue 20): a 1-seed
variant is compared with finetune's run of that seed, never with finetune's 3-seed mean. The paper's
cells carry no per-seed values; their Δ is the difference of the published means. Std is the sample
standard deviation (n − 1); one seed has none. Rendering is :mod:`cjkv_phon.bench.tables`.

Which metric a cell holds is chosen per task (``metric_of``; default ``f1`` for both): for UDPOS our
``f1`` is token accuracy, the paper's numbers are seqeval over raw UPOS tags, recorded by runs since
issue 20 as ``seqeval_raw_f1`` (``training.metrics.METRIC_LABELS``).
"""

from __future__ import annotations

import json
import math
import logging
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

from cjkv_phon.bench.paper import PAPER_BACKBONES, PaperCell
from cjkv_phon.bench.runner import backbone_slug
from cjkv_phon.bench.variants import load_variants
from cjkv_phon.errors import InputError
from cjkv_phon.schema import PAPER_PAIRS, TASKS
from cjkv_phon.training.sentence_scores import read_counts

log = logging.getLogger(__name__)
BASELINE = "finetune"
_NEEDED_KEYS = ("task", "source_lang", "target_lang", "system", "seed", "backbone", "metrics")
CellKey = tuple[str, str, str, str]          # (task, pair, side, split)
DEFAULT_METRICS: dict[str, str] = {"panx": "f1", "udpos": "f1"}     # task -> metric key the cells hold
PAPER_METRICS: dict[str, str] = {"panx": "f1", "udpos": "seqeval_raw_f1"}   # the paper's metric per task


@dataclass(frozen=True)
class Stat:
    """Mean ± sample std of one cell over n seeds (F1 on a 0–100 scale).

    One seed has no spread: ``std`` is None and the cell prints as the bare mean, not as "± 0.00",
    which would claim a measured spread of zero.
    """

    mean: float
    std: float | None
    n: int
    by_seed: tuple[tuple[int, float], ...] = ()     # (seed, value) of our runs; empty for the paper's

    @classmethod
    def of(cls, values: list[float], seeds: list[int] | None = None) -> "Stat":
        std = statistics.stdev(values) if len(values) > 1 else None
        by_seed = tuple(sorted(zip(seeds, values))) if seeds is not None else ()
        return cls(statistics.fmean(values), std, len(values), by_seed)

    def __str__(self) -> str:
        return f"{self.mean:.2f}" if self.std is None else f"{self.mean:.2f} ± {self.std:.2f}"


@dataclass
class Row:
    """One table row: a system on a backbone, from our runs (``ours``) or the paper (``paper``)."""

    origin: str
    variant: str
    backbone: str
    resources: str
    seeds: int
    cells: dict[CellKey, Stat] = field(default_factory=dict)


def load_results(results_dir: str | Path) -> list[dict]:
    """Every results record under ``results_dir`` (recursively), checked for the keys we read.

    Raises:
        InputError: a ``results.json`` is not JSON, lacks a needed key, or has per-sentence counts
            that do not parse or do not line up (named with the file).
    """
    if not Path(results_dir).is_dir():
        raise InputError("no such results folder (give --results a folder of bench runs)", results_dir)
    records = []
    for path in sorted(Path(results_dir).rglob("results.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise InputError(f"not valid JSON: {exc.msg}", path, exc.lineno) from None
        except UnicodeDecodeError:
            raise InputError("not UTF-8 text", path) from None
        if not isinstance(record, dict) or not isinstance(record.get("metrics", {}), dict):
            raise InputError("not a results record of cjkv train (not a mapping with metrics)", path)
        missing = [k for k in _NEEDED_KEYS if k not in record]
        if missing:
            raise InputError("results record lacks keys", path, None, missing)
        for side, splits in record.get("sentence_counts", {}).items():
            for split in splits:
                try:
                    read_counts(record, side, split)
                except ValueError as exc:
                    raise InputError(str(exc), path) from None
        records.append(record)
    if not records:
        raise InputError("no results.json under this folder (run cjkv bench first)", results_dir)
    log.info("read %d results records under %s", len(records), results_dir)
    return records


def _f1_values(record: dict, metric_of: Mapping[str, str] = DEFAULT_METRICS) -> Iterable[tuple[CellKey, float]]:
    """(cell, value) for each side and split the record has the task's metric (``metric_of``) for.

    The trainer stores F1 on the paper's 0-100 scale (``training.metrics.evaluate_tags``).
    """
    pair = f"{record['source_lang']}-{record['target_lang']}"
    metric = metric_of.get(record["task"], "f1")
    for side in ("source", "target"):
        for split, metrics in record["metrics"].get(side, {}).items():
            value = metrics.get(metric) if isinstance(metrics, dict) else None
            if isinstance(value, (int, float)) and math.isfinite(value):   # NaN (a diverged run): no value
                yield (record["task"], pair, side, split), float(value)


def _row_of(variant: str, backbone: str, records: list[dict],
            metric_of: Mapping[str, str] = DEFAULT_METRICS) -> Row | None:
    """Our row for one (variant, backbone): each cell averaged over the records (one per seed); None
    when no record has the metric asked for."""
    values: dict[CellKey, list[tuple[int, float]]] = {}
    for record in records:
        for cell, f1 in _f1_values(record, metric_of):
            values.setdefault(cell, []).append((int(record["seed"]), f1))
    if not values:
        return None
    resources = records[0].get("bench", {}).get("resources", "—")
    seeds = len({int(r["seed"]) for r in records})
    return Row("ours", variant, backbone, resources, seeds,
               {c: Stat.of([f1 for _, f1 in v], [seed for seed, _ in v]) for c, v in values.items()})


def group_records(records: list[dict]) -> dict[tuple[str, str], list[dict]]:
    """Records by (variant, backbone); a record without a bench block counts as its system."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for record in records:
        variant = record.get("bench", {}).get("variant", record["system"])
        groups.setdefault((variant, backbone_slug(str(record["backbone"]))), []).append(record)
    return groups


def our_rows(records: list[dict], metric_of: Mapping[str, str] = DEFAULT_METRICS) -> list[Row]:
    """Our rows: one per (variant, backbone), each cell averaged over its seeds (``metric_of``: the
    metric key per task; rows without it are left out)."""
    rows = [_row_of(variant, backbone, recs, metric_of)
            for (variant, backbone), recs in sorted(group_records(records).items())]
    return [r for r in rows if r is not None]


def paper_rows(cells: list[PaperCell]) -> list[Row]:
    """One row per (system, backbone) of the paper; Table 6 repeats some Table 3 cells, merged here."""
    rows: dict[tuple[str, str], Row] = {}
    for c in cells:
        row = rows.setdefault((c.system, c.backbone),
                              Row("paper", c.system, PAPER_BACKBONES[c.backbone], c.resources, 3))
        row.cells[(c.task, c.pair, c.side, c.split)] = Stat(c.mean, c.std, 3)
    return list(rows.values())


def baseline_of(row: Row, rows: list[Row]) -> Row | None:
    """The ``finetune`` row with the same origin and backbone as ``row`` (None for finetune itself)."""
    if row.variant == BASELINE:
        return None
    return next((r for r in rows if r.variant == BASELINE and r.origin == row.origin
                 and r.backbone == row.backbone), None)


def _target_cells(row: Row, rows: list[Row], split: str,
                  columns: Iterable[tuple[str, str, str]] | None) -> list[tuple[Stat, Stat]]:
    """(row's cell, finetune's cell) for each target cell of ``split`` both have, within ``columns``
    (a table's shown (task, pair, side) columns; None = all); empty when the row has no baseline."""
    shown = None if columns is None else set(columns)
    base = baseline_of(row, rows)
    if base is None:
        return []
    return [(stat, base.cells[key]) for key, stat in row.cells.items()
            if key[2] == "target" and key[3] == split and key in base.cells
            and (shown is None or key[:3] in shown)]


def cell_delta(mine: Stat, theirs: Stat) -> tuple[float, tuple[int, ...]] | None:
    """(Δ, seeds) of one cell: the mean over the seeds both ran of (mine − theirs) at the same seed.

    Our cells are compared on their shared seeds only (None when they share none); the paper's cells
    (no per-seed values on either side) by their published means, with ``seeds`` empty.
    """
    if not mine.by_seed and not theirs.by_seed:
        return mine.mean - theirs.mean, ()
    a, b = dict(mine.by_seed), dict(theirs.by_seed)
    shared = tuple(sorted(set(a) & set(b)))
    if not shared:
        return None
    return statistics.fmean(a[s] - b[s] for s in shared), shared


def target_delta(row: Row, rows: list[Row], split: str,
                 columns: Iterable[tuple[str, str, str]] | None = None) -> float | None:
    """Mean over the row's target cells of the same-seed Δ vs finetune (``cell_delta``), or None.

    Args:
        row: the row; rows: all rows (where its baseline is found); split: ``test`` or ``dev``.
        columns: restrict to these (task, pair, side) columns (a table's shown columns); None = all.
    """
    deltas = [d for mine, theirs in _target_cells(row, rows, split, columns)
              if (d := cell_delta(mine, theirs)) is not None]
    return statistics.fmean(v for v, _ in deltas) if deltas else None


def delta_seeds(row: Row, rows: list[Row], split: str,
                columns: Iterable[tuple[str, str, str]] | None = None) -> tuple[int, ...] | None:
    """The seeds the row's target Δ is taken on: empty for the paper's rows, None when its cells were
    compared on different seed sets (e.g. 3 seeds in one cell, 1 in another)."""
    sets = {d[1] for mine, theirs in _target_cells(row, rows, split, columns)
            if (d := cell_delta(mine, theirs)) is not None}
    if len(sets) > 1:
        return None
    return next(iter(sets), ())


def paired_delta_std(row: Row, rows: list[Row], split: str,
                     columns: Iterable[tuple[str, str, str]] | None = None) -> float | None:
    """Std over seeds of the same-seed target difference (row − finetune), or None.

    Seed ``s`` of a system and seed ``s`` of finetune share the training subsample order and the
    initialisation of everything the two have in common, so their difference varies far less than
    either score; this is the spread of the headline delta. Defined only for our rows (the paper's
    cells carry no per-seed values) when every compared target cell was compared on the same two or
    more seeds (then the mean of the per-seed differences is ``target_delta``).
    """
    cells = _target_cells(row, rows, split, columns)
    seeds = delta_seeds(row, rows, split, columns)
    if not seeds or len(seeds) < 2 or not cells:
        return None
    per_seed = [statistics.fmean(dict(mine.by_seed)[s] - dict(theirs.by_seed)[s] for mine, theirs in cells)
                for s in seeds]
    return statistics.stdev(per_seed)


def ordered_rows(rows: list[Row]) -> list[Row]:
    """Variants in the variants-table order (unknown ones last), ours before the paper's, then backbone."""
    order = {name: i for i, name in enumerate(load_variants())}
    paper_order = list(PAPER_BACKBONES.values())   # mBERT before XLM-R, as in the paper
    return sorted(rows, key=lambda r: (order.get(r.variant, len(order)), r.variant, r.origin != "ours",
                                       paper_order.index(r.backbone) if r.origin == "paper" else 0,
                                       r.backbone))


def table_columns(rows: list[Row], split: str, tasks: tuple[str, ...] = TASKS,
                  sides: tuple[str, ...] = ("source", "target")) -> tuple[tuple[str, str, str], ...]:
    """Every (task, pair, side) some row has a value for in ``split``, task-major like the paper."""
    present = {key[:3] for r in rows for key in r.cells if key[3] == split}
    paper_pairs = [f"{s}-{t}" for s, t in PAPER_PAIRS]
    pairs = sorted({p for _, p, _ in present},
                   key=lambda p: (paper_pairs.index(p) if p in paper_pairs else len(paper_pairs), p))
    return tuple((t, p, s) for t in tasks for p in pairs for s in sides if (t, p, s) in present)
