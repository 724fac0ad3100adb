"""``cjkv train`` and ``cjkv build-data`` usage and input errors: one line, never a traceback, and a
message that is true (issue 23, one-line errors)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cjkv_phon.cli import app

runner = CliRunner()


def _error(args: list[str], code: int) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == code, (result.output, result.exception)
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1 and result.stderr.rstrip().endswith(lines[0]), result.stderr
    return lines[0]


@pytest.mark.parametrize("flag, value, words", [
    ("--seed", "-5", "seed must be >= 0"),
    ("--lr", "nan", "lr must be a finite number"),
    ("--lr", "inf", "lr must be a finite number"),
])
def test_bad_train_numbers_are_usage_errors(flag: str, value: str, words: str) -> None:
    assert words in _error(["train", "--backbone", "tiny-bert", flag, value], 2)


def test_train_without_built_data_names_the_folder(tmp_path: Path) -> None:
    err = _error(["train", "--backbone", "tiny-bert", "--data-dir", str(tmp_path / "nope")], 1)
    assert f"no built data folder {tmp_path / 'nope'}" in err


def test_train_run_outside_the_repository_root_says_where_it_looked(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    err = _error(["train", "--backbone", "tiny-bert"], 1)
    assert str(tmp_path / "releases/xtreme-cjkv-phonemic/data") in err and "current folder" in err


def test_a_ud_folder_without_tasks_udpos_is_one_line(tmp_path: Path, shared_data: Path) -> None:
    ud_dir = shared_data / "ud-2.5"
    err = _error(["build-data", "--source", str(ud_dir), "--out", str(tmp_path / "r"), "--langs", "zh",
                  "--splits", "dev"], 1)
    assert "provides udpos only" in err and "--tasks udpos" in err


def test_stats_json_onto_a_folder_is_one_line(tmp_path: Path, built_data: Path) -> None:
    (tmp_path / "out.json").mkdir()
    err = _error(["stats", str(built_data), "--json", str(tmp_path / "out.json")], 1)
    assert "a folder" in err and (tmp_path / "out.json").is_dir()
