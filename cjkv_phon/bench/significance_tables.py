"""The significance tables of the leaderboard: each of our systems against ``finetune``, per target cell.

For each of our (system, backbone, target cell) on the test split, against ``finetune`` on the same
backbone (the statistics are :mod:`cjkv_phon.bench.significance`): the verdict, read from the two-level
bootstrap over seeds and test sentences (Δ, its 95% interval, p), the sentence-level bootstrap's
interval beside it, the paired t-test over seeds, and ASO's ε_min (flagged uninformative below 5
seeds). Here: pairing the runs, memoising the comparisons, and their lines in md/tex and columns in
csv. Runs recorded before per-sentence counts existed get "n/a" for the bootstraps and no verdict.
"""

from __future__ import annotations

from pathlib import Path

from cjkv_phon.bench.leaderboard_rows import BASELINE, Row, cell_delta, group_records
from cjkv_phon.bench.significance import ASO_INFORMATIVE_SEEDS, Comparison, SignificanceConfig, compare
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


SIG_TITLE = "Test target F1 vs finetune: bootstrap over seeds and sentences (verdict), over sentences, t-test and ASO over seeds"
SIG_HEAD = ["Model", "Backbone", "Cell", "Seeds", "Δ tgt", "95% CI seeds+sentences", "p (Δ ≤ 0)", "Verdict",
            "95% CI sentences only", "t-test p (seeds)", "ASO ε_min"]
SIG_NOTE = ("Δ tgt: mean over the shared seeds of the same-seed target-F1 difference (system − finetune, same "
            "backbone). 95% CI seeds+sentences: percentile interval of a two-level paired bootstrap: each "
            "replicate draws the seeds with replacement, then the test sentences (one draw for both systems and "
            "every drawn seed), and averages the drawn seeds' F1 differences; p: share of replicates ≤ 0. The "
            "verdict is read from this interval (better / worse when it excludes 0, else no difference shown; "
            "n/a with one shared seed). 95% CI sentences only: the same without resampling seeds (Koehn 2004), "
            "kept for reference: it ignores seed variance. t-test p: two-sided paired t-test over the seeds' "
            "differences. ASO ε_min (deepsig): < 0.5 means almost stochastically better; with fewer than "
            f"{ASO_INFORMATIVE_SEEDS} seeds it is uninformative (marked *). n/a: no per-sentence counts, too "
            "few shared seeds, or seeds/sentences that do not pair.")


def _cell_label(task: str, pair: str) -> str:
    return f"{task.upper()} {pair.replace('-', '→')} {pair.split('-')[1]}"


def sig_order(sig: dict[SigKey, Comparison]) -> list[SigKey]:
    """Comparisons in the tables' order: variants-table order, backbone, then the paper's pairs."""
    order = {name: i for i, name in enumerate(load_variants())}
    paper_pairs = [f"{s}-{t}" for s, t in PAPER_PAIRS]
    return sorted(sig, key=lambda k: (order.get(k[0], len(order)), k[0], k[1], TASKS.index(k[2])
                                      if k[2] in TASKS else len(TASKS),
                                      paper_pairs.index(k[3]) if k[3] in paper_pairs else len(paper_pairs), k[3]))


def _interval(b) -> str:
    return "n/a" if b is None else f"[{b.low:+.2f}, {b.high:+.2f}]"


def sig_lines(sig: dict[SigKey, Comparison], ours: list[Row]) -> list[list[str]]:
    """One line per comparison; without a bootstrap, Δ is the same-seed difference of the recorded F1s."""
    lines = []
    for key in sig_order(sig):
        c = sig[key]
        variant, backbone, task, pair, split = key
        boot, two = c.bootstrap, c.seed_bootstrap
        if boot is not None:
            delta, seeds = f"{boot.delta:+.2f}", str(len(boot.seeds))
        else:
            cell = (task, pair, "target", split)
            mine = next(r.cells[cell] for r in ours if r.variant == variant and r.backbone == backbone)
            theirs = next(r.cells[cell] for r in ours if r.variant == BASELINE and r.backbone == backbone)
            d = cell_delta(mine, theirs)
            delta, seeds = ("n/a" if d is None else f"{d[0]:+.2f}"), str(len(c.aso_seeds))
        p = "n/a" if two is None else f"{two.p_value:.3f}"
        t = "n/a" if c.seed_test is None else f"{c.seed_test.p_t:.3f}"
        eps = "n/a" if c.aso_epsilon is None else f"{c.aso_epsilon:.2f}" + ("" if c.aso_informative else "*")
        lines.append([variant, backbone, _cell_label(task, pair), seeds, delta, _interval(two), p, c.verdict,
                      _interval(boot), t, eps])
    return lines


SIG_CSV = ("bootstrap_delta", "ci_low", "ci_high", "p_bootstrap", "bootstrap_resamples", "bootstrap_seeds",
           "seed_ci_low", "seed_ci_high", "p_seed_bootstrap", "verdict", "t_test_p", "sign_flip_p",
           "aso_epsilon_min", "aso_seeds", "aso_informative")


def sig_csv_cells(c: Comparison | None) -> list[str]:
    """The significance columns of one CSV line: blank where no comparison applies (finetune, source
    side, dev, the paper's rows), ``n/a`` where it applies but cannot be computed. ``ci_*`` are the
    sentence-level interval, ``seed_ci_*`` the two-level one the verdict reads."""
    if c is None:
        return [""] * len(SIG_CSV)
    b, two, t = c.bootstrap, c.seed_bootstrap, c.seed_test
    boot = (["n/a"] * 6 if b is None else
            [f"{b.delta:.4f}", f"{b.low:.4f}", f"{b.high:.4f}", f"{b.p_value:.4f}", str(b.n_resamples),
             str(len(b.seeds))])
    seed = ["n/a"] * 3 if two is None else [f"{two.low:.4f}", f"{two.high:.4f}", f"{two.p_value:.4f}"]
    tests = ["n/a", "n/a"] if t is None else [f"{t.p_t:.4f}", f"{t.p_sign_flip:.4f}"]
    aso = (["n/a", str(len(c.aso_seeds)), ""] if c.aso_epsilon is None
           else [f"{c.aso_epsilon:.4f}", str(len(c.aso_seeds)), str(c.aso_informative).lower()])
    return boot + seed + [c.verdict] + tests + aso
