"""Recompute every recorded run's config hash from its recorded config and compare it with the record.

Why: a refactor of the training code (issue 18) must not change what identifies a run. The bench
skips a run whose ``results.json`` carries the hash of the requested settings, so a changed hash would
silently retrain (or orphan) every finished cpu-v2 run. Run it with the code before and after a change
(``PYTHONPATH`` picks which ``cjkv_phon`` is imported; the script prints which one it used):

    PYTHONPATH=$PWD .venv/bin/python benchmarks/check_config_hashes.py
    PYTHONPATH=/tmp/before .venv/bin/python benchmarks/check_config_hashes.py   # e.g. `git archive main`

Exit status 1 if any recorded hash differs from the recomputed one (each such run is listed).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import cjkv_phon
from cjkv_phon.training.config import TrainConfig
from cjkv_phon.training.results import run_config_hash

RESULTS = Path(__file__).resolve().parent / "results"
DEFAULT_ROOTS = (RESULTS / "cpu-v2", RESULTS / "cpu-v2-curve")


def recomputed_hash(record: dict) -> str:
    """The hash of the record's config as this checkout's ``TrainConfig`` and ``run_config_hash`` see it.

    Fields the record has but this ``TrainConfig`` lacks raise, rather than being dropped, so a
    renamed or removed field cannot pass unnoticed.
    """
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(record["config"]) - known)
    if unknown:
        raise KeyError(f"config fields unknown to TrainConfig: {unknown}")
    return run_config_hash(TrainConfig(**record["config"]))


def check(roots: list[Path]) -> dict:
    """Per root: how many results.json were checked and which runs' hashes differ."""
    summary = {"cjkv_phon": cjkv_phon.__file__, "roots": {}}
    for root in roots:
        files = sorted(root.rglob("results.json"))
        changed = []
        for path in files:
            record = json.loads(path.read_text(encoding="utf-8"))
            try:
                now = recomputed_hash(record)
            except (KeyError, TypeError, ValueError) as err:
                now = f"error: {err}"
            if now != record["config_hash"]:
                # A record older than a TrainConfig field lacks it; its hash was of the fields it has.
                missing = sorted({f.name for f in dataclasses.fields(TrainConfig)} - set(record["config"]))
                changed.append({"path": str(path.relative_to(root)), "recorded": record["config_hash"],
                                "recomputed": now, "fields_not_in_record": missing})
        summary["roots"][str(root)] = {"runs": len(files), "unchanged": len(files) - len(changed),
                                       "changed": changed}
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("roots", nargs="*", type=Path, default=list(DEFAULT_ROOTS),
                        help="folders searched recursively for results.json [default: cpu-v2, cpu-v2-curve]")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args()
    summary = check(args.roots)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"cjkv_phon imported from {summary['cjkv_phon']}")
        total = sum(r["runs"] for r in summary["roots"].values())
        same = sum(r["unchanged"] for r in summary["roots"].values())
        for root, r in summary["roots"].items():
            print(f"{root}: {r['unchanged']}/{r['runs']} match their recorded hash")
            for c in r["changed"]:
                print(f"  DIFFERS {c['path']}: recorded {c['recorded']}, recomputed {c['recomputed']}"
                      f" (fields not in the record: {c['fields_not_in_record'] or 'none'})")
        print(f"total: {same}/{total} match their recorded hash")
    return 0 if all(not r["changed"] for r in summary["roots"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
