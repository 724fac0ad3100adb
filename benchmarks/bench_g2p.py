"""Benchmark transcription accuracy: ``evaluate_g2p`` on every lexicon, both schemes, both layouts.

Writes ``benchmarks/results/g2p_accuracy.json`` (PER, WER, statuses, top confusions, examples per
lexicon x scheme x layout; tool versions; the normalisation rows) and prints the README table.
Sampling: ``--limit`` entries per lexicon with ``--seed`` (default: every entry, seed 0).

    .venv/bin/python benchmarks/bench_g2p.py [--limit 0] [--seed 0] [--schemes native,paper]
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from cjkv_phon.atomic import write_json
from cjkv_phon.data.g2p_eval import G2PEvalConfig, evaluate_g2p, markdown_table
from cjkv_phon.provenance import git_commit

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "g2p_accuracy.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=0, help="Entries per lexicon (0: all, the default).")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--schemes", default="native,paper")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    cfg = G2PEvalConfig(lexicon_dir=str(REPO.parent / "shared" / "data" / "lexicons"),
                        schemes=tuple(args.schemes.split(",")), limit=args.limit or None,
                        seed=args.seed)
    report = evaluate_g2p(cfg, on_done=lambda key, s: print(
        f"{key}: PER {100 * s['per']:.2f}% WER {100 * s['wer']:.1f}% ({s['seconds']} s)", flush=True))
    report["git_commit"] = git_commit()
    write_json(args.results, report)
    print(markdown_table(report))
    print(f"{report['seconds']} s; written to {args.results}")


if __name__ == "__main__":
    main()
