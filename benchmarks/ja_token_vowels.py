"""Count, in built releases, Japanese tokens that lost their vowel to a long vowel across a token edge.

Issue 22's measure: how を is read (target: ``o`` in >= 99.5% of occurrences) and how many Han tokens
(every character a CJK ideograph) have an IPA starting with the length mark ``ː`` (target <= 0.01%),
over every ja parquet file of a release (PAN-X and UDPOS, all splits), with the most frequent such
characters and a few examples. Also, for zh, how many tokens' romanized readings differ between the
two releases (the polyphone model's effect), when ``--before`` is given.

    .venv/bin/python benchmarks/ja_token_vowels.py --data /tmp/rebuilt/data --before /work/baseline/release/data

Writes ``benchmarks/results/ja_token_vowels.json``.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from cjkv_phon.atomic import write_json
from cjkv_phon.provenance import git_commit

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "ja_token_vowels.json"
LENGTH = "ː"


def _is_han(token: str) -> bool:
    return bool(token) and all("\u4e00" <= c <= "\u9fff" or "\u3400" <= c <= "\u4dbf" for c in token)


def ja_counts(data: Path) -> dict[str, Any]:
    """を readings and Han tokens whose IPA starts with ``ː`` over every ``*/ja/*.parquet``."""
    wo: Counter[str] = Counter()
    han = han_length = 0
    chars: Counter[str] = Counter()
    examples: list[str] = []
    files = sorted(data.glob("*/ja/*.parquet"))
    if not files:
        raise SystemExit(f"no ja parquet files under {data}")
    for path in files:
        table = pq.read_table(path, columns=["tokens", "ipa"]).to_pydict()
        for tokens, ipas in zip(table["tokens"], table["ipa"]):
            for k, (token, ipa) in enumerate(zip(tokens, ipas)):
                if token == "を":
                    wo[ipa] += 1
                if _is_han(token):
                    han += 1
                    if ipa.startswith(LENGTH):
                        han_length += 1
                        chars[token] += 1
                        if len(examples) < 10:
                            examples.append(f"{''.join(tokens[max(0, k - 3):k + 2])}: {token} {ipa}")
    total_wo = sum(wo.values())
    return {"files": len(files), "wo": total_wo, "wo_readings": dict(wo.most_common(5)),
            "wo_read_o": round(wo["o"] / total_wo, 5) if total_wo else None,
            "han_tokens": han, "han_starting_with_length_mark": han_length,
            "han_share": round(han_length / han, 6) if han else None,
            "top_characters": dict(chars.most_common(15)), "examples": examples}


def zh_changes(before: Path, after: Path) -> dict[str, Any]:
    """zh tokens whose romanized reading differs between two releases (same files, same order)."""
    changed = total = 0
    pairs: Counter[str] = Counter()
    for path in sorted(after.glob("*/zh/*.parquet")):
        old = before / path.relative_to(after)
        if not old.is_file():
            continue
        a = pq.read_table(old, columns=["tokens", "romanized"]).to_pydict()
        b = pq.read_table(path, columns=["romanized"]).to_pydict()
        for tokens, ra, rb in zip(a["tokens"], a["romanized"], b["romanized"]):
            for token, x, y in zip(tokens, ra, rb):
                total += 1
                if x != y:
                    changed += 1
                    pairs[f"{token} {x}>{y}"] += 1
    return {"tokens": total, "changed": changed, "top_changes": dict(pairs.most_common(20))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="A release's data/ folder.")
    parser.add_argument("--before", type=Path, help="The data/ folder of a release to compare with.")
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args()
    report: dict[str, Any] = {"data": str(args.data), "after": ja_counts(args.data),
                              "git_commit": git_commit()}
    if args.before:
        report["before_data"] = str(args.before)
        report["before"] = ja_counts(args.before)
        report["zh_romanized_changes"] = zh_changes(args.before, args.data)
    for side in ("before", "after"):
        if side in report:
            r = report[side]
            print(f"{side}: を read o {r['wo_read_o']:.2%} of {r['wo']}; Han tokens starting with ː "
                  f"{r['han_starting_with_length_mark']} of {r['han_tokens']} ({r['han_share']:.4%})")
    if "zh_romanized_changes" in report:
        z = report["zh_romanized_changes"]
        print(f"zh tokens whose reading changed: {z['changed']} of {z['tokens']}")
    write_json(args.results, report)
    print(f"written to {args.results}")


if __name__ == "__main__":
    main()
