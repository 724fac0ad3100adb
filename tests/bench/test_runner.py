"""The grid runner: retries, skipping finished runs, resuming, failure records.

``FlakyTrainer`` is a real training function for the harness (like lm-eval's DummyLM): it writes the
trainer's own results record (``training.results.build_record``) without training, and fails the
first time it sees each run, so retry and resume paths run for real.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
import torch

from cjkv_phon.bench.lock import LOCK_NAME, try_lock
from cjkv_phon.bench.presets import BenchConfig
from cjkv_phon.bench.runner import expand_grid, run_bench
from cjkv_phon.schema import run_id
from cjkv_phon.training.config import TrainConfig
from cjkv_phon.training.results import build_record, write_results


class FlakyTrainer:
    """Writes a results record per run; raises on the first ``failures`` calls of each run."""

    def __init__(self, failures: int = 1) -> None:
        self.failures = failures
        self.calls: Counter[tuple[str, str]] = Counter()

    def __call__(self, cfg: TrainConfig) -> dict:
        cfg = cfg.resolved()
        rid = run_id(cfg.task, cfg.source_lang, cfg.target_lang, cfg.system, cfg.seed)
        self.calls[(cfg.out_dir, rid)] += 1
        if self.calls[(cfg.out_dir, rid)] <= self.failures:
            raise RuntimeError(f"simulated crash in {rid}")
        f1 = 40.0 + cfg.seed
        metrics = {side: {split: {"f1": f1, "precision": f1, "recall": f1, "accuracy": f1}
                          for split in ("dev", "test")} for side in ("source", "target")}
        record = build_record(cfg, metrics, {"train_s": 0.0}, torch.device("cpu"))
        write_results(Path(cfg.out_dir) / rid, record)
        return record


def grid(tmp_path: Path, retries: int = 1, **train) -> BenchConfig:
    return BenchConfig(preset="test", models=("finetune", "phonexl-mlm-only"), tasks=("panx",),
                       pairs=("zh-vi",), seeds=2, retries=retries, results_dir=str(tmp_path),
                       train={"epochs": 1, **train}, allow_dirty=True)     # tests run on work in progress


def statuses(records: list[dict]) -> list[str]:
    return [r["bench"]["status"] for r in records]


def test_retry_then_skip_finished(tmp_path):
    trainer = FlakyTrainer(failures=1)
    records = run_bench(grid(tmp_path), trainer)
    assert statuses(records) == ["done"] * 4
    assert [r["bench"]["attempts"] for r in records] == [2] * 4
    spec = expand_grid(grid(tmp_path))[1]                       # phonexl-mlm-only, seed 1
    saved = json.loads((spec.run_dir / "results.json").read_text(encoding="utf-8"))
    assert saved["bench"]["variant"] == "phonexl-mlm-only" and saved["system"] == "phonexl"
    assert saved["bench"]["config_hash"] == saved["config_hash"] == spec.config_hash
    assert not (spec.run_dir / "error.json").exists()          # the stale failure was cleared
    calls = sum(trainer.calls.values())
    again = run_bench(grid(tmp_path), trainer)                 # same grid: nothing is retrained
    assert statuses(again) == ["skipped"] * 4 and sum(trainer.calls.values()) == calls
    assert [r["metrics"] for r in again] == [r["metrics"] for r in records]


def test_changed_settings_are_rerun(tmp_path):
    trainer = FlakyTrainer(failures=0)
    run_bench(grid(tmp_path), trainer)
    records = run_bench(grid(tmp_path, lr=1e-4), trainer)      # a new config hash for every run
    assert statuses(records) == ["done"] * 4 and sum(trainer.calls.values()) == 8


def test_failure_recorded_then_resumed(tmp_path):
    trainer = FlakyTrainer(failures=1)
    records = run_bench(grid(tmp_path, retries=0), trainer)
    assert statuses(records) == ["failed"] * 4
    assert records[0]["bench"]["error"] == "RuntimeError: simulated crash in panx_zh-vi_finetune_s1"
    spec = expand_grid(grid(tmp_path))[0]
    error = json.loads((spec.run_dir / "error.json").read_text(encoding="utf-8"))
    assert error["attempts"] == 1 and "simulated crash" in error["traceback"]
    summary = json.loads((tmp_path / "bench_summary.json").read_text(encoding="utf-8"))
    assert [r["status"] for r in summary["runs"]] == ["failed"] * 4
    assert statuses(run_bench(grid(tmp_path, retries=0), trainer)) == ["done"] * 4   # the rerun resumes


def test_stopped_run_is_not_finished(tmp_path):
    def stops(cfg: TrainConfig) -> dict:          # what train() returns when max_steps stops it
        return {"run_id": run_id(cfg.task, cfg.source_lang, cfg.target_lang, cfg.system, cfg.seed),
                "status": "stopped", "step": 3}
    records = run_bench(grid(tmp_path), stops)
    assert statuses(records) == ["stopped"] * 4
    assert not list(tmp_path.rglob("results.json"))


def test_bench_block_added_when_missing(tmp_path):
    # The trainer wrote results.json but the bench was killed before adding its block.
    spec = expand_grid(grid(tmp_path))[0]
    FlakyTrainer(failures=0)(spec.config)
    records = run_bench(grid(tmp_path), FlakyTrainer(failures=0))
    assert statuses(records)[0] == "skipped"
    saved = json.loads((spec.run_dir / "results.json").read_text(encoding="utf-8"))
    assert saved["bench"]["variant"] == "finetune" and saved["bench"]["resources"] == "—"


def test_unknown_model_fails_before_training(tmp_path):
    with pytest.raises(KeyError, match="unknown model"):
        BenchConfig(models=("phonexl-mlm",), results_dir=str(tmp_path))


def _write_lock(run_dir: Path, pid: int, host: str | None = None) -> Path:
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / LOCK_NAME
    path.write_text(json.dumps({"pid": pid, "host": host or socket.gethostname(), "started": "x"}),
                    encoding="utf-8")
    return path


def test_a_run_locked_by_a_live_process_is_left_to_it(tmp_path):
    trainer = FlakyTrainer(failures=0)
    specs = expand_grid(grid(tmp_path))
    held = _write_lock(specs[1].run_dir, os.getppid())          # our parent process is alive
    records = run_bench(grid(tmp_path), trainer)
    assert statuses(records) == ["done", "busy", "done", "done"]
    assert "locked by" in records[1]["bench"]["error"] and held.exists()
    assert not (specs[1].run_dir / "results.json").exists() and sum(trainer.calls.values()) == 3
    # Locks of our own runs are gone; once the holder lets go, the next bench trains the run.
    assert [s.run_dir for s in specs if (s.run_dir / LOCK_NAME).exists()] == [specs[1].run_dir]
    held.unlink()
    assert statuses(run_bench(grid(tmp_path), trainer)) == ["skipped", "done", "skipped", "skipped"]


def test_stale_locks_are_taken_over_and_the_lock_is_held_while_training(tmp_path):
    specs = expand_grid(grid(tmp_path))
    dead_pid = subprocess.Popen(["true"])
    dead_pid.wait()
    _write_lock(specs[0].run_dir, dead_pid.pid)                 # same host, process gone: stale
    _write_lock(specs[1].run_dir, os.getppid(), host="another-host")   # cannot be checked: respected
    garbled = specs[2].run_dir / LOCK_NAME
    specs[2].run_dir.mkdir(parents=True)
    garbled.write_text("", encoding="utf-8")                    # unreadable and old: stale
    os.utime(garbled, (time.time() - 120, time.time() - 120))
    seen = []

    def trainer(cfg: TrainConfig) -> dict:
        run_dir = Path(cfg.out_dir) / run_id(cfg.task, cfg.source_lang, cfg.target_lang, cfg.system, cfg.seed)
        seen.append(json.loads((run_dir / LOCK_NAME).read_text(encoding="utf-8"))["pid"])
        return FlakyTrainer(failures=0)(cfg)

    records = run_bench(grid(tmp_path), trainer)
    assert statuses(records) == ["done", "busy", "done", "done"]
    assert seen == [os.getpid()] * 3                            # each run was trained under our lock
    assert not (specs[0].run_dir / LOCK_NAME).exists() and not garbled.exists()
    garbled.parent.joinpath(LOCK_NAME).write_text("", encoding="utf-8")   # fresh and empty: being written
    assert try_lock(specs[2].run_dir) is None


class SlowLoggingTrainer(FlakyTrainer):
    """A picklable trainer for ``workers > 1``: logs ``<pid> <run id>`` per call, takes a moment."""

    def __init__(self, log_path: Path) -> None:
        super().__init__(failures=0)
        self.log_path = log_path

    def __call__(self, cfg: TrainConfig) -> dict:
        rid = run_id(cfg.task, cfg.source_lang, cfg.target_lang, cfg.system, cfg.seed)
        with open(self.log_path, "a", encoding="utf-8") as f:
            f.write(f"{os.getpid()} {cfg.out_dir}/{rid}\n")
        time.sleep(1.0)
        return super().__call__(cfg)


def test_two_workers_share_the_grid_and_train_each_run_once(tmp_path):
    log = tmp_path / "calls.txt"
    cfg = BenchConfig(**{**grid(tmp_path / "grid").__dict__, "workers": 2, "threads": 1})
    records = run_bench(cfg, SlowLoggingTrainer(log))
    assert statuses(records) == ["done"] * 4
    calls = [line.split() for line in log.read_text(encoding="utf-8").splitlines()]
    assert sorted(run for _, run in calls) == sorted({run for _, run in calls}) and len(calls) == 4
    assert len({pid for pid, _ in calls}) == 2 and str(os.getpid()) not in {pid for pid, _ in calls}
    summary = json.loads((tmp_path / "grid" / "bench_summary.json").read_text(encoding="utf-8"))
    assert [r["status"] for r in summary["runs"]] == ["done"] * 4 and summary["config"]["workers"] == 2
    with pytest.raises(ValueError, match="workers"):
        BenchConfig(workers=0)
