"""CLI start-up: wall time of ``cjkv --help``, ``cjkv <cmd> --help`` and an argument error.

Each command runs as a fresh ``python -m cjkv_phon.cli`` process (what a user waits for), ``--repeat``
times; the median is reported. With ``--baseline DIR`` (a checkout of older code, e.g. ``git archive
main``) the same commands run against it too and the ratio baseline/current is printed. The target
(issue 9) is under 1 s for each.

    flock -x /tmp/cjkv-cpu.lock .venv/bin/python benchmarks/bench_cli_startup.py --baseline /tmp/main-src

Figures go to ``benchmarks/results/bench_cli_startup.json``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from cjkv_phon.atomic import write_json  # noqa: E402
COMMANDS = {
    "cjkv --help": ["--help"],
    "cjkv build-data --help": ["build-data", "--help"],
    "cjkv train --help": ["train", "--help"],
    "cjkv bench --help": ["bench", "--help"],
    "cjkv train --model nope (argument error)": ["train", "--model", "nope"],
    "cjkv bench --preset nope (argument error)": ["bench", "--preset", "nope"],
}
TARGET_S = 1.0


def time_command(tree: Path, args: list[str], repeat: int) -> dict[str, float]:
    """Median and min wall seconds of ``python -m cjkv_phon.cli <args>`` with ``tree`` first on the path."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "cjkv_phon.cli", *args], cwd=tree, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
        times.append(time.perf_counter() - start)
    return {"median_s": round(statistics.median(times), 3), "min_s": round(min(times), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", type=Path, help="a checkout of the code to compare against")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "bench_cli_startup.json")
    args = parser.parse_args()

    trees = {"current": REPO, **({"baseline": args.baseline.resolve()} if args.baseline else {})}
    rows = {}
    for name, argv in COMMANDS.items():
        rows[name] = {tree: time_command(path, argv, args.repeat) for tree, path in trees.items()}
        if "baseline" in rows[name]:
            rows[name]["ratio_baseline_over_current"] = round(
                rows[name]["baseline"]["median_s"] / rows[name]["current"]["median_s"], 2)
    width = max(map(len, COMMANDS))
    head = f"{'command':<{width}}  {'current s':>9}" + ("  baseline s  ratio" if args.baseline else "")
    print(head)
    print("-" * len(head))
    for name, r in rows.items():
        line = f"{name:<{width}}  {r['current']['median_s']:>9.3f}"
        if "baseline" in r:
            line += f"  {r['baseline']['median_s']:>10.3f}  {r['ratio_baseline_over_current']:>5.1f}x"
        print(line)
    worst = max(r["current"]["median_s"] for r in rows.values())
    print(f"slowest current: {worst:.3f} s (target < {TARGET_S} s): {'met' if worst < TARGET_S else 'NOT met'}")
    record = {"commands": rows, "repeat": args.repeat, "statistic": "median wall seconds per process",
              "target_s": TARGET_S, "python": platform.python_version(), "cpu_count": os.cpu_count(),
              "baseline": str(args.baseline) if args.baseline else None}
    write_json(args.out, record)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
