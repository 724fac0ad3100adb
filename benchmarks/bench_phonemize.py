"""Benchmark ``cjkv phonemize``: sentences/s for 1 and 2 local workers and for Ray with 2 CPUs.

The real run (idle cores: nothing else running; about 1.5 minutes on 2 cores; writes
``benchmarks/results/bench_phonemize.json``)::

    flock -x /tmp/cjkv-cpu.lock .venv/bin/python benchmarks/bench_phonemize.py

A diagnostic run on a machine that is busy with other work (wall-clock figures disturbed; the CPU
figures are what to read; writes ``benchmarks/results/bench_phonemize_diagnosis.json``)::

    nice -n 19 .venv/bin/python benchmarks/bench_phonemize.py --loaded "training grid on both cores" \\
        --engines local-1 local-2 --repeats 2

Input: the unlabelled text of PAN-X zh, ja, ko and vi train (``../shared/data/xtreme``, 20k sentences
each), one sentence per line (zh/ja tokens joined, ko/vi joined with spaces), transcribed with the
default tokenization (chars for zh/ja, words for ko/vi) and scheme ``native`` into parquet, one run
per language and engine. Engines: ``local-1`` (in the run's process), ``local-2`` (2 worker
processes, forked from a parent that set up once; ``--start-method spawn`` to compare), ``ray-2``
(a local Ray with 2 CPUs, 2 Transcriber actors; one Ray instance serves the four languages, its
``ray.init`` timed apart). Each local run starts in a fresh process, so no run inherits phonemizer
tables or memo caches from an earlier one. The engines' output files are compared byte for byte.

Wall clock. Start-up is separated from throughput: ``first_batch_s`` runs from the engine's start to
the first batch written (set-up, forking or spawning workers, one batch); throughput (``steady``) is
the sentences after the first batch over the seconds after it. Targets (issue 12): steady throughput
local-2 / local-1 >= 1.7, ray-2 / local-2 >= 0.8.

CPU time (``time.process_time`` of each process, which other load disturbs far less than wall time)
explains the scaling: per worker, the CPU seconds inside its batches and the memo misses (distinct
units it had to compute: 2 workers each compute the units they meet, so shared units are computed
twice); the parent's serial CPU (batches out, results in, merging, writing, counting; reading the
input is before the engine starts and not counted); set-up CPU. From them, a model of the steady
time on C idle cores: ``worker CPU + parent serial`` for local-1 (it transcribes in the parent),
``max(max worker CPU, (sum of worker CPU + parent serial) / C)`` for N workers, summed over the
languages; their ratio is the scaling the engine allows when nothing else competes for the cores
(``model_local2_over_local1``), the wall-clock ratio is what this run got. For the machine itself,
the same 1 -> 2 process comparison on a pure-Python loop (no I/O, nothing shared): its wall ratio
is the ceiling 2 processes get here, and its CPU seconds per process, alone and side by side, show
how much running two at once slows each (shared caches, a loaded host).
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
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
DIAGNOSIS = REPO / "benchmarks" / "results" / "bench_phonemize_diagnosis.json"
ENGINES = ("local-1", "local-2", "ray-2")
# Not run by default: 2 spawned workers, each importing and setting up on its own (the engine's
# only way on platforms without fork), to show what the fork start saves.
EXTRA_ENGINES = ("local-2-spawn",)


def _spin(n: int) -> float:
    """Pure-Python CPU work with no I/O and no shared state; returns its CPU seconds."""
    start = time.process_time()
    total = 0
    for i in range(n):
        total += i * i % 7
    assert total >= 0
    return time.process_time() - start


def cpu_scaling(n: int = 6_000_000) -> dict[str, float]:
    """Seconds for 2 units of ``_spin`` on 1 process and on 2 (spawned, started before timing)."""
    out: dict[str, float] = {}
    for workers in (1, 2):
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
            list(pool.map(_spin, [1] * workers))  # start the processes
            start = time.perf_counter()
            cpu = list(pool.map(_spin, [n, n]))
            out[f"{workers}_process_s"] = round(time.perf_counter() - start, 3)
            out[f"{workers}_process_cpu_s_per_unit"] = round(sum(cpu) / 2, 3)
    out["ratio"] = round(out["1_process_s"] / out["2_process_s"], 3)
    # > 1: a unit costs more CPU when two run side by side (shared core or caches, host load)
    out["side_by_side_cpu_inflation"] = round(out["2_process_cpu_s_per_unit"]
                                              / out["1_process_cpu_s_per_unit"], 3)
    return out


def write_text_inputs(folder: Path, langs: list[str], max_sentences: int | None) -> dict[str, Path]:
    """PAN-X train of each language as unlabelled text lines."""
    paths = {}
    for lang in langs:
        read = read_xtreme_tsv(xtreme_path(XTREME, "panx", lang, "train"), task="panx", lang=lang,
                               split="train", max_sentences=max_sentences)
        sep = "" if lang in ("zh", "ja") else " "
        paths[lang] = folder / f"train-{lang}.txt"
        paths[lang].write_text("".join(sep.join(s.tokens) + "\n" for s in read.sentences), encoding="utf-8")
    return paths


def model_seconds(cpu: dict[str, Any], cores: int) -> float:
    """Steady seconds on ``cores`` idle cores implied by a run's CPU accounting (module docstring)."""
    work = cpu["worker_transcribe_cpu_s"]
    if cpu["start_method"] == "inline":
        return sum(work) + cpu["parent_serial_cpu_s"]
    return max(max(work), (sum(work) + cpu["parent_serial_cpu_s"]) / min(cores, len(work) + 1))


