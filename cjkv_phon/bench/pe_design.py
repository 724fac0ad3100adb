"""PhoneXL's default PE design, chosen by a rule written into the preset before the runs it governs.

Issue 20, item 9: the design was first chosen on target-DEV F1 (README "PE designs"), i.e. by the target
language's labels, which a zero-shot comparison must never let choose. The rule now lives in the preset
(``pe_design_rule`` in ``benchmarks/presets/cpu-v2.yaml``, the grid that holds the design runs) and can
read source-side metrics only:

* **candidates**: grid variants that each fix one ``pe_design`` (``resources/bench_variants.yaml``), in
  order of preference for ties (the paper's own design first);
* **metric**: ``source-dev-f1``, the source-dev F1 of each run's selected checkpoint
  (``metrics.source.dev.f1``), the number checkpoint selection already reads;
* **aggregate**: per candidate, the mean over the (task, pair, seed) runs that *every* candidate has, so
  the candidates are compared on the same cells and seeds; the highest mean wins, ties (to
  ``tie_places`` decimals) go to the earlier candidate.

``config.DEFAULT_PE_DESIGN`` holds the design the rule chose; ``tests/bench/test_pe_design.py`` checks
that it still equals what the rule decides on the recorded runs.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from cjkv_phon.bench.variants import get_variant

# metric name -> (side, split, key) in a results record; only the source side may choose.
METRICS: dict[str, tuple[str, str, str]] = {"source-dev-f1": ("source", "dev", "f1")}

RunKey = tuple[str, str, int]          # (task, pair, seed)


@dataclass(frozen=True)
class PeDesignRule:
    """How the default PE design is chosen (module docstring). Field comments are the documentation."""

    candidates: tuple[str, ...]        # variants fixing one pe_design each, preferred first on ties
    metric: str = "source-dev-f1"      # a key of METRICS: source side only
    tie_places: int = 2                # means equal to this many decimals are a tie

    def __post_init__(self) -> None:
        if self.metric not in METRICS:
            raise ValueError(f"pe_design_rule metric {self.metric!r} is not allowed: only source-side "
                             f"metrics may choose a design ({', '.join(METRICS)})")
        if len(self.candidates) < 2:
            raise ValueError("pe_design_rule needs at least two candidate variants")
        for name in self.candidates:
            if "pe_design" not in get_variant(name).overrides:
                raise ValueError(f"pe_design_rule candidate {name!r} does not fix a pe_design")

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> "PeDesignRule":
        """The rule from a preset's ``pe_design_rule`` mapping (lists become tuples)."""
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


@dataclass(frozen=True)
class PeDesignDecision:
    """The rule's outcome: the chosen design and what it was read from."""

    design: str
    variant: str
    scores: dict[str, float]                       # candidate -> mean metric on the shared runs
    runs: tuple[RunKey, ...]                       # the (task, pair, seed) every candidate ran
    per_run: dict[str, dict[str, float]] = field(default_factory=dict)   # candidate -> "task pair s" -> value


def _values(records: Iterable[dict], variant: str, metric: str) -> dict[RunKey, float]:
    side, split, key = METRICS[metric]
    out = {}
    for r in records:
        if r.get("bench", {}).get("variant", r.get("system")) != variant:
            continue
        value = r.get("metrics", {}).get(side, {}).get(split, {}).get(key)
        if value is not None:
            out[(r["task"], f"{r['source_lang']}-{r['target_lang']}", int(r["seed"]))] = float(value)
    return out


def decide_pe_design(records: Iterable[dict], rule: PeDesignRule) -> PeDesignDecision:
    """Apply ``rule`` to results records (``leaderboard.load_results``).

    Raises:
        ValueError: no (task, pair, seed) run that every candidate has.
    """
    records = list(records)
    values = {name: _values(records, name, rule.metric) for name in rule.candidates}
    shared = set.intersection(*(set(v) for v in values.values()))
    if not shared:
        have = {name: sorted(v) for name, v in values.items()}
        raise ValueError(f"no run that every PE-design candidate has; runs per candidate: {have}")
    runs = tuple(sorted(shared))
    scores = {name: statistics.fmean(values[name][k] for k in runs) for name in rule.candidates}
    best = max(round(s, rule.tie_places) for s in scores.values())
    winner = next(name for name in rule.candidates if round(scores[name], rule.tie_places) == best)
    per_run = {name: {f"{t} {p} s{s}": values[name][(t, p, s)] for t, p, s in runs} for name in rule.candidates}
    return PeDesignDecision(get_variant(winner).overrides["pe_design"], winner, scores, runs, per_run)
