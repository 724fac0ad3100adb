"""Benchmark ``cjkv phonemize``: sentences/s for 1 and 2 local workers and for Ray with 2 CPUs.

Input: the unlabelled text of PAN-X zh, ja, ko and vi train (``../shared/data/xtreme``), one sentence
per line (zh/ja tokens joined, ko/vi joined with spaces), transcribed with the default tokenization
(chars for zh/ja, words for ko/vi) and scheme ``native`` into parquet, one run per language and engine.
Engines: ``local`` with 1 worker, ``local`` with 2 workers, ``ray`` on a local Ray with 2 CPUs
(2 Transcriber actors); one Ray instance serves the four languages (its ``ray.init`` is timed apart).
Each local run starts in a fresh process (the 1-worker engine transcribes in that process; the 2-worker
engine spawns its lanes from it), so no run inherits phonemizer tables or memo caches from an earlier one.

Start-up is separated from throughput: ``first_batch_s`` runs from the engine's start to the first
batch written (worker or actor set-up, phonemizer construction, one batch); throughput is the
sentences after the first batch over the seconds after it (``steady``). Targets (issue 12): steady
throughput 2 workers / 1 worker >= 1.7, Ray / local (2 workers, same 2 CPUs) >= 0.8. The three
engines' output files are also compared byte for byte. For reference, the same 1 -> 2 process ratio
is measured on a pure-Python loop (no I/O, nothing shared): the ceiling this machine gives 2 workers.

    flock -x /tmp/cjkv-cpu.lock .venv/bin/python benchmarks/bench_phonemize.py [--max-sentences N]

Prints a table and writes ``benchmarks/results/bench_phonemize.json``.
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
import logging
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from cjkv_phon.atomic import write_json
from cjkv_phon.corpus.engines import make_engine
from cjkv_phon.corpus.phonemize import PhonemizeConfig, phonemize
from cjkv_phon.data.xtreme import read_xtreme_tsv, xtreme_path
from cjkv_phon.provenance import git_commit, package_versions
from cjkv_phon.schema import LANGS

REPO = Path(__file__).resolve().parents[1]
XTREME = REPO.parent / "shared" / "data" / "xtreme"
RESULTS = REPO / "benchmarks" / "results" / "bench_phonemize.json"
ENGINES = ("local-1", "local-2", "ray-2")


def _spin(n: int) -> int:
    """Pure-Python CPU work with no I/O and no shared state (the machine's own scaling ceiling)."""
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def cpu_scaling(n: int = 6_000_000) -> dict[str, float]:
    """Seconds for 2 units of ``_spin`` on 1 process and on 2 (spawned, started before timing)."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    out = {}
    for workers in (1, 2):
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
            list(pool.map(_spin, [1] * workers))  # start the processes
            start = time.perf_counter()
            list(pool.map(_spin, [n, n]))
            out[f"{workers}_process_s"] = round(time.perf_counter() - start, 3)
    out["ratio"] = round(out["1_process_s"] / out["2_process_s"], 3)
    return out


def write_text_inputs(folder: Path, max_sentences: int | None) -> dict[str, Path]:
    """PAN-X train of each language as unlabelled text lines."""
    paths = {}
    for lang in LANGS:
        read = read_xtreme_tsv(xtreme_path(XTREME, "panx", lang, "train"), task="panx", lang=lang,
                               split="train", max_sentences=max_sentences)
        sep = "" if lang in ("zh", "ja") else " "
        paths[lang] = folder / f"train-{lang}.txt"
        paths[lang].write_text("".join(sep.join(s.tokens) + "\n" for s in read.sentences), encoding="utf-8")
    return paths


def run_engine(name: str, inputs: dict[str, Path], out: Path, batch_size: int,
               ray_engine: Any) -> dict[str, Any]:
    """Every language through one engine; per-language timings and the engine's totals."""
    runs = {}
    for lang, path in inputs.items():
        cfg = PhonemizeConfig(lang=lang, input=str(path), output=str(out / f"{name}-{lang}.parquet"),
                              engine="ray" if name.startswith("ray") else "local",
                              workers=int(name.split("-")[1]), batch_size=batch_size)
        if cfg.engine == "ray":
            report = phonemize(cfg, engine=ray_engine)
        else:  # a fresh process per run, so no run inherits tables or caches an earlier one warmed
            with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
                report = pool.submit(phonemize, cfg).result()
        first = min(batch_size, report.sentences)
        runs[lang] = {"sentences": report.sentences, "tokens": report.tokens,
                      "first_batch_sentences": first, **report.timings}
    steady_n = sum(r["sentences"] - r["first_batch_sentences"] for r in runs.values())
    steady_s = sum(r["steady_s"] for r in runs.values())
    total_n = sum(r["sentences"] for r in runs.values())
    engine_s = sum(r["first_batch_s"] + r["steady_s"] for r in runs.values())
    return {"languages": runs, "sentences": total_n,
            "startup_s": round(sum(r["first_batch_s"] for r in runs.values()), 2),
            "steady_s": round(steady_s, 2),
            "steady_sentences_per_s": round(steady_n / steady_s, 1),
            "end_to_end_sentences_per_s": round(total_n / engine_s, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--max-sentences", type=int, default=None, help="first N per language")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    console = Console()
    with tempfile.TemporaryDirectory(prefix="bench-phonemize-") as tmp:
        folder = Path(tmp)
        inputs = write_text_inputs(folder, args.max_sentences)
        start = time.perf_counter()
        ray_engine = make_engine("ray", num_cpus=2)
        ray_engine.connect()
        ray_init_s = time.perf_counter() - start
        results = {}
        for name in ENGINES:
            console.print(f"running {name} ...")
            results[name] = run_engine(name, inputs, folder, args.batch_size, ray_engine)
        identical = {lang: len({(folder / f"{e}-{lang}.parquet").read_bytes() for e in ENGINES}) == 1
                     for lang in LANGS}
    import ray

    ray.shutdown()
    ceiling = cpu_scaling()
    rate = {k: v["steady_sentences_per_s"] for k, v in results.items()}
    record = {
        "command": "flock -x /tmp/cjkv-cpu.lock .venv/bin/python benchmarks/bench_phonemize.py"
                   + (f" --max-sentences {args.max_sentences}" if args.max_sentences else ""),
        "input": "PAN-X train zh ja ko vi, unlabelled text lines"
                 + (f", first {args.max_sentences} per language" if args.max_sentences else " (all)"),
        "batch_size": args.batch_size, "scheme": "native", "ray_init_s": round(ray_init_s, 2),
        "engines": results,
        "ratios": {"local2_over_local1": round(rate["local-2"] / rate["local-1"], 3),
                   "ray2_over_local2": round(rate["ray-2"] / rate["local-2"], 3),
                   "ray2_over_local1": round(rate["ray-2"] / rate["local-1"], 3)},
        "targets": {"local2_over_local1": 1.7, "ray2_over_local2": 0.8},
        # The same 2 processes on a pure-Python loop: what 2 workers can give on this machine at best.
        "machine_cpu_scaling_2_over_1": ceiling,
        "outputs_identical_across_engines": identical,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "versions": package_versions(["ray", "pyarrow", "pypinyin", "fugashi", "viphoneme"]),
        "git_commit": git_commit(),
    }
    write_json(args.results, record)
    table = Table("engine", "sentences", "start-up s (4 langs)", "steady s", "steady sent/s",
                  "end-to-end sent/s", title=f"cjkv phonemize benchmark ({record['input']})")
    for name, r in results.items():
        table.add_row(name, str(r["sentences"]), f"{r['startup_s']:.1f}", f"{r['steady_s']:.1f}",
                      f"{r['steady_sentences_per_s']:.0f}", f"{r['end_to_end_sentences_per_s']:.0f}")
    console.print(table)
    console.print(f"ray.init: {ray_init_s:.1f} s; ratios: {record['ratios']} (targets "
                  f"{record['targets']}); identical outputs: {identical}")
    console.print(f"pure-Python loop on 2 processes vs 1 (machine ceiling): {ceiling}")
    console.print(f"wrote {args.results}")


if __name__ == "__main__":
    main()
