"""The leaderboard: our results (mean ± std over seeds) beside the paper's, in the layout of its tables.

Input: every ``results.json`` under a results folder (``run_bench`` writes them; each carries a
``bench`` block with the variant name and resources). Output, per split (test, then dev):

* a main table in the layout of Tables 3 and 4: one row per (system, backbone), columns source and
  target F1 per task and pair, the paper's rows (mBERT, XLM-R) right below ours for the same system;
* a table in the layout of Table 6 (UDPOS target F1 for the representation ablations).

The headline column is Δ: the mean, over the row's target columns, of (row F1 − ``finetune`` F1 on the
same backbone and the same side of the comparison, ours or the paper's). Our backbone differs from the
paper's, so our absolute F1 is not comparable with theirs; the gain over plain fine-tuning is.
Formats: ``md`` and ``tex`` render those tables; ``csv`` is one line per cell (for further analysis).
Std is the sample standard deviation (n − 1), 0 for a single seed; the paper does not say which it used.

Significance (``significance.py``): for each of our (system, backbone, target cell) on the test split,
against ``finetune`` on the same backbone, the paired bootstrap over test sentences pooled over seeds
(Δ with its 95% interval and p) and ASO's ε_min across seeds. Md and tex add a section with one line per
comparison, csv adds columns to the target test lines, the plot adds a row of Δ panels with the intervals
drawn. Runs recorded before per-sentence counts existed get "n/a" for the bootstrap (ASO needs only the
per-seed F1, so it is there from two shared seeds on).

This module gathers the rows and comparisons and hands them to the renderers: the rows and deltas are
:mod:`~cjkv_phon.bench.leaderboard_rows`, the md/csv/tex tables :mod:`~cjkv_phon.bench.tables`, the
significance lines and columns :mod:`~cjkv_phon.bench.significance_tables`, the plot
:mod:`~cjkv_phon.bench.leaderboard_plot`.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from cjkv_phon.atomic import write_json
from cjkv_phon.bench.leaderboard_plot import draw_leaderboard
from cjkv_phon.bench.leaderboard_rows import BASELINE, Row, load_results, our_rows, paper_rows
from cjkv_phon.bench.paper import load_paper
from cjkv_phon.bench.significance import Comparison, SignificanceConfig
from cjkv_phon.bench.significance_tables import SIG_NOTE, SigKey, cached_comparisons, sig_order
from cjkv_phon.bench.tables import build_sections, render_csv, render_latex, render_markdown

FORMATS: tuple[str, ...] = ("md", "csv", "tex")


def leaderboard_rows(results_dir: str | Path) -> tuple[list[Row], list[Row], set[str]]:
    """Our rows, the paper's rows, and the variants only the paper's Table 6 has."""
    ours, paper, table6, _ = _gather(results_dir, None)
    return ours, paper, table6


def _gather(results_dir: str | Path, config: SignificanceConfig | None, split: str = "test"
            ) -> tuple[list[Row], list[Row], set[str], dict[SigKey, Comparison]]:
    """Rows as ``leaderboard_rows`` plus the significance comparisons (none when ``config`` is None)."""
    cells = load_paper()
    main_variants = {c.system for c in cells if c.table in ("3", "4")}
    table6 = {c.system for c in cells if c.table == "6"} - main_variants
    records = load_results(results_dir)
    sig = {} if config is None else cached_comparisons(results_dir, records, config, split)
    return our_rows(records), paper_rows(cells), table6, sig


def render_leaderboard(results_dir: str | Path, fmt: str = "md",
                       significance: SignificanceConfig | None = SignificanceConfig()) -> str:
    """The leaderboard of the results under ``results_dir`` as Markdown, CSV or LaTeX text.

    Args:
        significance: how the paired bootstrap and ASO are run; None leaves them out.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; valid: {', '.join(FORMATS)}")
    ours, paper, table6, sig = _gather(results_dir, significance)
    if fmt == "csv":
        return render_csv(ours + paper, sig)
    sections = build_sections(ours, paper, table6)
    return (render_markdown if fmt == "md" else render_latex)(sections, ours + paper, sig)


def significance_json(results_dir: str | Path,
                      significance: SignificanceConfig = SignificanceConfig()) -> dict:
    """The comparisons as one JSON-ready object: the config, the method, one entry per comparison."""
    _, _, _, sig = _gather(results_dir, significance)
    return {"config": dataclasses.asdict(significance), "method": SIG_NOTE, "baseline": BASELINE,
            "comparisons": [sig[key].to_json() for key in sig_order(sig)]}


def write_significance(results_dir: str | Path, path: str | Path,
                       significance: SignificanceConfig = SignificanceConfig()) -> Path:
    """Atomically write ``significance_json`` to ``path`` (e.g. ``<results>/significance.json``)."""
    return write_json(path, significance_json(results_dir, significance))


def plot_leaderboard(results_dir: str | Path, path: str | Path, split: str = "test",
                     significance: SignificanceConfig | None = SignificanceConfig()) -> Path:
    """Our target F1 per system, one panel per task and pair; below, Δ vs finetune with its 95% interval.

    Top row: bars of the mean (error bars: std over seeds); the paper's numbers for the same system are
    markers (◆ mBERT, ▲ XLM-R) for reference. Bottom row (when ``significance`` is not None): each
    system's target-F1 Δ over finetune with the paired-bootstrap 95% interval as error bar and ASO's
    ε_min written above it; a Δ without an interval (runs without per-sentence counts) is a hollow
    marker labelled "CI n/a". Written atomically as PNG with matplotlib's Agg backend.

    Raises:
        ValueError: there is no target F1 for ``split`` under ``results_dir``.
    """
    ours, paper, _, sig = _gather(results_dir, significance, split)
    return draw_leaderboard(ours, paper, sig, split, path, results_dir)