def run_engine(name: str, inputs: dict[str, Path], out: Path, batch_size: int, start_method: str,
               ray_engine: Any) -> dict[str, Any]:
    """Every language through one engine; per-language timings, CPU accounting and totals."""
    runs = {}
    for lang, path in inputs.items():
        cfg = PhonemizeConfig(lang=lang, input=str(path), output=str(out / f"{name}-{lang}.parquet"),
                              engine="ray" if name.startswith("ray") else "local",
                              workers=int(name.split("-")[1]), batch_size=batch_size,
                              start_method="spawn" if name.endswith("-spawn") else start_method)
        if cfg.engine == "ray":
            report = phonemize(cfg, engine=ray_engine)
        else:  # a fresh process per run, so no run inherits tables or caches an earlier one warmed
            with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
                report = pool.submit(phonemize, cfg).result()
        first = min(batch_size, report.sentences)
        runs[lang] = {"sentences": report.sentences, "tokens": report.tokens,
                      "first_batch_sentences": first, **report.timings}
        if report.cpu:
            runs[lang]["cpu"] = report.cpu
            runs[lang]["cpu"]["model_steady_s"] = round(model_seconds(report.cpu, os.cpu_count() or 1), 4)
    steady_n = sum(r["sentences"] - r["first_batch_sentences"] for r in runs.values())
    steady_s = sum(r["steady_s"] for r in runs.values())
    total_n = sum(r["sentences"] for r in runs.values())
    engine_s = sum(r["first_batch_s"] + r["steady_s"] for r in runs.values())
    record = {"languages": runs, "sentences": total_n,
              "startup_s": round(sum(r["first_batch_s"] for r in runs.values()), 2),
              "steady_s": round(steady_s, 2),
              "steady_sentences_per_s": round(steady_n / steady_s, 1) if steady_s > 0 else 0.0,
              "end_to_end_sentences_per_s": round(total_n / engine_s, 1)}
    if all("cpu" in r for r in runs.values()):
        record["cpu"] = cpu_totals([r["cpu"] for r in runs.values()])
    return record


