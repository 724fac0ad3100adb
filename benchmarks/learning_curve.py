"""Learning curve for sizing a CPU preset: finetune on one cell at several training-set sizes, one seed.

Each point is one run of the preset (``cpu-v2`` by default) with only ``max_train_sentences`` changed, so
the point whose size the preset adopts is the grid's own seed-1 finetune run (same config hash: copy or
point the grid at it and the runner skips it). Prints a table of source/target F1 and measured training
time per step, and writes ``<results>/curve.json``.

    .venv/bin/python benchmarks/learning_curve.py --sizes 500,1000,2000        # one process
    .venv/bin/python benchmarks/learning_curve.py --sizes 2000 & \\
    .venv/bin/python benchmarks/learning_curve.py --sizes 500,1000             # two cores
    .venv/bin/python benchmarks/learning_curve.py --report                     # table of what is done
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cjkv_phon.atomic import write_json  # noqa: E402
from cjkv_phon.bench.presets import RESULTS_DIR, load_preset  # noqa: E402


def point_dir(results: Path, size: int) -> Path:
    return results / f"n{size}"


def run_point(preset: str, task: str, pair: str, size: int, results: Path, threads: int) -> None:
    """Train (or skip, if done) the finetune seed-1 run at ``size`` training sentences."""
    from cjkv_phon.bench.runner import run_bench
    cfg = load_preset(preset, {"models": ("finetune",), "tasks": (task,), "pairs": (pair,), "seeds": 1,
                               "workers": 1, "threads": threads,
                               "results_dir": str(point_dir(results, size))},
                      train={"max_train_sentences": size})
    run_bench(cfg)


def collect(results: Path) -> list[dict]:
    """One row per finished point: size, steps, source/target dev and test F1, seconds per step."""
    rows = []
    for path in sorted(results.glob("n*/**/results.json")):
        r = json.loads(path.read_text(encoding="utf-8"))
        m, t = r["metrics"], r["timings"]
        rows.append({"train_sentences": r["config"]["max_train_sentences"], "steps": t["steps"],
                     "best_step": r.get("selection", {}).get("best_step"),
                     "source_dev_f1": m["source"]["dev"]["f1"], "source_test_f1": m["source"]["test"]["f1"],
                     "target_dev_f1": m["target"]["dev"]["f1"], "target_test_f1": m["target"]["test"]["f1"],
                     "train_s": t["train_s"], "s_per_step": round(t["train_s"] / max(t["steps"], 1), 3),
                     "eval_s": t["eval_s"], "run": str(path.parent)})
    return sorted(rows, key=lambda row: row["train_sentences"])


def table(rows: list[dict]) -> str:
    head = "| train sentences | steps | best step | source dev F1 | source test F1 | target test F1 | s/step | eval s |"
    lines = [head, "|" + "---|" * 8]
    for r in rows:
        lines.append(f"| {r['train_sentences']} | {r['steps']} | {r['best_step']} | {r['source_dev_f1']:.1f} | "
                     f"{r['source_test_f1']:.1f} | {r['target_test_f1']:.1f} | {r['s_per_step']:.2f} | "
                     f"{r['eval_s']:.0f} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="cpu-v2")
    ap.add_argument("--task", default="panx")
    ap.add_argument("--pair", default="zh-vi")
    ap.add_argument("--sizes", default="", help="comma-separated training-set sizes to run")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--results", default=str(RESULTS_DIR / "cpu-v2-curve"))
    ap.add_argument("--report", action="store_true", help="only print and write the table")
    args = ap.parse_args()
    results = Path(args.results)
    if not args.report:
        for size in [int(s) for s in args.sizes.split(",") if s]:
            run_point(args.preset, args.task, args.pair, size, results, args.threads)
    rows = collect(results)
    write_json(results / "curve.json", {"preset": args.preset, "task": args.task, "pair": args.pair,
                                        "system": "finetune", "seed": 1, "points": rows})
    print(table(rows))


if __name__ == "__main__":
    main()
