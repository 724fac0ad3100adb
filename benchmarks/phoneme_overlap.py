"""How many of the target test set's phonemic symbols did the source training set teach? (issue 13, item 8)

For zh-train -> vi-test and ja-train -> ko-test (PAN-X, built parquet), each token's IPA is cut into
symbols three ways and the overlap is reported:

* ``pieces``: the e5 tokenizer's SentencePiece ids of the IPA, as the encoder saw it before
  (``phoneme_units="pieces"``), with the IPA characters e5 does not know added as tokens the way
  ``vocab.extend_vocab`` adds them (chosen from source train + target train, never test);
* ``chars``: IPA characters;
* ``segments``: ``phoneme_symbols.phoneme_segments`` (panphon segments, one tone inventory), the
  representation of ``phoneme_units="segments"``; ``tones`` is its tone symbols alone.

``types`` = share of the distinct target-test symbols that occur in source train; ``tokens`` = share of
target-test symbol occurrences whose symbol occurs in source train. Prints a table and one JSON line.

    flock -s /tmp/cjkv-cpu.lock python benchmarks/phoneme_overlap.py --data releases/xtreme-cjkv-phonemic/data
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq

from cjkv_phon.training.backbone import load_backbone
from cjkv_phon.training.phoneme_symbols import is_tone, phoneme_segments
from cjkv_phon.training.vocab import extend_vocab, phoneme_symbols

PAIRS = (("zh", "vi"), ("ja", "ko"))


def transcriptions(data: Path, lang: str, split: str) -> Counter[str]:
    """Per-token IPA strings of one PAN-X file with their counts."""
    rows = pq.read_table(data / "panx" / lang / f"{split}.parquet", columns=["ipa"]).column("ipa").to_pylist()
    return Counter(tok for row in rows if row for tok in row if tok)


def symbol_counts(ipa: Counter[str], cut) -> Counter:
    """Symbol occurrence counts, cutting each distinct transcription once."""
    out: Counter = Counter()
    for text, n in ipa.items():
        for sym in cut(text):
            out[sym] += n
    return out


def overlap(src: Counter, tgt: Counter) -> dict[str, float]:
    """Share of target symbol types / occurrences that the source has."""
    if not tgt:
        return {"types": float("nan"), "tokens": float("nan"), "target_types": 0}
    types = sum(1 for s in tgt if s in src) / len(tgt)
    tokens = sum(n for s, n in tgt.items() if s in src) / sum(tgt.values())
    return {"types": round(100 * types, 1), "tokens": round(100 * tokens, 1), "target_types": len(tgt)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="releases/xtreme-cjkv-phonemic/data")
    ap.add_argument("--backbone", default="multilingual-e5-small")
    args = ap.parse_args()
    data = Path(args.data)
    report = {}
    for src_lang, tgt_lang in PAIRS:
        src, tgt = transcriptions(data, src_lang, "train"), transcriptions(data, tgt_lang, "test")
        seen = transcriptions(data, tgt_lang, "train") + src           # what the run may see
        bb = load_backbone(args.backbone)
        extend_vocab(bb.tokenizer, bb.model, phoneme_symbols([list(seen)]))
        tok = bb.tokenizer

        def pieces(text: str) -> list[int]:
            return tok(text, add_special_tokens=False)["input_ids"]

        row = {"pieces": overlap(symbol_counts(src, pieces), symbol_counts(tgt, pieces)),
               "chars": overlap(symbol_counts(src, lambda t: [c for c in t if not c.isspace()]),
                                symbol_counts(tgt, lambda t: [c for c in t if not c.isspace()]))}
        s = symbol_counts(src, lambda t: phoneme_segments(t, src_lang))
        g = symbol_counts(tgt, lambda t: phoneme_segments(t, tgt_lang))
        row["segments"] = overlap(s, g)
        row["tones"] = overlap(Counter({k: v for k, v in s.items() if is_tone(k)}),
                               Counter({k: v for k, v in g.items() if is_tone(k)}))
        report[f"{src_lang}-train/{tgt_lang}-test"] = row
    print(f"{'pair':22s} {'symbols':9s} {'types %':>8s} {'tokens %':>9s} {'tgt types':>10s}")
    for pair, row in report.items():
        for name, o in row.items():
            print(f"{pair:22s} {name:9s} {o['types']:8.1f} {o['tokens']:9.1f} {o['target_types']:10d}")
    print(json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    main()
