"""`cjkv build-data`, `verify-data` and `stats` through typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cjkv_phon.cli import app

REPO = Path(__file__).resolve().parents[2]
RECIPE = REPO / "pipelines" / "build-data.yaml"
runner = CliRunner(env={"COLUMNS": "250"})  # wide enough that rich does not wrap table cells


def _build(out: Path, xtreme_dir: Path, *extra: str):
    return runner.invoke(app, ["build-data", "--recipe", str(RECIPE), "--source", str(xtreme_dir),
                               "--tasks", "panx,udpos", "--langs", "zh,vi", "--splits", "dev",
                               "--max-sentences", "3", "--workers", "1", "--out", str(out), *extra])


def test_build_verify_and_stats(tmp_path: Path, xtreme_dir: Path) -> None:
    out = tmp_path / "rel"
    result = _build(out, xtreme_dir)
    assert result.exit_code == 0, result.output
    rows = [ln.split() for ln in result.output.splitlines()]
    assert ["total", "4", "files"] == rows[-1][:3] and ["udpos", "vi", "dev", "3"] in [r[:4] for r in rows]
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.parquet")) == [
        "data/panx/vi/dev.parquet", "data/panx/zh/dev.parquet",
        "data/udpos/vi/dev.parquet", "data/udpos/zh/dev.parquet"]

    again = _build(out, xtreme_dir)
    # count the summary table's rows (log lines also say "up to date" when logging reaches the runner)
    table_rows = [ln for ln in again.output.splitlines() if ln.endswith("up to date")
                  and ln.split()[0] in ("panx", "udpos")]
    assert again.exit_code == 0 and len(table_rows) == 4

    verified = runner.invoke(app, ["verify-data", str(out)])
    assert verified.exit_code == 0 and "4 files listed, 0 problems" in verified.output

    stats_json = tmp_path / "stats.json"
    stats = runner.invoke(app, ["stats", str(out / "data"), "--json", str(stats_json)])
    assert "{" not in stats.output  # JSON goes to the file; stdout has the tables only
    assert stats.exit_code == 0, stats.output
    assert "zh-vi" in stats.output
    assert json.loads(stats_json.read_text(encoding="utf-8"))["tasks"]["panx"]["vi"]["sentences"] == 3

    (out / "data/panx/zh/dev.parquet").write_bytes(b"tampered")
    failed = runner.invoke(app, ["verify-data", str(out)])
    assert failed.exit_code == 1 and "data/panx/zh/dev.parquet: sha256" in failed.output


def test_unknown_language_lists_valid_ones(tmp_path: Path, xtreme_dir: Path) -> None:
    result = _build(tmp_path / "x", xtreme_dir, "--langs", "zh,th")
    assert result.exit_code != 0
    assert "unknown language 'th'; valid: zh, ja, ko, vi" in result.output
    assert not (tmp_path / "x").exists()


def test_missing_source_file_is_a_clean_error(tmp_path: Path, xtreme_dir: Path) -> None:
    result = _build(tmp_path / "y", xtreme_dir, "--tasks", "udpos", "--langs", "ko", "--splits", "dev",
                    "--source", str(tmp_path))
    assert result.exit_code == 1
    assert "neither an XTREME download/ folder" in result.output and "Traceback" not in result.output
