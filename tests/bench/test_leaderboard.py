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
#   x-mixup ran seed 1 only: its Δ is on seed 1 (30 - 40 = -10), never against finetune's 3-seed mean
#   (30 - 42 = -12, what the leaderboard showed before issue 20)
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
    assert row(md, "x-mixup", "tiny-bert")[2:6] == ["dict-MT", "ours", "1", "-10.00 (seed 1)"]
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
    assert row(md, "x-mixup", "tiny-bert")[3:8] == ["ours", "1", "-10.00 (seed 1)", "70.00", "30.00"]
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
    assert row(t6, "phonexl-pe-ext", "tiny-bert")[3:7] == ["ours", "1", "-0.50 (seed 1)", "39.50"]   # 39.5 - 40


def test_csv_long_format(results):
    rows = list(csv.DictReader(io.StringIO(render_leaderboard(results, "csv"))))
    ours = {(r["variant"], r["side"], r["split"]): r for r in rows if r["origin"] == "ours"}
    got = ours[("phonexl-mlm-only", "target", "test")]
    assert (got["n"], got["mean"], got["std"], got["delta_vs_finetune"]) == ("3", "46.0000", "1.0000", "4.0000")
    assert got["delta_paired_std"] == "1.0000" and ours[("phonexl-mlm-only", "source", "test")]["delta_paired_std"] == ""
    assert ours[("finetune", "target", "test")]["delta_vs_finetune"] == ""
    assert got["delta_seeds"] == "1 2 3" and got["metric"] == "f1"
    one = ours[("x-mixup", "target", "test")]
    assert (one["delta_vs_finetune"], one["delta_seeds"], one["delta_paired_std"]) == ("-10.0000", "1", "")
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
    assert "ours,phonexl-mlm-only,tiny-bert,—,panx,zh-vi,target,vi,test,f1,3,46.0000,1.0000,4.0000,1 2 3" in out.output
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
    assert row(sig, "Model") == ["Model", "Backbone", "Cell", "Seeds", "Δ tgt", "95% CI seeds+sentences",
                                 "p (Δ ≤ 0)", "Verdict", "95% CI sentences only", "t-test p (seeds)", "ASO ε_min"]
    # cosda-ml: +50, +55, +45 on the three seeds -> Δ +50.00; every replicate is > 0 (the baselines
    # would need every draw among their right sentences), so both intervals exclude 0 and p = 0.
    line = row(sig, "cosda-ml", "tiny-xlmr")
    assert line[2:5] == ["PANX zh→vi vi", "3", "+50.00"] and line[6:8] == ["0.000", "better"]
    low, high = (float(x) for x in line[5].strip("[]").split(","))
    s_low, s_high = (float(x) for x in line[8].strip("[]").split(","))
    assert 0.0 < low <= s_low < 50.0 < s_high <= high        # the seeds' spread widens the verdict's interval
    assert float(line[9]) < 0.05 and line[10].endswith("*")  # t-test over 3 seeds; ASO flagged (< 5 seeds)
    # The hand-made runs of the first fixture carry no counts (like benchmarks/results/cpu): n/a, no
    # verdict, and Δ is the same-seed difference (46 - 42); the t-test and ASO need only per-seed F1.
    old = row(sig, "phonexl-mlm-only", "tiny-bert")
    assert old[2:9] == ["PANX zh→vi vi", "3", "+4.00", "n/a", "n/a", "n/a", "n/a"] and old[9] != "n/a"
    assert row(sig, "x-mixup", "tiny-bert")[4:] == ["-10.00", "n/a", "n/a", "n/a", "n/a", "n/a", "n/a"]
    assert "| finetune |" not in sig                                            # no comparison with itself
    # The CSV: the same numbers on the target test lines; blank where no comparison applies.
    rows = {(r["variant"], r["backbone"], r["side"], r["split"]): r
            for r in csv.DictReader(io.StringIO(render_leaderboard(results, "csv"))) if r["origin"] == "ours"}
    got = rows[("cosda-ml", "tiny-xlmr", "target", "test")]
    assert float(got["bootstrap_delta"]) == pytest.approx(50.0) and float(got["ci_low"]) == pytest.approx(s_low, abs=0.01)
    assert float(got["seed_ci_low"]) == pytest.approx(low, abs=0.01)
    assert (got["p_bootstrap"], got["bootstrap_resamples"], got["bootstrap_seeds"], got["aso_seeds"]) == \
        ("0.0000", "300", "3", "3")
    assert (got["verdict"], got["aso_informative"]) == ("better", "false") and float(got["seed_ci_low"]) > 0.0
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
    assert by[("cosda-ml", "tiny-xlmr")]["verdict"] == "better" and by[("cosda-ml", "tiny-xlmr")]["seed_bootstrap"]
    assert by[("phonexl-mlm-only", "tiny-bert")]["verdict"] == "n/a"
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


