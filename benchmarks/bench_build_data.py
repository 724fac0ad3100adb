"""Benchmark ``cjkv build-data``: the full build, both schemes, with and without phonemizer caching.

Builds every (task, lang, split) the default recipe lists (2 tasks x 4 languages x 3 splits, minus
UDPOS Korean train) for each scheme into a temporary folder, first with caching on (the normal build),
then the same build with ``cache=False`` (``get_phonemizer(..., cache=False)``), so the caching speedup
is a ratio from one run on one machine. Prints wall time and tokens/s per language and scheme, and
writes the figures to ``benchmarks/results/build_data.json``.

Tokens/s per language divides the language's tokens by the seconds its files took inside the workers
(reading, phonemizer construction in each worker, transcription, writing); the wall time is the whole
build. Target (issue): the cached build of both schemes under 120 s on a 2-core machine, --workers 2.

    .venv/bin/python benchmarks/bench_build_data.py [--workers 2] [--max-sentences N] [--no-baseline]
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from cjkv_phon.atomic import write_json
from cjkv_phon.data.build import build_data
from cjkv_phon.data.build_plan import BuildDataConfig, BuildReport
from cjkv_phon.provenance import git_commit
from cjkv_phon.recipes import config_to_dict, load_config
from cjkv_phon.schema import LANGS, SCHEMES

REPO = Path(__file__).resolve().parents[1]
RECIPE = REPO / "pipelines" / "build-data.yaml"
RESULTS = REPO / "benchmarks" / "results" / "build_data.json"


def per_language(report: BuildReport) -> dict[str, dict[str, float]]:
    """Tokens, in-worker seconds and tokens/s per language for one build."""
    sums: dict[str, dict[str, float]] = defaultdict(lambda: {"tokens": 0, "file_seconds": 0.0})
    for f in report.files:
        sums[f.lang]["tokens"] += f.tokens
        sums[f.lang]["file_seconds"] += f.seconds
    return {lang: {**s, "file_seconds": round(s["file_seconds"], 2),
                   "tokens_per_s": round(s["tokens"] / s["file_seconds"]) if s["file_seconds"] else 0}
            for lang, s in sorted(sums.items(), key=lambda kv: LANGS.index(kv[0]))}


def run_build(cfg: BuildDataConfig) -> dict[str, Any]:
    """Build once into ``cfg.out`` and return its timing record."""
    start = time.perf_counter()
    report = build_data(cfg)
    wall = time.perf_counter() - start
    tokens = sum(f.tokens for f in report.files)
    return {"scheme": cfg.scheme, "cache": cfg.cache, "files": len(report.files), "tokens": tokens,
            "wall_s": round(wall, 2), "tokens_per_s": round(tokens / wall),
            "per_lang": per_language(report)}


def show(runs: list[dict[str, Any]]) -> None:
    """Print one row per (run, language) and the run totals."""
    table = Table("scheme", "cache", "lang", "tokens", "file seconds", "tokens/s",
                  title="cjkv build-data benchmark")
    for r in runs:
        for lang, s in r["per_lang"].items():
            table.add_row(r["scheme"], str(r["cache"]), lang, str(s["tokens"]), str(s["file_seconds"]),
                          str(s["tokens_per_s"]))
        table.add_row(r["scheme"], str(r["cache"]), "all (wall)", str(r["tokens"]), str(r["wall_s"]),
                      str(r["tokens_per_s"]), style="bold")
    Console().print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--max-sentences", type=int, default=None, help="Per file (default: all).")
    parser.add_argument("--no-baseline", action="store_true", help="Skip the cache=False builds.")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-build-data-") as tmp:
        for cache in (True,) if args.no_baseline else (True, False):
            for scheme in SCHEMES:
                cfg = load_config(BuildDataConfig, RECIPE, dict(
                    source=str(REPO.parent / "shared" / "data" / "xtreme"), scheme=scheme,
                    workers=args.workers, max_sentences=args.max_sentences, cache=cache,
                    out=str(Path(tmp) / f"{scheme}-{'cached' if cache else 'uncached'}")))
                runs.append(run_build(cfg))
    show(runs)
    wall = {c: sum(r["wall_s"] for r in runs if r["cache"] is c) for c in (True, False)}
    result = {
        "runs": runs, "wall_s_both_schemes_cached": round(wall[True], 2),
        "wall_s_both_schemes_uncached": round(wall[False], 2) if wall[False] else None,
        "cache_speedup": round(wall[False] / wall[True], 2) if wall[False] else None,
        "target_s": 120, "workers": args.workers, "max_sentences": args.max_sentences,
        "config": config_to_dict(cfg), "git_commit": git_commit(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": platform.python_version()},
    }
    write_json(args.results, result)
    Console().print(f"both schemes, cached: {result['wall_s_both_schemes_cached']} s "
                    f"(target {result['target_s']} s); caching speedup: {result['cache_speedup']}x; "
                    f"written to {args.results}")


if __name__ == "__main__":
    main()
