"""``cjkv leaderboard`` on hostile results folders (issue 23, item 9): a NaN F1 is no value, not a
crash; a truncated or foreign results.json and a missing or empty --results are one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cjkv_phon.cli import app

runner = CliRunner()


def _error(results: Path) -> str:
    result = runner.invoke(app, ["leaderboard", "--results", str(results)])
    assert result.exit_code == 1, (result.output, result.exception)
    lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1 and "Traceback" not in result.output, result.stderr
    return lines[0]


def test_missing_and_empty_results_folders_are_errors(tmp_path: Path) -> None:
    assert "no such results folder" in _error(tmp_path / "nope")
    assert "no results.json" in _error(tmp_path)


def test_truncated_and_foreign_results_are_one_line(tmp_path: Path) -> None:
    run = tmp_path / "a" / "run1"
    run.mkdir(parents=True)
    (run / "results.json").write_text('{"metrics": {', encoding="utf-8")
    assert "not valid JSON" in _error(tmp_path)
    (run / "results.json").write_text("[1, 2, 3]", encoding="utf-8")
    assert "not a results record" in _error(tmp_path)


def test_a_nan_f1_is_shown_as_no_value(tmp_path: Path) -> None:
    metrics = {side: {split: {"f1": float("nan") if side == "target" else 50.0, "precision": 50.0,
                              "recall": 50.0, "accuracy": 50.0} for split in ("dev", "test")}
               for side in ("source", "target")}
    record = {"run_id": "panx_zh-vi_finetune_s1", "task": "panx", "source_lang": "zh",
              "target_lang": "vi", "system": "finetune", "seed": 1, "backbone": "tiny-bert",
              "metrics": metrics}
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "results.json").write_text(json.dumps(record), encoding="utf-8")
    result = runner.invoke(app, ["leaderboard", "--results", str(tmp_path)])
    assert result.exit_code == 0, (result.output, result.exception)
    assert "finetune" in result.stdout