def _add_udpos_and_layout_runs(root: Path) -> None:
    """UDPOS ja->ko runs that recorded the paper's metric, and PAN-X ja->ko runs scored on two Korean layouts.

    finetune UDPOS: accuracy 45, 47 / raw seqeval 40, 42; phonexl: accuracy 44, 46 / raw 41, 44.
    PAN-X ko: finetune test 2, 4 / test@paper-layout 20, 24; phonexl test 3, 3 / paper 21, 29.
    """
    runs = {"finetune": [(45.0, 40.0, 2.0, 20.0), (47.0, 42.0, 4.0, 24.0)],
            "phonexl": [(44.0, 41.0, 3.0, 21.0), (46.0, 44.0, 3.0, 29.0)]}
    for variant, seeds in runs.items():
        for seed, (acc, raw, ko, ko_paper) in enumerate(seeds, start=1):
            for task, target in (("udpos", {"test": {"f1": acc, "accuracy": acc, "seqeval_raw_f1": raw}}),
                                 ("panx", {"test": {"f1": ko}, "test@paper-layout": {"f1": ko_paper}})):
                record = {"run_id": f"{task}_ja-ko_{variant}_s{seed}", "task": task, "source_lang": "ja",
                          "target_lang": "ko", "system": variant, "seed": seed, "backbone": "tiny-xlmr",
                          "metrics": {"source": {"test": {"f1": 70.0}}, "target": target},
                          "bench": {"variant": variant, "resources": "—"}}
                path = root / "tiny-xlmr" / variant / record["run_id"] / "results.json"
                path.parent.mkdir(parents=True)
                path.write_text(json.dumps(record), encoding="utf-8")


def test_udpos_on_the_papers_metric_and_other_korean_layouts_get_their_own_tables(tmp_path):
    root = tmp_path / "results"
    _add_udpos_and_layout_runs(root)
    md = render_leaderboard(root, "md", None)
    raw = md[md.index("### Test UDPOS target F1 on the paper's metric"):]
    raw = raw[:raw.index("\n### ")] if "\n### " in raw else raw
    assert row(raw, "Model")[6:] == ["UDPOS zh→vi vi (tgt)", "UDPOS ja→ko ko (tgt)"]   # the paper has both
    # Ours on raw seqeval: 42.50 ± 2.12 vs finetune 41.00 ± 1.41; same-seed Δ (1, 2) -> +1.50.
    assert row(raw, "phonexl", "tiny-xlmr")[3:8] == ["ours", "2", "+1.50 ± 0.71", "–", "42.50 ± 2.12"]
    assert row(raw, "phonexl", "mBERT")[3] == "paper"                 # the paper's row, on its own metric
    # The main table keeps token accuracy for our UDPOS cells (45.00 and 46.00 - 1 = Δ -1.00).
    assert row(md, "phonexl", "tiny-xlmr")[5] == "-0.50 ± 0.71"     # mean of PAN-X +0.00 and UDPOS -1.00
    layout = md[md.index("### Target F1 on test@paper-layout"):]
    assert row(layout, "Model")[6:] == ["PANX ja→ko ko (tgt)"]
    assert row(layout, "phonexl", "tiny-xlmr")[5:7] == ["+3.00 ± 2.83", "25.00 ± 5.66"]
    rows = list(csv.DictReader(io.StringIO(render_leaderboard(root, "csv", None))))
    raw_lines = [r for r in rows if r["metric"] == "seqeval_raw_f1" and r["origin"] == "ours"]
    assert {(r["variant"], r["mean"], r["delta_vs_finetune"]) for r in raw_lines} == {
        ("finetune", "41.0000", ""), ("phonexl", "42.5000", "1.5000")}
    assert any(r["split"] == "test@paper-layout" and r["variant"] == "phonexl" for r in rows)