def cpu_totals(per_lang: list[dict[str, Any]]) -> dict[str, Any]:
    """The CPU accounting summed over the languages (per worker index for the workers)."""
    width = len(per_lang[0]["worker_transcribe_cpu_s"])

    def per_worker(key: str) -> list[float]:
        return [round(sum(c[key][i] for c in per_lang), 3) for i in range(width)]

    return {"start_method": per_lang[0]["start_method"],
            "worker_transcribe_cpu_s": per_worker("worker_transcribe_cpu_s"),
            "worker_memo_misses": [int(x) for x in per_worker("worker_memo_misses")],
            "worker_page_faults": [int(x) for x in per_worker("worker_page_faults")],
            "worker_setup_cpu_s": per_worker("worker_setup_cpu_s"),
            "parent_setup_cpu_s": round(sum(c["parent_setup_cpu_s"] for c in per_lang), 3),
            "parent_serial_cpu_s": round(sum(c["parent_serial_cpu_s"] for c in per_lang), 3),
            "parent_read_cpu_s": round(sum(c["parent_read_cpu_s"] for c in per_lang), 3),
            "model_steady_s": round(sum(c["model_steady_s"] for c in per_lang), 3)}


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Of repeated runs of one engine, the one with the median steady time (its figures whole)."""
    ranked = sorted(runs, key=lambda r: r["steady_s"])
    chosen = dict(ranked[(len(ranked) - 1) // 2])
    chosen["repeats_steady_s"] = [r["steady_s"] for r in runs]
    if all("cpu" in r for r in runs):
        chosen["repeats_model_steady_s"] = [r["cpu"]["model_steady_s"] for r in runs]
        chosen["repeats_worker_transcribe_cpu_s"] = [r["cpu"]["worker_transcribe_cpu_s"] for r in runs]
    return chosen


def ratios(results: dict[str, Any]) -> dict[str, float]:
    """Wall-clock and CPU-model ratios between the engines that ran."""
    rate = {k: v["steady_sentences_per_s"] for k, v in results.items()}
    out = {}
    for a, b in (("local-2", "local-1"), ("ray-2", "local-2"), ("ray-2", "local-1")):
        if a in rate and b in rate and rate[b] > 0:
            out[f"{a.replace('-', '')}_over_{b.replace('-', '')}"] = round(rate[a] / rate[b], 3)
    if "local-1" in results and "local-2" in results and "cpu" in results["local-2"]:
        one, two = results["local-1"]["cpu"], results["local-2"]["cpu"]
        out["model_local2_over_local1"] = round(one["model_steady_s"] / two["model_steady_s"], 3)
        # > 1: the 2 workers did more CPU work than 1 did alone (duplicate memo misses, contention)
        out["worker_cpu_2_over_1"] = round(sum(two["worker_transcribe_cpu_s"])
                                           / sum(one["worker_transcribe_cpu_s"]), 3)
        out["memo_misses_2_over_1"] = round(sum(two["worker_memo_misses"])
                                            / max(1, sum(one["worker_memo_misses"])), 3)
    return out


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--max-sentences", type=int, default=None, help="first N per language")
    parser.add_argument("--langs", nargs="+", default=list(LANGS), choices=LANGS)
    parser.add_argument("--engines", nargs="+", default=list(ENGINES), choices=ENGINES + EXTRA_ENGINES)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--start-method", default="auto", choices=("auto", "fork", "spawn"))
    parser.add_argument("--repeats", type=int, default=1,
                        help="runs per engine, interleaved (the median steady time is reported)")
    parser.add_argument("--loaded", metavar="NOTE", default=None,
                        help="the machine is busy with other work (say what): recorded, and the "
                             "results go to bench_phonemize_diagnosis.json unless --results is given")
    parser.add_argument("--results", type=Path, default=None)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    results_path = args.results or (DIAGNOSIS if args.loaded else RESULTS)
    logging.basicConfig(level=logging.WARNING)
    console = Console()
    load_before = os.getloadavg()
    if not args.loaded and load_before[0] > 0.5:
        console.print(f"[yellow]warning:[/yellow] load average {load_before[0]:.2f}: something else is "
                      "running; wall-clock figures will be disturbed (use --loaded NOTE for a diagnosis)")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-phonemize-") as tmp:
        folder = Path(tmp)
        inputs = write_text_inputs(folder, args.langs, args.max_sentences)
        ray_engine, ray_init_s = None, None
        if "ray-2" in args.engines:
            start = time.perf_counter()
            ray_engine = make_engine("ray", num_cpus=2)
            ray_engine.connect()
            ray_init_s = round(time.perf_counter() - start, 2)
        repeated: dict[str, list[dict[str, Any]]] = {name: [] for name in args.engines}
        for repeat in range(args.repeats):
            for name in args.engines:
                console.print(f"running {name} ({repeat + 1}/{args.repeats}) ...")
                repeated[name].append(run_engine(name, inputs, folder, args.batch_size,
                                                 args.start_method, ray_engine))
        identical = {lang: len({(folder / f"{e}-{lang}.parquet").read_bytes() for e in args.engines}) == 1
                     for lang in args.langs}
    if ray_engine is not None:
        import ray

        ray.shutdown()
    ceiling = cpu_scaling()
    results = {name: median_run(runs) for name, runs in repeated.items()}
    record = {
        "command": " ".join(["benchmarks/bench_phonemize.py", *sys.argv[1:]]),
        "machine_loaded": bool(args.loaded),
        "loaded_note": args.loaded,
        "load_average_1_5_15": {"before": [round(x, 2) for x in load_before],
                                "after": [round(x, 2) for x in os.getloadavg()]},
        "input": f"PAN-X train {' '.join(args.langs)}, unlabelled text lines"
                 + (f", first {args.max_sentences} per language" if args.max_sentences else " (all)"),
        "batch_size": args.batch_size, "scheme": "native", "start_method": args.start_method,
        "repeats": args.repeats, "ray_init_s": ray_init_s, "engines": results,
        "ratios": ratios(results),
        "targets": {"local2_over_local1": 1.7, "ray2_over_local2": 0.8},
        "machine_cpu_scaling_2_over_1": ceiling,
        "outputs_identical_across_engines": identical,
        "bench_wall_s": round(time.perf_counter() - started, 1),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
        "versions": package_versions(["ray", "pyarrow", "pypinyin", "fugashi", "viphoneme"]),
        "git_commit": git_commit(),
    }
    write_json(results_path, record)
    print_tables(console, record)
    console.print(f"wrote {results_path}")


def print_tables(console: Console, record: dict[str, Any]) -> None:
    """The wall-clock table, the CPU table and the ratios."""
    results = record["engines"]
    wall = Table("engine", "sentences", "start-up s", "steady s", "steady sent/s", "end-to-end sent/s",
                 title=f"cjkv phonemize, wall clock ({record['input']})"
                       + (" -- MACHINE LOADED" if record["machine_loaded"] else ""))
    for name, r in results.items():
        wall.add_row(name, str(r["sentences"]), f"{r['startup_s']:.1f}", f"{r['steady_s']:.2f}",
                     f"{r['steady_sentences_per_s']:.0f}", f"{r['end_to_end_sentences_per_s']:.0f}")
    console.print(wall)
    cpu = Table("engine", "start", "worker CPU s", "memo misses", "parent serial CPU s", "set-up CPU s",
                "model steady s", title="CPU time (process_time per process, summed over languages)")
    for name, r in results.items():
        if "cpu" not in r:
            continue
        c = r["cpu"]
        setup = c["parent_setup_cpu_s"] + sum(c["worker_setup_cpu_s"])
        cpu.add_row(name, c["start_method"], " + ".join(f"{x:.2f}" for x in c["worker_transcribe_cpu_s"]),
                    " + ".join(str(x) for x in c["worker_memo_misses"]), f"{c['parent_serial_cpu_s']:.2f}",
                    f"{setup:.2f}", f"{c['model_steady_s']:.2f}")
    console.print(cpu)
    console.print(f"ratios: {record['ratios']} (targets {record['targets']}); identical outputs: "
                  f"{record['outputs_identical_across_engines']}; ray.init: {record['ray_init_s']} s")
    console.print(f"pure-Python loop, 2 processes vs 1 (machine ceiling): {record['machine_cpu_scaling_2_over_1']}")
    console.print(f"load average before/after: {record['load_average_1_5_15']}; bench {record['bench_wall_s']} s")


if __name__ == "__main__":
    main()
