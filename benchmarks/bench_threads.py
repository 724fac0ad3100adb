"""Threads on a 2-core CPU: one run with 1 or 2 torch threads vs two single-thread runs side by side.

Usage (from the project root, after ``cjkv build-data`` / ``cjkv build-dict``; timed, hold the machine
exclusively, ~4 minutes)::

    flock -x /tmp/cjkv-cpu.lock .venv/bin/python benchmarks/bench_threads.py [--system finetune]
        [--pool 128] [--out benchmarks/results/bench_threads.json]

Each layout runs ``bench_train.py``'s ``after-<system>`` variant (the trainer's current defaults:
trimmed vocabulary, length-bucketed batches), i.e. a fixed number of optimizer steps on the same fixed
stream of real PAN-X zh batches, in child processes:

* ``1x1``: one process, one torch thread (the other core idle);
* ``1x2``: one process, two torch threads;
* ``2x1``: two processes, one thread each, started together (the layout of two bench processes).

Throughput is training sentences per second summed over the layout's processes, measured inside each
process over its timed steps; runs per hour scale with it. The winner is what ``cjkv bench`` uses
(``BenchConfig.workers`` x ``threads``, see benchmarks/presets/cpu.yaml).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

BENCH_TRAIN = Path(__file__).resolve().parent / "bench_train.py"
LAYOUTS = {"1x1": (1, 1), "1x2": (1, 2), "2x1": (2, 1)}


def child(system: str, threads: int, args: argparse.Namespace) -> subprocess.Popen:
    """Start one ``bench_train.py --variant after-<system>`` process with ``threads`` torch threads."""
    cmd = [sys.executable, str(BENCH_TRAIN), "--variant", f"after-{system}", "--threads", str(threads),
           "--pool", str(args.pool), "--eval-sentences", str(args.eval_sentences),
           "--data-dir", args.data_dir, "--dictionary-dir", args.dictionary_dir, "--backbone", args.backbone]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def run_layout(name: str, args: argparse.Namespace) -> dict:
    """Run one layout; its processes' measurements and their summed sentences per second."""
    processes, threads = LAYOUTS[name]
    start = time.perf_counter()
    procs = [child(args.system, threads, args) for _ in range(processes)]
    rows = []
    for proc in procs:
        out, err = proc.communicate()
        if proc.returncode:
            sys.exit(f"layout {name} failed:\n{err[-3000:]}")
        rows.append(json.loads(out.strip().splitlines()[-1]))
    wall = time.perf_counter() - start
    total = sum(r["train_sentences_per_s"] for r in rows)
    return {"processes": processes, "threads": threads, "wall_s": round(wall, 1),
            "train_sentences_per_s_each": [r["train_sentences_per_s"] for r in rows],
            "train_sentences_per_s_total": round(total, 3),
            "eval_sentences_per_s_each": [r["eval_sentences_per_s"] for r in rows],
            "s_per_step_each": [r["s_per_step"] for r in rows]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--system", default="finetune")
    parser.add_argument("--pool", type=int, default=128)
    parser.add_argument("--eval-sentences", type=int, default=200)
    parser.add_argument("--backbone", default="multilingual-e5-small")
    parser.add_argument("--data-dir", default="releases/xtreme-cjkv-phonemic/data")
    parser.add_argument("--dictionary-dir", default="build/dictionaries")
    parser.add_argument("--out", default="benchmarks/results/bench_threads.json")
    args = parser.parse_args()
    layouts = {name: run_layout(name, args) for name in LAYOUTS}
    for name, r in layouts.items():
        print(f"{name}: {r['processes']} process(es) x {r['threads']} thread(s): "
              f"{r['train_sentences_per_s_total']:.3f} training sentences/s in total "
              f"(each {r['train_sentences_per_s_each']}, s/step {r['s_per_step_each']})")
    best = max(layouts, key=lambda n: layouts[n]["train_sentences_per_s_total"])
    base = layouts["1x1"]["train_sentences_per_s_total"]
    ratios = {n: round(r["train_sentences_per_s_total"] / base, 2) for n, r in layouts.items()}
    print(f"throughput relative to one single-thread process: {ratios}; best: {best}")
    from cjkv_phon.atomic import write_json
    from cjkv_phon.provenance import git_commit
    write_json(args.out, {"system": args.system, "layouts": layouts, "relative_to_1x1": ratios, "best": best,
                          "command": " ".join([Path(sys.executable).name, *sys.argv]),
                          "settings": vars(args), "git_commit": git_commit(), "device": "cpu"})
    print(f"-> {args.out}")


if __name__ == "__main__":
    main()
