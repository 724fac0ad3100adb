"""The same PAN-X ja->ko models on both Korean layouts: F1 per seed and the paired difference (issue 20, item 8).

Reads the runs of ``benchmarks/presets/cpu-v2-ko-layout.yaml`` (each scored on XTREME's words, ``test``, and on
the paper's characters, ``test@paper-layout``: same model, same 2000 sentences), and reports per variant and
seed both target F1s, and the difference paper - words with the two-level bootstrap (seeds, then sentences;
``significance.seed_bootstrap``) and the sentence-only one. Prints a table and writes JSON.

    python benchmarks/ko_layout_compare.py --results benchmarks/results/cpu-v2-ko-layout
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from cjkv_phon.atomic import write_json
from cjkv_phon.bench.leaderboard_rows import group_records, load_results
from cjkv_phon.bench.significance import SignificanceConfig, TooFewSeeds, paired_bootstrap, seed_bootstrap
from cjkv_phon.training.sentence_scores import read_counts

REPO = Path(__file__).resolve().parents[1]
WORDS, CHARS = "test", "test@paper-layout"


def compare(results: Path, config: SignificanceConfig) -> dict:
    """variant -> per-seed F1 on both layouts and the bootstraps of (characters - words)."""
    out = {}
    for (variant, backbone), records in sorted(group_records(load_results(results)).items()):
        records = [r for r in records if CHARS in r["metrics"].get("target", {})]
        if not records:
            continue
        seeds = sorted(int(r["seed"]) for r in records)
        by_seed = {int(r["seed"]): r for r in records}
        words = {s: read_counts(by_seed[s], "target", WORDS) for s in seeds}
        chars = {s: read_counts(by_seed[s], "target", CHARS) for s in seeds}
        entry = {"backbone": backbone, "seeds": seeds,
                 "f1_words": {s: by_seed[s]["metrics"]["target"][WORDS]["f1"] for s in seeds},
                 "f1_chars": {s: by_seed[s]["metrics"]["target"][CHARS]["f1"] for s in seeds},
                 "sentence_bootstrap": asdict(paired_bootstrap(chars, words, config, ("paper-layout", "words")))}
        try:
            entry["seed_bootstrap"] = asdict(seed_bootstrap(chars, words, config, ("paper-layout", "words")))
        except TooFewSeeds as err:
            entry["seed_bootstrap"] = f"n/a: {err}"
        out[variant] = entry
    return out


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--results", type=Path, default=REPO / "benchmarks" / "results" / "cpu-v2-ko-layout")
    p.add_argument("--out", type=Path, default=None, help="JSON path (default <results>/layout_comparison.json)")
    args = p.parse_args(argv)
    result = {"benchmark": "benchmarks/ko_layout_compare.py", "difference": f"F1({CHARS}) - F1({WORDS})",
              "variants": compare(args.results, SignificanceConfig())}
    print("| variant | seed | F1 words (xtreme) | F1 characters (paper) |")
    print("|---|---|---|---|")
    for variant, e in result["variants"].items():
        for s in e["seeds"]:
            print(f"| {variant} | {s} | {e['f1_words'][s]:.2f} | {e['f1_chars'][s]:.2f} |")
        two, one = e["seed_bootstrap"], e["sentence_bootstrap"]
        shown = two if isinstance(two, str) else f"{two['delta']:+.2f} [{two['low']:+.2f}, {two['high']:+.2f}]"
        print(f"| {variant} | Δ chars − words | seeds+sentences {shown} | sentences only "
              f"[{one['low']:+.2f}, {one['high']:+.2f}] |")
    path = write_json(args.out or args.results / "layout_comparison.json", result)
    print(json.dumps({"written": str(path)}))
    return result


if __name__ == "__main__":
    main()
