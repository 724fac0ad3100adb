"""PhoneXL's default PE design follows the preset's source-dev rule on the recorded design runs (issue 20, item 9)."""

from __future__ import annotations

import pytest

from cjkv_phon.bench.leaderboard import load_results
from cjkv_phon.bench.pe_design import PeDesignRule, decide_pe_design
from cjkv_phon.bench.presets import RESULTS_DIR, BenchConfig, load_preset
from cjkv_phon.training.config import DEFAULT_PE_DESIGN


def test_the_default_design_is_what_the_preset_rule_decides_on_source_dev():
    rule = PeDesignRule.from_mapping(load_preset("cpu-v2").pe_design_rule)
    decision = decide_pe_design(load_results(RESULTS_DIR / "cpu-v2"), rule)
    assert decision.design == DEFAULT_PE_DESIGN["phonexl"]
    assert decision.runs == (("panx", "zh-vi", 1),)         # the only run every design has
    # The winner has the highest source-dev F1 of the selected checkpoint; no target number was read.
    assert decision.scores[decision.variant] == max(decision.scores.values())


def _record(variant: str, seed: int, source_dev: float, target_dev: float) -> dict:
    return {"bench": {"variant": variant}, "system": "phonexl", "task": "panx", "source_lang": "zh",
            "target_lang": "vi", "seed": seed,
            "metrics": {"source": {"dev": {"f1": source_dev}}, "target": {"dev": {"f1": target_dev}}}}


def test_the_rule_reads_source_dev_on_shared_runs_and_breaks_ties_by_order():
    rule = PeDesignRule(("phonexl-pe-table", "phonexl-pe-features"))
    records = [_record("phonexl-pe-table", 1, 50.0, 40.0), _record("phonexl-pe-features", 1, 51.0, 30.0),
               _record("phonexl-pe-table", 2, 50.0, 40.0)]          # seed 2: only one candidate ran it
    decision = decide_pe_design(records, rule)
    assert decision.design == "features" and decision.runs == (("panx", "zh-vi", 1),)   # target dev ignored
    tie = [_record("phonexl-pe-table", 1, 50.001, 0.0), _record("phonexl-pe-features", 1, 50.0, 0.0)]
    assert decide_pe_design(tie, PeDesignRule(("phonexl-pe-features", "phonexl-pe-table"))).design == "features"
    with pytest.raises(ValueError, match="no run that every PE-design candidate has"):
        decide_pe_design(records[2:], rule)


def test_a_rule_may_not_read_the_target_side():
    with pytest.raises(ValueError, match="only source-side metrics may choose"):
        PeDesignRule(("phonexl-pe-table", "phonexl-pe-features"), metric="target-dev-f1")
    with pytest.raises(ValueError, match="does not fix a pe_design"):
        PeDesignRule(("phonexl-pe-table", "phonexl"))
    with pytest.raises(ValueError, match="pe_design_rule"):
        BenchConfig(preset="t", pe_design_rule={"candidates": ["phonexl-pe-table", "phonexl-pe-shared"],
                                                "metric": "target-test-f1"})
