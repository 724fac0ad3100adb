"""Does bf16 autocast cost accuracy? Paired fp32 vs bf16 runs of one cell: F1 differences and loss curves.

Usage (after training the same cell, seeds and data in both precisions, e.g. with the cpu-v2 preset)::

    python benchmarks/precision_parity.py --fp32 RUNS_FP32 --bf16 RUNS_BF16 [--system finetune]
        [--task panx --pair zh-vi] [--out benchmarks/results/precision-parity]

``RUNS_*`` are folders holding ``<run id>/results.json`` (searched recursively). Runs are paired by seed,
and sentences by id (both precisions saw the same sentences: the trainer's fixed subsamples).

Per seed: source and target, dev and test F1 in both precisions and their difference (bf16 - fp32).
Interval: a TWO-LEVEL paired bootstrap (seeds, then sentences): each replicate draws the seeds with
replacement and, for every drawn seed, the split's sentences with replacement (the same draw for both
precisions), computes each drawn seed's corpus-level F1 difference on its draw (seqeval micro F1 from
the summed chunk counts) and averages them. Its 95% percentile interval covers both the seed-to-seed
spread of the difference and the test sentences. With 3 seeds the seed level can only resample those
three, so the paired t interval over seeds (df = 2) is reported beside it; it is far wider and is the
conservative reading. "Not worse beyond noise" = the bootstrap interval's lower end above the
pre-declared margin (``--margin``, default -1.0 F1 points) or the interval containing 0.

Loss curves: each run's per-step training loss (``loss_curve`` in results.json), per seed and precision,
the mean absolute difference between the two precisions' curves, and the mean loss of each epoch's last
quarter; a PNG with both precisions' curves (smoothed over 10 steps) per seed.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cjkv_phon.training.sentence_scores import read_counts  # noqa: E402

SETS = (("target", "test"), ("source", "test"), ("target", "dev"), ("source", "dev"))
T_975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262}


def find_runs(root: Path, task: str, pair: str, system: str) -> dict[int, dict[str, Any]]:
    """seed -> results record of ``<task>_<pair>_<system>_s<seed>`` under ``root``."""
    runs = {}
    for path in sorted(root.rglob(f"{task}_{pair}_{system}_s*/results.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        runs[int(record["seed"])] = record
    if not runs:
        raise SystemExit(f"no {task}_{pair}_{system}_s*/results.json under {root}")
    return runs


def f1(counts: np.ndarray) -> np.ndarray:
    """seqeval micro F1 (0..100) over the last axis (correct, predicted, gold); 0 on zero division."""
    c, p, g = counts[..., 0], counts[..., 1], counts[..., 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        prec = np.where(p > 0, c / np.where(p > 0, p, 1), 0.0)
        rec = np.where(g > 0, c / np.where(g > 0, g, 1), 0.0)
        den = prec + rec
        return 100.0 * np.where(den > 0, 2 * prec * rec / np.where(den > 0, den, 1), 0.0)


def paired_counts(a: dict[int, dict], b: dict[int, dict], side: str, split: str) -> tuple[list[int], np.ndarray, np.ndarray]:
    """Seeds and (seeds, sentences, 3) counts of both precisions in one sentence order."""
    seeds = sorted(set(a) & set(b))
    ref = read_counts(a[seeds[0]], side, split)
    pos = {sid: k for k, sid in enumerate(ref.ids)}
    out = []
    for runs in (a, b):
        rows = []
        for s in seeds:
            sc = read_counts(runs[s], side, split)
            if set(sc.ids) != set(pos):
                raise SystemExit(f"seed {s} {side}-{split}: other sentences than seed {seeds[0]}")
            arr = np.empty_like(sc.counts)
            arr[[pos[i] for i in sc.ids]] = sc.counts
            rows.append(arr)
        out.append(np.stack(rows).astype(np.float64))
    return seeds, out[0], out[1]


def two_level_bootstrap(a: np.ndarray, b: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Replicates of mean-over-seeds (F1(b) - F1(a)), resampling seeds then sentences (module docstring)."""
    rng = np.random.default_rng(seed)
    k, m, _ = a.shape
    out = np.empty(n)
    for r in range(n):
        seeds = rng.integers(0, k, size=k)
        diffs = []
        for s in seeds:
            w = np.bincount(rng.integers(0, m, size=m), minlength=m).astype(np.float64)
            diffs.append(f1(w @ b[s]) - f1(w @ a[s]))
        out[r] = np.mean(diffs)
    return out


def paired_t(deltas: list[float]) -> tuple[float, float]:
    """95% paired t interval of the mean of per-seed differences."""
    d = np.asarray(deltas)
    if len(d) < 2:
        return float("nan"), float("nan")
    half = T_975.get(len(d) - 1, 1.96) * d.std(ddof=1) / math.sqrt(len(d))
    return float(d.mean() - half), float(d.mean() + half)


