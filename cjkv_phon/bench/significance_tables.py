"""The significance tables of the leaderboard: each of our systems against ``finetune``, per target cell.

For each of our (system, backbone, target cell) on the test split, against ``finetune`` on the same
backbone: the paired bootstrap over test sentences pooled over seeds (Δ with its 95% interval and p)
and ASO's ε_min across seeds (the statistics are :mod:`cjkv_phon.bench.significance`). Here: pairing
the runs, memoising the comparisons, and their lines in md/tex and columns in csv. Runs recorded
before per-sentence counts existed get "n/a" for the bootstrap (ASO needs only the per-seed F1, so it
is there from two shared seeds on).
"""

from __future__ import annotations

from pathlib import Path

from cjkv_phon.bench.leaderboard_rows import BASELINE, Row, group_records
from cjkv_phon.bench.significance import Comparison, SignificanceConfig, compare
from cjkv_phon.bench.variants import load_variants
from cjkv_phon.schema import PAPER_PAIRS, TASKS
from cjkv_phon.training.sentence_scores import read_counts

SigKey = tuple[str, str, str, str, str]      # (variant, backbone, task, pair, split)


def _target_runs(records: list[dict], split: str) -> dict[tuple[str, str], dict[int, tuple[float, object]]]:
    """(task, pair) -> seed -> (target F1, per-sentence counts or None) for one variant's records."""
    out: dict[tuple[str, str], dict[int, tuple[float, object]]] = {}
    for record in records:
        f1 = record["metrics"].get("target", {}).get(split, {}).get("f1")
        if f1 is None:
            continue
        where = f"{record.get('run_id', '?')} ({record.get('bench', {}).get('variant', record['system'])})"
        pair = f"{record['source_lang']}-{record['target_lang']}"
        out.setdefault((record["task"], pair), {})[int(record["seed"])] = (
            float(f1), read_counts(record, "target", split, where))
    return out


def comparisons(records: list[dict], config: SignificanceConfig = SignificanceConfig(),
                split: str = "test") -> dict[SigKey, Comparison]:
    """Both significance tests for every (variant, backbone, task, pair) of ours that has a
    ``finetune`` run on the same backbone and cell, on the target side of ``split``."""
    groups = group_records(records)
    out: dict[SigKey, Comparison] = {}
    for (variant, backbone), recs in sorted(groups.items()):
        if variant == BASELINE or (BASELINE, backbone) not in groups:
            continue
        base = _target_runs(groups[(BASELINE, backbone)], split)
        for (task, pair), runs in sorted(_target_runs(recs, split).items()):
            if (task, pair) in base:
                key = (variant, backbone, task, pair, split)
                out[key] = compare(runs, base[(task, pair)], (backbone, variant, task, pair, split), config,
                                   BASELINE)
    return out


_CACHE: dict[tuple, dict[SigKey, Comparison]] = {}


def cached_comparisons(results_dir: str | Path, records: list[dict], config: SignificanceConfig,
                       split: str = "test") -> dict[SigKey, Comparison]:
    """``comparisons`` memoised on the results files' (path, size, mtime) and the config: the tables
    and the plot of one ``cjkv leaderboard`` call pay for ASO (~2 s a comparison) once."""
    stamp = tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns)
                  for p in sorted(Path(results_dir).rglob("results.json")))
    key = (str(Path(results_dir).resolve()), stamp, config, split)
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = comparisons(records, config, split)
    return _CACHE[key]


SIG_TITLE = "Test target F1 vs finetune: paired bootstrap over sentences, ASO over seeds"
SIG_HEAD = ["Model", "Backbone", "Cell", "Seeds", "Δ tgt", "95% CI", "p (Δ ≤ 0)", "ASO ε_min"]
SIG_NOTE = ("Δ tgt: mean over seeds of the same-seed target-F1 difference (system − finetune, same backbone). "
            "95% CI: percentile interval of a paired bootstrap over test sentences (Koehn 2004): each "
            "replicate resamples the sentences once, applies the draw to both systems and every seed, and "
            "averages the per-seed F1 differences; p: share of replicates ≤ 0. ASO ε_min (deepsig, across "
            "seeds): < 0.5 means the system is almost stochastically better than finetune, ≥ 0.5 that it "
            "is not shown better. n/a: runs recorded without per-sentence counts (bootstrap), fewer than "
            "two shared seeds (ASO), or seeds/sentences that do not pair.")


def _cell_label(task: str, pair: str) -> str:
    return f"{task.upper()} {pair.replace('-', '→')} {pair.split('-')[1]}"


def sig_order(sig: dict[SigKey, Comparison]) -> list[SigKey]:
    """Comparisons in the tables' order: variants-table order, backbone, then the paper's pairs."""
    order = {name: i for i, name in enumerate(load_variants())}
    paper_pairs = [f"{s}-{t}" for s, t in PAPER_PAIRS]
    return sorted(sig, key=lambda k: (order.get(k[0], len(order)), k[0], k[1], TASKS.index(k[2])
                                      if k[2] in TASKS else len(TASKS),
                                      paper_pairs.index(k[3]) if k[3] in paper_pairs else len(paper_pairs), k[3]))


def sig_lines(sig: dict[SigKey, Comparison], ours: list[Row]) -> list[list[str]]:
    """One line per comparison; Δ falls back to the difference of the seed means when the bootstrap is n/a."""
    lines = []
    for key in sig_order(sig):
        c = sig[key]
        variant, backbone, task, pair, split = key
        boot = c.bootstrap
        if boot is not None:
            delta, ci, p = f"{boot.delta:+.2f}", f"[{boot.low:+.2f}, {boot.high:+.2f}]", f"{boot.p_value:.3f}"
            seeds = str(len(boot.seeds))
        else:
            cell = (task, pair, "target", split)
            mine = next(r.cells[cell] for r in ours if r.variant == variant and r.backbone == backbone)
            theirs = next(r.cells[cell] for r in ours if r.variant == BASELINE and r.backbone == backbone)
            delta, ci, p, seeds = f"{mine.mean - theirs.mean:+.2f}", "n/a", "n/a", str(len(c.aso_seeds))
        eps = "n/a" if c.aso_epsilon is None else f"{c.aso_epsilon:.2f}"
        lines.append([variant, backbone, _cell_label(task, pair), seeds, delta, ci, p, eps])
    return lines


SIG_CSV = ("bootstrap_delta", "ci_low", "ci_high", "p_bootstrap", "bootstrap_resamples", "bootstrap_seeds",
           "aso_epsilon_min", "aso_seeds")


def sig_csv_cells(c: Comparison | None) -> list[str]:
    """The significance columns of one CSV line: blank where no comparison applies (finetune, source
    side, dev, the paper's rows), ``n/a`` where it applies but cannot be computed."""
    if c is None:
        return [""] * len(SIG_CSV)
    b = c.bootstrap
    boot = (["n/a"] * 6 if b is None else
            [f"{b.delta:.4f}", f"{b.low:.4f}", f"{b.high:.4f}", f"{b.p_value:.4f}", str(b.n_resamples),
             str(len(b.seeds))])
    return boot + (["n/a", str(len(c.aso_seeds))] if c.aso_epsilon is None
                   else [f"{c.aso_epsilon:.4f}", str(len(c.aso_seeds))])
