"""Move the per-sentence tag ids out of results.json files written before they had their own file.

Runs finished before ``training.results.write_results`` wrote ``decoders.tag_ids`` to ``tag_ids.json.gz``
hold them inline (3 MB for a full-data PAN-X ja->ko run). This rewrites each such record in the layout
``write_results`` writes today; records already in it are left alone (idempotent).

    .venv/bin/python benchmarks/split_tag_ids.py benchmarks/results/full
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from cjkv_phon.training.results import write_results


def split_tree(root: Path) -> list[Path]:
    """Rewrite every ``results.json`` under ``root`` that still carries ``decoders.tag_ids``."""
    moved = []
    for path in sorted(root.rglob("results.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        if "tag_ids" in record.get("decoders", {}):
            write_results(path.parent, record)
            moved.append(path)
    return moved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("root", type=Path)
    args = parser.parse_args()
    moved = split_tree(args.root)
    print(f"{len(moved)} records rewritten under {args.root}")


if __name__ == "__main__":
    main()
