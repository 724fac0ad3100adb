"""Benchmark Mandarin polyphones in context: CPP dev accuracy, confusions and speed, side by side.

Accuracy (``cjkv_phon.data.polyphone_eval``): the zh phonemizer's readings (``native``: phrase
readings + g2pM's model), the same without the model (``phrases``, landed main), plain pypinyin and
the g2pM package as published, all on ``../shared/data/cpp/dev`` in the same run; on all sentences,
the ``tune`` half (0-based even lines, where the threshold was chosen) and the ``held`` half.

Speed of the zh phonemizer in the build (sentences/s per worker): ``transcribe`` of character tokens,
one sentence at a time and through ``transcribe_sentences`` (the build's path, the model batched per
256 sentences), on CPP dev and on PAN-X zh train (``../shared/data/xtreme``, first ``--panx``
sentences). Wall-clock and CPU (``time.process_time``) rates are both given: on a loaded machine the
CPU rate is the less disturbed one (the model runs on one thread, so CPU seconds are this process's
work). The load averages at start and end are recorded. The batched and one-at-a-time outputs are
compared (they must be equal).

    nice -n 5 .venv/bin/python benchmarks/bench_cpp.py --loaded "other sessions on both cores"
    flock -x /tmp/cjkv-cpu.lock .venv/bin/python benchmarks/bench_cpp.py      # idle machine

Writes ``benchmarks/results/bench_cpp.json`` and prints the README table.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any, Callable, Sequence

from cjkv_phon.atomic import write_json
from cjkv_phon.data.polyphone_eval import SYSTEMS, evaluate_polyphones, markdown_table, read_cpp
from cjkv_phon.provenance import git_commit, package_versions

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
RESULTS = REPO / "benchmarks" / "results" / "bench_cpp.json"


def _timed(run: Callable[[], Any]) -> tuple[Any, float, float]:
    """``run()``'s result, wall seconds, CPU seconds of this process."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = run()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def phonemizer_speed(sentences: Sequence[Sequence[str]]) -> dict[str, Any]:
    """Sentences/s of the zh phonemizer, one at a time and batched as the build runs it."""
    from cjkv_phon.data.phonemize.zh import NativeZh
    from cjkv_phon.data.transcriber import transcribe_sentences

    out: dict[str, Any] = {"sentences": len(sentences)}
    results = {}
    for mode in ("one_at_a_time", "batched"):
        zh = NativeZh()  # fresh memo caches for each mode
        zh.transcribe(["中", "国"])
        run = ((lambda: [zh.transcribe(s) for s in sentences]) if mode == "one_at_a_time"
               else (lambda: transcribe_sentences(zh, sentences)))
        results[mode], wall, cpu = _timed(run)
        out[mode] = {"wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
                     "sentences_per_s_wall": round(len(sentences) / wall, 1),
                     "sentences_per_s_cpu": round(len(sentences) / cpu, 1)}
    out["batched_equals_one_at_a_time"] = results["batched"] == results["one_at_a_time"]
    return out


def panx_sentences(limit: int) -> list[list[str]]:
    """The first ``limit`` PAN-X zh train sentences, one character per token."""
    from cjkv_phon.data.xtreme import read_xtreme_tsv

    path = DATA / "xtreme" / "panx" / "train-zh.tsv"
    read = read_xtreme_tsv(path, task="panx", lang="zh", split="train", max_sentences=limit)
    return [list(s.tokens) for s in read.sentences]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cpp", type=Path, default=DATA / "cpp")
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--panx", type=int, default=5000, help="PAN-X zh sentences for the speed run.")
    parser.add_argument("--loaded", default="", help="Say what else ran (timings disturbed).")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args()
    load_before = os.getloadavg()
    items = read_cpp(args.cpp)
    accuracy = evaluate_polyphones(items, args.systems.split(","))
    for name, r in accuracy.items():
        print(f"{name}: {100 * r['accuracy']:.2f}% (tune {100 * r['accuracy_tune']:.2f}%, held "
              f"{100 * r['accuracy_held']:.2f}%), {r['sentences_per_s']:.0f} sentences/s", flush=True)
        top = sorted(r["top_confusions"].items(), key=lambda kv: -kv[1])[:10]
        print("  top confusions (char gold>read: n): " + ", ".join(f"{k}: {n}" for k, n in top))
    speed = {"cpp_dev": phonemizer_speed([list(it.sentence) for it in items]),
             "panx_zh_train": phonemizer_speed(panx_sentences(args.panx))}
    for corpus, s in speed.items():
        print(f"zh phonemizer on {corpus}: " + ", ".join(
            f"{mode} {s[mode]['sentences_per_s_wall']:.0f}/s wall, {s[mode]['sentences_per_s_cpu']:.0f}/s CPU"
            for mode in ("one_at_a_time", "batched")) + f"; equal: {s['batched_equals_one_at_a_time']}",
            flush=True)
    report = {"cpp": str(args.cpp), "accuracy": accuracy, "phonemizer_speed": speed,
              "loaded": args.loaded or None, "git_commit": git_commit(),
              "load_average_1_5_15": {"start": [round(x, 2) for x in load_before],
                                      "end": [round(x, 2) for x in os.getloadavg()]},
              "cpus": os.cpu_count(),
              "versions": package_versions(["pypinyin", "g2pM", "torch", "numpy"])}
    write_json(args.results, report)
    print(markdown_table(accuracy))
    print(f"written to {args.results}" + (f" (loaded: {args.loaded})" if args.loaded else ""))


if __name__ == "__main__":
    main()