def loss_summary(curves: dict[str, dict[int, list[float]]]) -> dict[str, Any]:
    """Per seed: mean |loss_bf16 - loss_fp32| over steps, and each precision's mean loss over the last 20% of steps."""
    out = {}
    for s in sorted(set(curves["fp32"]) & set(curves["bf16"])):
        a, b = np.asarray(curves["fp32"][s]), np.asarray(curves["bf16"][s])
        n = min(len(a), len(b))
        tail = max(1, n // 5)
        out[str(s)] = {"steps": n, "mean_abs_diff": round(float(np.abs(a[:n] - b[:n]).mean()), 4),
                       "first_step": [round(float(a[0]), 5), round(float(b[0]), 5)],
                       "last_20pct_mean": {"fp32": round(float(a[n - tail:n].mean()), 4),
                                           "bf16": round(float(b[n - tail:n].mean()), 4)}}
    return out


def plot(curves: dict[str, dict[int, list[float]]], path: Path) -> None:
    """Both precisions' loss curves per seed, smoothed over 10 steps."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    seeds = sorted(set(curves["fp32"]) & set(curves["bf16"]))
    fig, axes = plt.subplots(1, len(seeds), figsize=(4 * len(seeds), 3), sharey=True, squeeze=False)
    for ax, s in zip(axes[0], seeds):
        for p, style in (("fp32", "-"), ("bf16", "--")):
            y = np.asarray(curves[p][s])
            smooth = np.convolve(y, np.ones(10) / 10, mode="valid")
            ax.plot(np.arange(len(smooth)) + 10, smooth, style, label=p)
        ax.set_title(f"seed {s}")
        ax.set_xlabel("step")
    axes[0][0].set_ylabel("training loss (10-step mean)")
    axes[0][0].legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fp32", type=Path, required=True)
    parser.add_argument("--bf16", type=Path, required=True)
    parser.add_argument("--task", default="panx")
    parser.add_argument("--pair", default="zh-vi")
    parser.add_argument("--system", default="finetune")
    parser.add_argument("--resamples", type=int, default=2000)
    parser.add_argument("--margin", type=float, default=-1.0, help="F1 points bf16 may lose and still count as parity")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/precision-parity"))
    args = parser.parse_args()
    runs = {"fp32": find_runs(args.fp32, args.task, args.pair, args.system),
            "bf16": find_runs(args.bf16, args.task, args.pair, args.system)}
    for p, rs in runs.items():
        for s, r in rs.items():
            got = r["config"].get("precision", "fp32")
            if got != p:
                raise SystemExit(f"{p} seed {s}: the record says precision {got!r}")
    report: dict[str, Any] = {"cell": f"{args.task} {args.pair} {args.system}", "seeds": {}, "sets": {},
                              "interval": "two-level paired bootstrap (seeds, then sentences), 95% percentile; "
                                          "paired t over seeds beside it", "margin": args.margin}
    for side, split in SETS:
        seeds, a, b = paired_counts(runs["fp32"], runs["bf16"], side, split)
        per_seed = {s: (float(f1(a[k].sum(0))), float(f1(b[k].sum(0)))) for k, s in enumerate(seeds)}
        deltas = [bf - fp for fp, bf in per_seed.values()]
        reps = two_level_bootstrap(a, b, args.resamples, seed=0)
        low, high = np.percentile(reps, [2.5, 97.5])
        t_low, t_high = paired_t(deltas)
        key = f"{side}_{split}"
        for s, (fp, bf) in per_seed.items():
            report["seeds"].setdefault(str(s), {})[key] = {"fp32": round(fp, 3), "bf16": round(bf, 3),
                                                           "delta": round(bf - fp, 3)}
        report["sets"][key] = {"delta": round(float(np.mean(deltas)), 3), "bootstrap_95": [round(low, 3), round(high, 3)],
                               "paired_t_95": [round(t_low, 3), round(t_high, 3)], "sentences": int(a.shape[1]),
                               "not_worse": bool(low > args.margin or low <= 0 <= high)}
    curves = {p: {s: [c["loss"] for c in r["loss_curve"]] for s, r in rs.items() if r.get("loss_curve")}
              for p, rs in runs.items()}
    if curves["fp32"] and curves["bf16"]:
        report["loss_curves"] = loss_summary(curves)
        plot(curves, args.out / "loss_curves.png")
    report["timings"] = {p: {str(s): r["timings"] for s, r in rs.items()} for p, rs in runs.items()}
    from cjkv_phon.atomic import write_json
    write_json(args.out / "parity.json", report)
    print(f"{'set':<12} {'delta':>7} {'bootstrap 95%':>18} {'paired t 95%':>18}")
    for key, v in report["sets"].items():
        print(f"{key:<12} {v['delta']:>+7.2f} [{v['bootstrap_95'][0]:+6.2f}, {v['bootstrap_95'][1]:+6.2f}] "
              f"[{v['paired_t_95'][0]:+6.2f}, {v['paired_t_95'][1]:+6.2f}]")
    print(f"-> {args.out / 'parity.json'}")


if __name__ == "__main__":
    main()
