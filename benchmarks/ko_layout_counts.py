"""PAN-X Korean in XTREME's words and in the paper's characters: sentences, tokens, entities (issue 20, item 8).

Reads the XTREME source files (``../shared/data/xtreme/panx/{train,dev,test}-ko.tsv``), applies each layout
of ``cjkv_phon.data.layout`` and counts, per split: sentences, tokens, entities (seqeval's chunks, as
the metric reads them) and entities one token long, the figure that separates the layouts (PAN-X ja
entities are 98% several characters long). Prints a table and writes JSON.

    python benchmarks/ko_layout_counts.py --out benchmarks/results/ko_layout_counts.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from cjkv_phon.atomic import write_json
from cjkv_phon.data.layout import LAYOUTS, apply_layout, layout_counts
from cjkv_phon.data.xtreme import XtremeSource

REPO = Path(__file__).resolve().parents[1]


def counts(xtreme: Path, lang: str = "ko") -> dict[str, dict[str, dict[str, int]]]:
    """split -> layout -> counts for PAN-X ``lang``."""
    source = XtremeSource(str(xtreme))
    out: dict[str, dict[str, dict[str, int]]] = {}
    for split in ("train", "dev", "test"):
        sentences = source.read("panx", lang, split).sentences
        out[split] = {layout: layout_counts(apply_layout(sentences, layout, "panx", lang)) for layout in LAYOUTS}
    return out


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--xtreme", type=Path, default=REPO.parent / "shared" / "data" / "xtreme")
    p.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "ko_layout_counts.json")
    args = p.parse_args(argv)
    result = {"benchmark": "benchmarks/ko_layout_counts.py", "task": "panx", "lang": "ko",
              "counts": counts(args.xtreme)}
    print("| split | layout | sentences | tokens | entities | one-token entities |")
    print("|---|---|---|---|---|---|")
    for split, per_layout in result["counts"].items():
        for layout, c in per_layout.items():
            share = 100.0 * c["single_token_entities"] / c["entities"] if c["entities"] else 0.0
            print(f"| {split} | {layout} | {c['sentences']} | {c['tokens']} | {c['entities']} | "
                  f"{c['single_token_entities']} ({share:.1f}%) |")
    write_json(args.out, result)
    print(json.dumps({"written": str(args.out)}))
    return result


if __name__ == "__main__":
    main()
