"""Share of PE pieces on the unknown row, per cell and evaluated split, before and after issue 20 item 2.

For each cell of cpu-v2 (PAN-X / UDPOS x zh->vi / ja->ko) the PE encoder is built as a PhoneXL run builds
it (``pe_design`` table over the IPA-extended e5-small tokenizer's pieces, seed 1, the preset's 1000
training and 250 source-dev sentences), from the symbols of:

* before: source train/dev + the target train split of the run's OWN task (main before issue 20);
* after: ``vocab_sources.zero_shot_transcriptions``: source train/dev + the target train split of every
  task + the pivot dictionary's target side.

and the share of each split's IPA pieces that fall on the unknown row (``phonemic_embedding.unknown_share``)
is measured on the FULL source/target dev and test files of the release (no sample).

    nice -n 5 python benchmarks/pe_unknown_share.py --data /work/baseline/release/data \
        --dictionaries build/dictionaries

Writes benchmarks/results/pe_unknown_share.json and prints a markdown table.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import time
from pathlib import Path

from cjkv_phon.atomic import atomic_path
from cjkv_phon.data.build import load_split
from cjkv_phon.schema import LABELS
from cjkv_phon.training.backbone import load_backbone
from cjkv_phon.training.batches import Collator, examples_from_table
from cjkv_phon.training.phonemic_embedding import build_encoder, unknown_share
from cjkv_phon.training.vocab import extend_vocab, phoneme_symbols
from cjkv_phon.training.vocab_sources import zero_shot_transcriptions

ROOT = Path(__file__).resolve().parent.parent
BACKBONE = Path.home() / ".cache" / "cjkv" / "backbones" / "multilingual-e5-small"
OUT = ROOT / "benchmarks" / "results" / "pe_unknown_share.json"
CELLS = (("panx", "zh", "vi"), ("panx", "ja", "ko"), ("udpos", "zh", "vi"), ("udpos", "ja", "ko"))
TRAIN, DEV = 1000, 250                 # cpu-v2's max_train_sentences / max_eval_sentences
SEED = 1


def examples(data: str, task: str, lang: str, split: str, n: int | None = None) -> list:
    """The examples of one split, or a seeded sample of ``n`` (the trainer samples by its own rule;
    only the symbol inventory depends on which sentences, and barely)."""
    table = load_split(data, task, lang, split)
    out = examples_from_table(table, "ipa", f"{task}/{lang}/{split}")
    return random.Random(SEED).sample(out, n) if n is not None and n < len(out) else out


def shares(backbone, task: str, seen) -> dict:
    """Build the table encoder over ``seen`` on a copy of the backbone; the share per split."""
    tok, model = copy.deepcopy(backbone.tokenizer), copy.deepcopy(backbone.model)
    extend_vocab(tok, model, phoneme_symbols(p for p, _ in seen), seed=SEED)
    encoder = build_encoder("table", tok, seen)
    return Collator(tok, LABELS[task], 128, phoneme_encoder=encoder), encoder.num_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(ROOT / "releases" / "xtreme-cjkv-phonemic" / "data"))
    parser.add_argument("--dictionaries", default=str(ROOT / "build" / "dictionaries"))
    parser.add_argument("--backbone", default=str(BACKBONE))
    args = parser.parse_args()
    t0 = time.perf_counter()
    backbone = load_backbone(args.backbone)
    results: dict[str, dict] = {}
    for task, src, tgt in CELLS:
        train, dev = examples(args.data, task, src, "train", TRAIN), examples(args.data, task, src, "dev", DEV)
        before_seen = [(ex.phonemes, ex.langs) for ex in (*train, *dev)]
        own = Path(args.data) / task / tgt / "train.parquet"
        before_sources = ["source-train", "source-dev"]
        if own.is_file():
            before_seen += [(ex.phonemes, ex.langs) for ex in examples(args.data, task, tgt, "train")]
            before_sources.append(f"target-train:{task} (unlabelled)")
        after_seen, after_sources = zero_shot_transcriptions(args.data, task, tgt, "ipa", train, dev,
                                                             source_lang=src, dictionary_dir=args.dictionaries)
        cell = results[f"{task} {src}->{tgt}"] = {}
        for name, seen, sources in (("before", before_seen, before_sources), ("after", after_seen, after_sources)):
            collator, rows = shares(backbone, task, seen)
            cell[name] = {"symbols_from": sources, "pe_table_rows": rows, "splits": {
                f"{side}-{split}": unknown_share(collator, examples(args.data, task, lang, split))
                for side, lang in (("source", src), ("target", tgt)) for split in ("dev", "test")}}
            print(task, src, tgt, name, {k: v["share"] for k, v in cell[name]["splits"].items()}, flush=True)
    record = {"what": "share of PE pieces on the unknown row of PhoneXL's table design (e5-small, IPA)",
              "data": args.data, "dictionaries": args.dictionaries, "seed": SEED,
              "results": results, "wall_s": round(time.perf_counter() - t0, 1)}
    with atomic_path(OUT) as tmp:
        Path(tmp).write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print("\n| cell | split | unknown before | unknown after |\n|---|---|---|---|")
    for cell, r in results.items():
        for split in r["before"]["splits"]:
            b, a = r["before"]["splits"][split]["share"], r["after"]["splits"][split]["share"]
            print(f"| {cell} | {split} | {100 * b:.2f}% | {100 * a:.2f}% |")
    print(f"\nwrote {OUT} ({record['wall_s']} s)")


if __name__ == "__main__":
    main()
