"""benchmarks/gpu/: the GPU job's driver, run here on the CPU with a tiny backbone and tiny data.

The same ``paper_zh_vi.main`` that run.sh calls on a GPU machine: real PAN-X zh/vi and MUSE files from
../shared (first 24 sentences per file, 100 dictionary entries), the ``paper`` preset through
``run_bench`` and the real trainer, tiny-bert instead of e5-small. Three calls share the built data:
a generous budget (both runs finish their schedule), a budget already spent (the trainer's deadline
fires after the first step and the runs still score their best weights), and too little left to start.
"""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from cjkv_phon.schema import RESULT_KEYS

REPO = Path(__file__).resolve().parents[1]
GPU_DIR = REPO / "benchmarks" / "gpu"
SIDES = [(side, split) for side in ("source", "target") for split in ("dev", "test")]


def _load_driver():
    spec = importlib.util.spec_from_file_location("paper_zh_vi", GPU_DIR / "paper_zh_vi.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module          # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def driver():
    return _load_driver()


@pytest.fixture(scope="module")
def jobs(driver, shared_data, tmp_path_factory):
    """Run the driver four times (generous budget, spent budget, no time to start, a trainer that
    raises); returns
    {name: (summary returned, summary file as written, out folder)}."""
    import torch
    root = tmp_path_factory.mktemp("gpu")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    base = ["--backbone", "tiny-bert", "--epochs", "2", "--max-sentences", "24", "--max-dict-entries", "100",
            "--shared", str(shared_data.parent), "--work", str(root / "work"), "--workers", "1", "--allow-dirty"]
    calls = {"generous": ["--budget-s", "600", "--tail-s", "0", "--min-train-s", "0"],
             "spent": ["--budget-s", "0", "--tail-s", "0", "--min-train-s", "0"],
             "no_time": ["--budget-s", "0", "--tail-s", "0", "--min-train-s", "30"],
             "broken": ["--budget-s", "600", "--tail-s", "0", "--min-train-s", "0"]}

    def broken(cfg, deadline=None):
        raise RuntimeError(f"CUDA out of memory (planted, {cfg.system})")
    out = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CJKV_CACHE_DIR", str(root / "cache"))    # tiny backbones: not the user's cache
        mp.delenv("OUT", raising=False)
        try:
            for name, extra in calls.items():
                folder = root / f"out-{name}"
                summary = driver.main([*base, *extra, "--runs", str(root / f"runs-{name}"), "--out", str(folder)],
                                      train_fn=broken if name == "broken" else None)
                written = json.loads((folder / driver.RESULT_NAME).read_text(encoding="utf-8"))
                out[name] = (summary, written, folder)
        finally:
            torch.set_num_threads(threads)
    return out


def test_generous_budget_runs_both_systems_to_the_end(jobs):
    summary, written, folder = jobs["generous"]
    assert written == json.loads(json.dumps(summary))            # the file is the returned summary
    assert summary["complete"] is True and summary["guard"]["fired"] is False
    assert summary["device"]["name"] == "cpu" and summary["device"]["cuda_available"] is False
    assert summary["device"]["torch"].startswith("2.")
    assert summary["preset"]["name"] == "paper" and summary["preset"]["epochs"] == 2
    assert summary["preset"]["device"] == "auto"                 # the device comes from the run
    for stage in ("build_data_s", "build_dict_s", "train_s"):
        assert summary["stages"][stage] > 0, stage
    assert set(summary["runs"]) == {"finetune", "phonexl"}
    for system, run in summary["runs"].items():
        assert run["status"] == "done" and run["bench_status"] == "done", system
        assert run["device"] == "cpu" and run["wall_s"] > 0, system
        budget = run["time_budget"]
        assert budget["deadline_reached"] is False and budget["steps"] == budget["planned_steps"] == 2, system
        for side, split in SIDES:
            f1 = run["metrics"][side][split]["f1"]
            assert math.isfinite(f1) and 0.0 <= f1 <= 100.0, (system, side, split)
        record = json.loads((folder / f"panx_zh-vi_{system}_s1.json").read_text(encoding="utf-8"))
        assert set(RESULT_KEYS) <= set(record) and record["metrics"] == run["metrics"], system
        assert record["config"]["epochs"] == 2 and record["config"]["lr"] == 2.0e-5, system  # paper's lr
        assert record["sentence_counts"]["target"]["test"], system
    # phonexl gets the larger share of the budget (its steps cost more), finetune finished first.
    runs = summary["runs"]
    assert runs["phonexl"]["train_share_s"] > runs["finetune"]["train_share_s"] > 0
    cmp = summary["comparison"]
    assert cmp["status"] == "ok" and cmp["test_sentences"] == 24
    low, high = cmp["ci95"]
    delta = runs["phonexl"]["metrics"]["target"]["test"]["f1"] - runs["finetune"]["metrics"]["target"]["test"]["f1"]
    assert cmp["delta"] == pytest.approx(delta, abs=1e-3) and low <= cmp["delta"] <= high


def test_spent_budget_stops_after_one_step_and_still_scores(jobs):
    summary, written, _ = jobs["spent"]
    assert summary["guard"]["fired"] is True and summary["complete"] is False and written["guard"]["fired"]
    assert summary["failed"] == {}
    assert set(summary["guard"]["runs"]) == {"finetune", "phonexl"}
    for system, run in summary["runs"].items():
        budget = run["time_budget"]
        assert run["status"] == "done" and budget["deadline_reached"] is True, system
        assert budget["steps"] == 1 < budget["planned_steps"] == 2, system
        assert run["selection"]["evaluations"] == 1 and run["selection"]["best_step"] == 1, system
        assert all(math.isfinite(run["metrics"][s][p]["f1"]) for s, p in SIDES), system


def test_no_time_left_starts_nothing_and_says_why(jobs):
    summary, _, folder = jobs["no_time"]
    assert summary["guard"]["fired"] is True and summary["complete"] is False
    for system, run in summary["runs"].items():
        assert run["status"] == "not started" and run["bench_status"] == "failed", system
        assert "--min-train-s" in run["reason"] and run.get("metrics") is None, system
    assert summary["comparison"]["status"].startswith("n/a")
    assert not list(folder.glob("panx_*.json"))


def test_run_sh_parses_and_calls_the_driver():
    script = GPU_DIR / "run.sh"
    subprocess.run(["bash", "-n", str(script)], check=True)
    text = script.read_text(encoding="utf-8")
    assert "paper_zh_vi.py" in text and "--started-at" in text and "make-backbone" in text


def test_a_failing_run_is_reported_as_a_failure_not_as_the_guard(jobs):
    summary, written, _ = jobs["broken"]
    assert summary["complete"] is False and summary["guard"]["fired"] is False
    assert set(summary["failed"]) == {"finetune", "phonexl"}
    for system, reason in summary["failed"].items():
        assert reason == f"RuntimeError: CUDA out of memory (planted, {system})"
        assert summary["runs"][system]["bench_status"] == "failed"
    assert written["failed"] == summary["failed"]
