"""The leaderboard on hand-made results records, whose means, stds and deltas are worked out by hand."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from cjkv_phon.bench import leaderboard
from cjkv_phon.bench.significance import SignificanceConfig
from cjkv_phon.training.sentence_scores import SentenceCounts, encode
from cjkv_phon.cli import app
from cjkv_phon.errors import InputError

# Few ASO iterations keep each table's significance section under a second (the default is 1000).
FAST = SignificanceConfig(n_resamples=300, aso_bootstrap=100)


def render_leaderboard(results, fmt="md", significance=FAST):
    return leaderboard.render_leaderboard(results, fmt, significance)


def plot_leaderboard(results, path, significance=FAST):
    return leaderboard.plot_leaderboard(results, path, significance=significance)

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
    # An empty results folder is refused when read (issue 23: it used to give the paper's rows only).
    with pytest.raises(ValueError, match="no results.json"):
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
    sig = tmp_path / "significance.json"
    out = CliRunner().invoke(app, ["leaderboard", "--results", str(results), "--format", "csv", "--plot", str(png),
                                   "--significance-json", str(sig), "--resamples", "200"])
    assert out.exit_code == 0, out.output
    assert json.loads(sig.read_text(encoding="utf-8"))["config"]["n_resamples"] == 200
    assert "ours,phonexl-mlm-only,tiny-bert,—,panx,zh-vi,target,vi,test,3,46.0000,1.0000,4.0000" in out.output
    assert png.is_file()


# ---- significance: runs with per-sentence counts (constructed), and the old runs without them -----------
N = 100


def _counts(n_right: int) -> SentenceCounts:
    """One gold and one predicted entity per sentence, right on the first ``n_right``: F1 = n_right %."""
    right = (np.arange(N) < n_right).astype(int)
    return SentenceCounts(tuple(f"panx.vi.test.{i}" for i in range(N)),
                          np.stack([right, np.ones(N, int), np.ones(N, int)], 1))


def _add_counted_runs(root: Path) -> None:
    """finetune right on 50, 45, 55 sentences (F1 50, 45, 55); ``cosda-ml`` right on all (F1 100)."""
    for variant, rights in (("finetune", (50, 45, 55)), ("cosda-ml", (100, 100, 100))):
        for seed, n_right in enumerate(rights, start=1):
            counts = _counts(n_right)
            record = {"run_id": f"panx_zh-vi_{variant}_s{seed}", "task": "panx", "source_lang": "zh",
                      "target_lang": "vi", "system": variant, "seed": seed, "backbone": "tiny-xlmr",
                      "metrics": {"source": {"test": {"f1": 70.0}}, "target": {"test": {"f1": counts.f1()}}},
                      "sentence_counts": {"target": {"test": encode(counts)}},
                      "bench": {"variant": variant, "resources": "—"}}
            path = root / "tiny-xlmr" / variant / record["run_id"] / "results.json"
            path.parent.mkdir(parents=True)
            path.write_text(json.dumps(record), encoding="utf-8")


def test_significance_section_with_intervals_and_na_for_runs_without_counts(results):
    _add_counted_runs(results)
    md = render_leaderboard(results, "md")
    sig = md[md.index("### Test target F1 vs finetune"):]
    assert row(sig, "Model") == ["Model", "Backbone", "Cell", "Seeds", "Δ tgt", "95% CI", "p (Δ ≤ 0)", "ASO ε_min"]
    # cosda-ml: +50, +55, +45 on the three seeds -> Δ +50.00; every replicate is > 0 (the baselines
    # would need every draw among their right sentences), so the interval excludes 0 and p = 0.
    line = row(sig, "cosda-ml", "tiny-xlmr")
    assert line[2:5] == ["PANX zh→vi vi", "3", "+50.00"] and line[6] == "0.000"
    low, high = (float(x) for x in line[5].strip("[]").split(","))
    assert 0.0 < low < 50.0 < high and float(line[7]) < 0.5
    # The hand-made runs of the first fixture carry no counts (like benchmarks/results/cpu): n/a, and
    # Δ is the difference of the seed means (46 - 42); ASO needs only per-seed F1 (3 shared seeds).
    old = row(sig, "phonexl-mlm-only", "tiny-bert")
    assert old[2:7] == ["PANX zh→vi vi", "3", "+4.00", "n/a", "n/a"] and float(old[7]) < 0.5
    assert row(sig, "x-mixup", "tiny-bert")[5:] == ["n/a", "n/a", "n/a"]        # one seed: no ASO either
    assert "| finetune |" not in sig                                            # no comparison with itself
    # The CSV: the same numbers on the target test lines; blank where no comparison applies.
    rows = {(r["variant"], r["backbone"], r["side"], r["split"]): r
            for r in csv.DictReader(io.StringIO(render_leaderboard(results, "csv"))) if r["origin"] == "ours"}
    got = rows[("cosda-ml", "tiny-xlmr", "target", "test")]
    assert float(got["bootstrap_delta"]) == pytest.approx(50.0) and float(got["ci_low"]) == pytest.approx(low, abs=0.01)
    assert (got["p_bootstrap"], got["bootstrap_resamples"], got["bootstrap_seeds"], got["aso_seeds"]) == \
        ("0.0000", "300", "3", "3")
    assert rows[("phonexl-mlm-only", "tiny-bert", "target", "test")]["ci_low"] == "n/a"
    assert rows[("finetune", "tiny-xlmr", "target", "test")]["ci_low"] == ""
    assert rows[("cosda-ml", "tiny-xlmr", "source", "test")]["aso_epsilon_min"] == ""
    tex = render_leaderboard(results, "tex")
    assert r"cosda-ml & tiny-xlmr & PANX zh$\to$vi vi & 3 & +50.00 & [" in tex and r"ASO $\varepsilon$\_min" in tex
    assert tex.isascii()                                  # every symbol of the section is a LaTeX command


def test_significance_json_and_plot_with_intervals(results, tmp_path):
    _add_counted_runs(results)
    out = leaderboard.write_significance(results, tmp_path / "significance.json", FAST)
    data = json.loads(out.read_text(encoding="utf-8"))
    by = {(c["variant"], c["backbone"]): c for c in data["comparisons"]}
    assert data["config"]["n_resamples"] == 300 and data["baseline"] == "finetune"
    assert by[("cosda-ml", "tiny-xlmr")]["bootstrap"]["delta"] == pytest.approx(50.0)
    assert by[("phonexl-mlm-only", "tiny-bert")]["bootstrap"] is None
    assert by[("phonexl-mlm-only", "tiny-bert")]["bootstrap_note"].startswith("n/a: no per-sentence counts")
    with_sig = plot_leaderboard(results, tmp_path / "with.png")
    without = plot_leaderboard(results, tmp_path / "without.png", significance=None)
    # The Δ row doubles the figure's height (PNG header: width, height at bytes 16..24).
    height = lambda p: int.from_bytes(p.read_bytes()[20:24], "big")       # noqa: E731
    assert height(with_sig) == 2 * height(without)


def test_refuses_counts_that_contradict_each_other(results):
    _add_counted_runs(results)
    path = results / "tiny-xlmr" / "cosda-ml" / "panx_zh-vi_cosda-ml_s2" / "results.json"
    record = json.loads(path.read_text(encoding="utf-8"))
    record["sentence_counts"]["target"]["test"]["correct"] = "1"
    path.write_text(json.dumps(record), encoding="utf-8")
    with pytest.raises(InputError, match=r"sentence_counts.target.test: correct has 1 values for 100 sentence ids") as err:
        render_leaderboard(results, "md")
    assert err.value.path == str(path)
