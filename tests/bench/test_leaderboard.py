"""The leaderboard on hand-made results records, whose means, stds and deltas are worked out by hand."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cjkv_phon.bench.leaderboard import plot_leaderboard, render_leaderboard
from cjkv_phon.cli import app
from cjkv_phon.errors import InputError

# (variant, system, resources) -> per seed: (source test F1, target test F1). Known answers:
#   finetune target 40, 42, 44 -> 42.00 ± 2.00 (sample std); source 80, 82, 84 -> 82.00 ± 2.00
#   phonexl-mlm-only target 45, 46, 47 -> 46.00 ± 1.00; source 81 x3 -> 81.00 ± 0.00
#   delta vs finetune (target) = 46 - 42 = +4.00; same-seed differences 5, 4, 3 -> ± 1.00
RUNS = {("finetune", "finetune", "—"): [(80.0, 40.0), (82.0, 42.0), (84.0, 44.0)],
        ("phonexl-mlm-only", "phonexl", "—"): [(81.0, 45.0), (81.0, 46.0), (81.0, 47.0)],
        ("x-mixup", "x-mixup", "dict-MT"): [(70.0, 30.0)]}


def write_records(root: Path) -> Path:
    for (variant, system, resources), seeds in RUNS.items():
        for seed, (src, tgt) in enumerate(seeds, start=1):
            record = {"run_id": f"panx_zh-vi_{system}_s{seed}", "task": "panx", "source_lang": "zh",
                      "target_lang": "vi", "system": system, "seed": seed, "backbone": "tiny-bert",
                      "metrics": {"source": {"test": {"f1": src}, "dev": {"f1": src + 1}},
                                  "target": {"test": {"f1": tgt}, "dev": {"f1": tgt + 1}}},
                      "bench": {"variant": variant, "resources": resources}}
            path = root / "tiny-bert" / variant / record["run_id"] / "results.json"
            path.parent.mkdir(parents=True)
            path.write_text(json.dumps(record), encoding="utf-8")
    return root


@pytest.fixture()
def results(tmp_path: Path) -> Path:
    return write_records(tmp_path / "results")


def row(md: str, *start: str) -> list[str]:
    """Cells of the first Markdown row starting with the given cells."""
    for line in md.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells[: len(start)] == list(start):
            return cells
    raise AssertionError(f"no row {start}")


def test_markdown_mean_std_delta(results):
    md = render_leaderboard(results, "md")
    head = row(md, "Model", "Backbone")
    assert head[6:8] == ["PANX zh→vi zh (src)", "PANX zh→vi vi (tgt)"]
    assert row(md, "finetune", "tiny-bert")[3:8] == ["ours", "3", "–", "82.00 ± 2.00", "42.00 ± 2.00"]
    assert row(md, "phonexl-mlm-only", "tiny-bert")[3:8] == ["ours", "3", "+4.00 ± 1.00", "81.00 ± 0.00",
                                                             "46.00 ± 1.00"]
    assert row(md, "x-mixup", "tiny-bert")[2:6] == ["dict-MT", "ours", "1", "-12.00"]
    # The paper's row follows ours; its delta is against the paper's mBERT row: target deltas
    # 0.29, 1.26, 1.87, 2.31 (PAPER.md Table 3) average to +1.43.
    paper = row(md, "phonexl-mlm-only", "mBERT")
    assert paper[3:9] == ["paper", "3", "+1.43", "79.70 ± 0.17", "50.23 ± 1.63", "72.62 ± 0.02"]
    lines = md.splitlines()
    assert lines.index(next(l for l in lines if l.startswith("| phonexl-mlm-only | mBERT"))) == \
        lines.index(next(l for l in lines if l.startswith("| phonexl-mlm-only | tiny-bert"))) + 1
    dev = md[md.index("### Dev F1"):]
    assert row(dev, "finetune", "tiny-bert")[6:8] == ["83.00 ± 2.00", "43.00 ± 2.00"]
    assert "| paper |" not in dev                        # the paper's dev tables are not transcribed


def test_table6_layout(results):
    md = render_leaderboard(results, "md")
    t6 = md[md.index("### Test F1, layout of Table 6"):md.index("### Dev F1")]
    assert row(t6, "Model")[6:] == ["UDPOS zh→vi vi (tgt)", "UDPOS ja→ko ko (tgt)"]
    # PhoneXL-IPA (full) vs mBERT on UDPOS targets: (2.09 + 3.12) / 2 = 2.605 (2.6050000000000004
    # in binary floating point, so it prints as +2.61); the Table-3 target columns are not counted here.
    assert row(t6, "phonexl", "mBERT")[5:] == ["+2.61", "50.71 ± 0.40", "46.75 ± 0.09"]
    assert row(t6, "phonexl-romanized", "mBERT")[6:] == ["49.78 ± 1.99", "45.18 ± 2.03"]


def test_one_seed_shows_no_spread_and_our_panx_ablations_get_table6_columns(results):
    # x-mixup has one seed (70 / 30): its cells are bare means, and the CSV leaves std empty.
    md = render_leaderboard(results, "md")
    assert row(md, "x-mixup", "tiny-bert")[3:8] == ["ours", "1", "-12.00", "70.00", "30.00"]
    rows = list(csv.DictReader(io.StringIO(render_leaderboard(results, "csv"))))
    assert {r["std"] for r in rows if r["variant"] == "x-mixup" and r["origin"] == "ours"} == {""}
    # A Table-6 ablation of ours on PAN-X shows in the Table-6 section with the PAN-X target column.
    record = json.loads((results / "tiny-bert" / "finetune" / "panx_zh-vi_finetune_s1" / "results.json").read_text())
    record.update(system="phonexl", run_id="panx_zh-vi_phonexl_s1",
                  bench={"variant": "phonexl-pe-ext", "resources": "—"})
    record["metrics"]["target"]["test"]["f1"] = 39.5
    path = results / "tiny-bert" / "phonexl-pe-ext" / "panx_zh-vi_phonexl_s1" / "results.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(record), encoding="utf-8")
    md = render_leaderboard(results, "md")
    t6 = md[md.index("### Test F1, layout of Table 6"):md.index("### Dev F1")]
    # (PANX ja→ko comes with the paper's full-PhoneXL row, which Table 6 repeats for reference.)
    assert row(t6, "Model")[6:] == ["PANX zh→vi vi (tgt)", "PANX ja→ko ko (tgt)", "UDPOS zh→vi vi (tgt)",
                                    "UDPOS ja→ko ko (tgt)"]
    assert row(t6, "phonexl-pe-ext", "tiny-bert")[3:7] == ["ours", "1", "-2.50", "39.50"]   # 39.5 - 42


def test_csv_long_format(results):
    rows = list(csv.DictReader(io.StringIO(render_leaderboard(results, "csv"))))
    ours = {(r["variant"], r["side"], r["split"]): r for r in rows if r["origin"] == "ours"}
    got = ours[("phonexl-mlm-only", "target", "test")]
    assert (got["n"], got["mean"], got["std"], got["delta_vs_finetune"]) == ("3", "46.0000", "1.0000", "4.0000")
    assert got["delta_paired_std"] == "1.0000" and ours[("phonexl-mlm-only", "source", "test")]["delta_paired_std"] == ""
    assert ours[("finetune", "target", "test")]["delta_vs_finetune"] == ""
    paper = [r for r in rows if r["origin"] == "paper" and r["variant"] == "phonexl" and r["lang"] == "vi"
             and r["task"] == "panx" and r["backbone"] == "mBERT"]
    assert [(r["mean"], r["std"], r["delta_vs_finetune"]) for r in paper] == [("52.2800", "0.9800", "2.3400")]


def test_latex(results):
    tex = render_leaderboard(results, "tex")
    assert r"\toprule" in tex and r"\bottomrule" in tex
    assert r"phonexl-mlm-only & tiny-bert & --- & ours & 3 & +4.00 $\pm$ 1.00 & 81.00 $\pm$ 0.00 & 46.00 $\pm$ 1.00" in tex
    assert "±" not in tex and "→" not in tex            # every non-ASCII symbol is a LaTeX command


def test_plot_png(results, tmp_path):
    out = plot_leaderboard(results, tmp_path / "plots" / "f1.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 5000


def test_plot_without_results_raises(tmp_path):
    with pytest.raises(ValueError, match="no target test F1"):
        plot_leaderboard(tmp_path, tmp_path / "f1.png")


def test_bad_record_named(results):
    bad = results / "tiny-bert" / "finetune" / "panx_zh-vi_finetune_s1" / "results.json"
    bad.write_text(json.dumps({"task": "panx"}), encoding="utf-8")
    with pytest.raises(InputError, match="results record lacks keys") as err:
        render_leaderboard(results, "md")
    assert err.value.path == str(bad)


def test_unknown_format(results):
    with pytest.raises(ValueError, match="unknown format 'html'; valid: md, csv, tex"):
        render_leaderboard(results, "html")


def test_cli_leaderboard(results, tmp_path):
    png = tmp_path / "board.png"
    out = CliRunner().invoke(app, ["leaderboard", "--results", str(results), "--format", "csv", "--plot", str(png)])
    assert out.exit_code == 0, out.output
    assert "ours,phonexl-mlm-only,tiny-bert,—,panx,zh-vi,target,vi,test,3,46.0000,1.0000,4.0000" in out.output
    assert png.is_file()
