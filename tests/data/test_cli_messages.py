"""What `cjkv build-data`, `verify-data` and `stats` print: verbatim errors, plain tables, progress."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cjkv_phon.cli import app
from cjkv_phon.data.xtreme import xtreme_path
from cjkv_phon.schema import STATUSES

REPO = Path(__file__).resolve().parents[2]
RECIPE = REPO / "pipelines" / "build-data.yaml"
narrow = CliRunner(env={"COLUMNS": "80"})  # not a terminal, and narrow: nothing may be cut


def _build(out: Path, source: Path, *extra: str):
    return narrow.invoke(app, ["build-data", "--recipe", str(RECIPE), "--source", str(source),
                               "--tasks", "panx", "--langs", "zh,vi", "--splits", "dev",
                               "--max-sentences", "3", "--workers", "1", "--out", str(out), *extra])


def _errors(output: str) -> list[str]:
    return [ln for ln in output.splitlines() if ln.startswith("error:")]


def test_statuses_mirror_the_schema() -> None:
    from cjkv_phon.cli.data import STATUSES as CLI_STATUSES

    assert CLI_STATUSES == STATUSES


def test_error_text_is_printed_verbatim(tmp_path: Path) -> None:
    # Line 100 holds the bad line: rich would turn "tsv:100:" into an emoji and eat "[bold]".
    path = xtreme_path(tmp_path / "src", "panx", "zh", "dev")
    path.parent.mkdir(parents=True)
    lines = [f"t{i}\tO" for i in range(99)] + ["[bold]x[/bold]\tO\tEXTRA :smile:"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = narrow.invoke(app, ["build-data", "--recipe", str(RECIPE), "--source", str(tmp_path / "src"),
                                 "--tasks", "panx", "--langs", "zh", "--splits", "dev",
                                 "--out", str(tmp_path / "rel")])
    assert result.exit_code == 1
    errors = _errors(result.output)
    assert len(errors) == 1 and "Traceback" not in result.output
    assert f"{path}:100: 3 TAB-separated columns" in errors[0]
    assert "[bold]x[/bold]" in errors[0] and ":smile:" in errors[0]


def test_build_summary_is_plain_with_short_labels_and_whole_numbers(tmp_path: Path,
                                                                     xtreme_dir: Path) -> None:
    result = _build(tmp_path / "rel", xtreme_dir, "--max-sentences", "2000")
    assert result.exit_code == 0, result.output
    assert "…" not in result.output and "┃" not in result.output
    rows = {tuple(ln.split()[:3]): ln.split() for ln in result.output.splitlines()
            if ln.split()[:1] in (["panx"], ["total"])}
    assert rows[("panx", "zh", "dev")][3] == "2000" and rows[("panx", "vi", "dev")][3] == "2000"
    assert int(rows[("panx", "zh", "dev")][4]) > 10_000  # tokens, whole
    assert rows[("total", "2", "files")][3] == "4000"


def test_progress_inside_a_file_is_logged_off_a_terminal(tmp_path: Path, xtreme_dir: Path) -> None:
    result = _build(tmp_path / "rel", xtreme_dir)
    assert "panx zh dev: 3/3 sentences transcribed" in result.output
    assert "panx vi dev: 3 sentences, built in" in result.output and "(2/2 files)" in result.output


def test_excluded_combination_logged_once_and_only_it_is_nothing_to_build(tmp_path: Path,
                                                                        xtreme_dir: Path) -> None:
    base = ["build-data", "--recipe", str(RECIPE), "--source", str(xtreme_dir), "--tasks", "udpos",
            "--langs", "ko", "--max-sentences", "2", "--workers", "1"]
    some = narrow.invoke(app, [*base, "--splits", "dev,train", "--out", str(tmp_path / "a")])
    assert some.exit_code == 0, some.output
    assert some.output.count("skipping udpos ko train") == 1
    nothing = narrow.invoke(app, [*base, "--splits", "train", "--out", str(tmp_path / "b")])
    assert nothing.exit_code == 1 and not (tmp_path / "b").exists()
    assert _errors(nothing.output) == [
        "error: nothing to build: udpos.ko.train is excluded by the recipe (known absent from the "
        "source); ask for another task, language or split"]


def test_verify_and_stats_on_missing_or_damaged_releases_are_one_line(tmp_path: Path,
                                                                    xtreme_dir: Path) -> None:
    for args in (["verify-data", str(tmp_path / "nope")], ["stats", str(tmp_path / "nope" / "data")]):
        result = narrow.invoke(app, args)
        assert result.exit_code == 1 and "Traceback" not in result.output, result.output
        assert len(_errors(result.output)) == 1 and str(tmp_path / "nope") in result.output
    out = tmp_path / "rel"
    assert _build(out, xtreme_dir).exit_code == 0
    manifest = out / "manifest.json"
    manifest.write_bytes(manifest.read_bytes()[:300])
    result = narrow.invoke(app, ["verify-data", str(out)])
    assert result.exit_code == 1 and len(_errors(result.output)) == 1
    assert f"{manifest}:" in result.output and "not valid JSON" in result.output


def test_verify_cli_reports_stray_and_staging(tmp_path: Path, xtreme_dir: Path) -> None:
    out = tmp_path / "rel"
    assert _build(out, xtreme_dir).exit_code == 0
    (out / "data/panx/zh/copy.parquet").write_bytes((out / "data/panx/zh/dev.parquet").read_bytes())
    (out / ".staging-abc").mkdir()
    result = narrow.invoke(app, ["verify-data", str(out)])
    assert result.exit_code == 1
    assert "FAIL data/panx/zh/copy.parquet: built file not listed" in result.output
    assert "FAIL .staging-abc: staging-like folder not made by cjkv" in result.output


def test_stats_prints_json_only_with_json_flag(tmp_path: Path, xtreme_dir: Path) -> None:
    out = tmp_path / "rel"
    assert _build(out, xtreme_dir).exit_code == 0
    tables = narrow.invoke(app, ["stats", str(out / "data")])
    assert tables.exit_code == 0 and "{" not in tables.output and "…" not in tables.output
    sizes = {tuple(ln.split()[:2]): ln.split() for ln in tables.output.splitlines()}
    assert sizes[("panx", "zh")][2] == "3"  # sentences, whole
    as_json = narrow.invoke(app, ["stats", str(out / "data"), "--json", "-"])
    assert as_json.exit_code == 0
    assert json.loads(as_json.stdout)["tasks"]["panx"]["zh"]["sentences"] == 3


def test_tables_on_a_narrow_terminal_never_cut_numbers() -> None:
    import io

    from rich.console import Console
    from rich.table import Table

    from cjkv_phon.cli.console import print_table

    for width in (60, 200):
        table = Table("task", "lang", *(f"column {i}" for i in range(8)), title="t")
        table.add_row("panx", "zh", *(str(8412345 + i) for i in range(8)))
        buf = io.StringIO()
        print_table(table, Console(file=buf, force_terminal=True, width=width, color_system=None))
        text = buf.getvalue()
        assert "…" not in text and all(str(8412345 + i) in text for i in range(8)), text
