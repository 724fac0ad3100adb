"""The leaderboard's plot: our target F1 per system beside the paper's, and Δ vs finetune with its interval.

Drawn with matplotlib's Agg backend (imported only here, and only when a plot is asked for) and
written atomically as PNG; :func:`cjkv_phon.bench.leaderboard.plot_leaderboard` gathers the rows and
comparisons and calls :func:`draw_leaderboard`.
"""

from __future__ import annotations

import math
from pathlib import Path

from cjkv_phon.bench.leaderboard_rows import BASELINE, Row, ordered_rows, table_columns
from cjkv_phon.bench.paper import PAPER_BACKBONES
from cjkv_phon.bench.significance import Comparison
from cjkv_phon.bench.significance_tables import SigKey

def draw_leaderboard(ours: list[Row], paper: list[Row], sig: dict[SigKey, Comparison], split: str,
                     path: str | Path, results_dir: str | Path) -> Path:
    """Draw the plot :func:`~cjkv_phon.bench.leaderboard.plot_leaderboard` describes and write it to ``path``.

    Args:
        ours, paper: the rows; sig: the comparisons (empty: no Δ row); results_dir: named in errors.

    Raises:
        ValueError: there is no target F1 for ``split`` in ``ours``.
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from cjkv_phon.atomic import atomic_path

    panels = [(t, p) for t, p, _ in table_columns(ours, split, sides=("target",))]
    if not panels:
        raise ValueError(f"no target {split} F1 in results under {results_dir}")
    variants = [v for v in dict.fromkeys(r.variant for r in ordered_rows(ours))]
    backbones = sorted({r.backbone for r in ours})
    n_rows = 2 if sig else 1
    fig, axes = plt.subplots(n_rows, len(panels), figsize=(max(4.0, 0.9 * len(variants)) * len(panels),
                                                            4.2 * n_rows), squeeze=False)
    width = 0.8 / len(backbones)
    for col, (task, pair) in enumerate(panels):
        ax = axes[0][col]
        key = (task, pair, "target", split)
        for j, backbone in enumerate(backbones):
            stats = [next((r.cells.get(key) for r in ours if r.variant == v and r.backbone == backbone), None)
                     for v in variants]
            xs = [i + (j - (len(backbones) - 1) / 2) * width for i in range(len(variants))]
            ax.bar(xs, [s.mean if s else 0.0 for s in stats], width,
                   yerr=[s.std if s and s.std is not None else math.nan for s in stats],   # no bar: 1 seed
                   capsize=3, label=f"ours ({backbone})")
        for marker, name in (("D", PAPER_BACKBONES["mbert"]), ("^", PAPER_BACKBONES["xlmr"])):
            pts = [(i, r.cells[key].mean) for i, v in enumerate(variants) for r in paper
                   if r.variant == v and r.backbone == name and key in r.cells]
            if pts:
                ax.scatter(*zip(*pts), marker=marker, color="black", zorder=3, label=f"paper ({name})")
        ax.set_title(f"{task.upper()} {pair.replace('-', '→')}: target {split} F1")
        seeds = [max((r.seeds for r in ours if r.variant == v and key in r.cells), default=0) for v in variants]
        ax.set_xticks(range(len(variants)), [f"{v} (n={n})" for v, n in zip(variants, seeds)],
                      rotation=45, ha="right")
        ax.set_ylabel("F1")
        ax.set_ylim(0, ax.get_ylim()[1] * 1.45)     # head room so the legend covers no bar or marker
        ax.legend(fontsize="small", loc="upper left")
        if sig:
            _plot_deltas(axes[1][col], task, pair, split, variants, backbones, width, sig, ours)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)
    return Path(path)


def _plot_deltas(ax, task: str, pair: str, split: str, variants: list[str], backbones: list[str], width: float,
                 sig: dict[SigKey, Comparison], ours: list[Row]) -> None:
    """One panel of Δ target F1 vs finetune: points with the bootstrap's 95% interval, ASO ε_min above."""
    cell = (task, pair, "target", split)
    for j, backbone in enumerate(backbones):
        for i, variant in enumerate(variants):
            c = sig.get((variant, backbone, task, pair, split))
            if c is None:
                continue
            x = i + (j - (len(backbones) - 1) / 2) * width
            b = c.bootstrap
            if b is not None:
                ax.errorbar([x], [b.delta], yerr=[[b.delta - b.low], [b.high - b.delta]], fmt="o", capsize=4,
                            color=f"C{j}")
                top, label = b.high, ""
            else:
                mine = next(r.cells[cell] for r in ours if r.variant == variant and r.backbone == backbone)
                base = next(r.cells[cell] for r in ours if r.variant == BASELINE and r.backbone == backbone)
                top = mine.mean - base.mean
                ax.plot([x], [top], "o", mfc="none", color=f"C{j}")
                label = "CI n/a\n"
            eps = "ε n/a" if c.aso_epsilon is None else f"ε={c.aso_epsilon:.2f}"
            ax.annotate(label + eps, (x, top), textcoords="offset points", xytext=(0, 6), ha="center",
                        fontsize="x-small")
    ax.axhline(0.0, color="grey", linewidth=0.8)
    ax.set_title(f"Δ target {split} F1 vs {BASELINE} (95% paired bootstrap CI; ASO ε_min)", fontsize="small")
    ax.set_xticks(range(len(variants)), variants, rotation=45, ha="right")
    ax.set_ylabel("Δ F1")
    low, high = ax.get_ylim()
    ax.set_ylim(low - 0.1 * (high - low), high + 0.25 * (high - low))     # room for the labels
