"""Intrinsic check of the phonemic-embedding designs at initialisation (issue 14, part 2; seconds, no training).

For each design (``shared`` over tokenizer pieces, ``shared`` over segments, ``table``, ``segments``,
``features``) and each pair (zh-vi, ja-ko), the model is built exactly as a PAN-X training run of the
cpu-v2 preset builds it (``trainer.build_run`` + ``system.build_model``: e5-small, seed 1, symbols from
source train/dev + target train), and the PE of both sides of every MUSE pivot-dictionary entry
(``build/dictionaries/<pair>.parquet``, from ``cjkv build-dict``) is compared: mean cosine of true pairs
vs random pairs (10 fixed-seed draws), the gap with a 95% bootstrap interval, and the fraction of
(entry, draw) cases where the true pair wins (``cjkv_phon.bench.pe_intrinsic``). Word-level PE = the
mean symbol vector over the word's whole transcription.

Run from the repo root (needs releases/xtreme-cjkv-phonemic/data and build/dictionaries):

    nice -n 19 flock -s /tmp/cjkv-cpu.lock python benchmarks/pe_intrinsic.py

Writes benchmarks/results/pe_intrinsic.json and prints a markdown table.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pyarrow.parquet as pq
import torch

from cjkv_phon.atomic import atomic_path
from cjkv_phon.bench.pe_intrinsic import dictionary_check
from cjkv_phon.training import trainer
from cjkv_phon.training.config import TrainConfig

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "releases" / "xtreme-cjkv-phonemic" / "data"
DICTIONARIES = ROOT / "build" / "dictionaries"
OUT = ROOT / "benchmarks" / "results" / "pe_intrinsic.json"
PAIRS = (("zh", "vi"), ("ja", "ko"))
# (name, pe_design, phoneme_units)
DESIGNS = (("shared-pieces", "shared", "pieces"), ("shared-segments", "shared", "segments"),
           ("table", "table", "pieces"), ("segments", "segments", "pieces"), ("features", "features", "pieces"))
SEED = 1                  # the cpu-v2 grid's first seed
SHUFFLES = 10


def check(src: str, tgt: str, design: str, units: str) -> dict:
    """Build the run's initial model for one design and score the pair's dictionary."""
    cfg = TrainConfig(task="panx", source_lang=src, target_lang=tgt, system="phonexl",
                      backbone="multilingual-e5-small", data_dir=str(DATA), dictionary_dir=str(DICTIONARIES),
                      pe_design=design, phoneme_units=units, seed=SEED, device="cpu",
                      max_train_sentences=1000, max_eval_sentences=300, max_test_sentences=2000).resolved()
    data, collator, system, backbone = trainer.build_run(cfg)
    model = system.build_model(backbone).eval()
    rows = pq.read_table(DICTIONARIES / f"{src}-{tgt}.parquet",
                         columns=["source_ipa", "target_ipa"]).to_pylist()
    out = dictionary_check(model, collator, rows, src, tgt, SHUFFLES, seed=0)
    table = model.pe_table
    out["pe_rows"] = table.num_rows if table is not None else model.word_embeddings.num_embeddings
    return out


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    results: dict[str, dict[str, dict]] = {}
    for src, tgt in PAIRS:
        pair = f"{src}-{tgt}"
        for name, design, units in DESIGNS:
            results.setdefault(pair, {})[name] = check(src, tgt, design, units)
            print(f"{pair} {name}: {results[pair][name]}", flush=True)
    record = {"what": "cosine of the PE of true MUSE pivot-dictionary pairs vs random pairs, at initialisation",
              "word_pe": "mean symbol vector over the word's whole transcription",
              "backbone": "multilingual-e5-small", "seed": SEED, "random_draws": SHUFFLES,
              "symbols_from": "PAN-X source train (1000 sentences) + source dev (300) + target train",
              "results": results, "wall_s": round(time.perf_counter() - t0, 1)}
    with atomic_path(OUT) as tmp:
        Path(tmp).write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print("\n| pair | design | pairs | true cos | random cos | gap [95% CI] | true > random | PE norm | PE rows |")
    print("|---|---|---|---|---|---|---|---|---|")
    for pair, designs in results.items():
        for name, r in designs.items():
            lo, hi = r["gap_ci95"]
            print(f"| {pair} | {name} | {r['pairs']} | {r['true_cosine']:.3f} | {r['random_cosine']:.3f} | "
                  f"{r['gap']:.3f} [{lo:.3f}, {hi:.3f}] | {r['true_beats_random']:.3f} | "
                  f"{r['mean_pe_norm']:.3f} | {r['pe_rows']} |")
    print(f"\nwrote {OUT} ({record['wall_s']} s)")


if __name__ == "__main__":
    main()
