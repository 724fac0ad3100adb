"""The smoke preset end to end: every registered system through the real trainer on real built data.

Tiny backbone, 1 seed, PAN-X zh->vi from the ``built_data`` fixture (40 sentences per file) and a
small real pivot dictionary; each run must leave a complete results.json, and the leaderboard and
the CLI must read them. Budget: about a minute on this machine.
"""

from __future__ import annotations

import json
import math

import pytest
from typer.testing import CliRunner

from cjkv_phon.bench.leaderboard import render_leaderboard
from cjkv_phon.bench.presets import load_preset
from cjkv_phon.bench.runner import expand_grid, run_bench
from cjkv_phon.cli import app
from cjkv_phon.schema import RESULT_KEYS
from cjkv_phon.training.system import SYSTEMS


@pytest.fixture(scope="module")
def smoke(built_data, dictionary_dir, tmp_path_factory, monkeypatch_module):
    # Tiny backbones are cached per corpus: keep them in the test's own folder, not ~/.cache.
    monkeypatch_module.setenv("CJKV_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    cfg = load_preset("smoke", {"seeds": 1, "results_dir": str(tmp_path_factory.mktemp("results")),
                                "allow_dirty": True},
                      train={"data_dir": str(built_data), "dictionary_dir": str(dictionary_dir)})
    return cfg, run_bench(cfg)


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def test_every_system_finishes(smoke):
    cfg, records = smoke
    assert sorted(r["bench"]["variant"] for r in records) == SYSTEMS.names()
    bad = {r["bench"]["bench_id"]: r["bench"].get("error") for r in records if r["bench"]["status"] != "done"}
    assert not bad, bad
    for spec in expand_grid(cfg):
        record = json.loads((spec.run_dir / "results.json").read_text(encoding="utf-8"))
        assert set(RESULT_KEYS) <= set(record), spec.bench_id
        assert record["bench"]["config_hash"] == record["config_hash"]
        assert record["bench"]["resources"] == spec.variant.resources
        for side in ("source", "target"):
            for split in ("dev", "test"):
                m = record["metrics"][side][split]
                assert math.isfinite(m["f1"]) and 0.0 <= m["f1"] <= 100.0, (spec.bench_id, side, split)
                p, r = m["precision"], m["recall"]
                assert m["f1"] == pytest.approx(2 * p * r / (p + r) if p + r else 0.0, abs=0.02), spec.bench_id
        # The final weights are the selected ones: source dev scores what the best evaluation scored.
        best = max(h["source_dev_f1"] for h in record["history"])
        assert record["metrics"]["source"]["dev"]["f1"] == pytest.approx(best, abs=1e-6), spec.bench_id
        assert record["selection"]["best_step"] in {h["step"] for h in record["history"]}


def test_rerun_skips_and_leaderboard_reads(smoke):
    cfg, _ = smoke
    def never(_cfg):
        raise AssertionError("a finished run was retrained")
    assert {r["bench"]["status"] for r in run_bench(cfg, never)} == {"skipped"}
    md = render_leaderboard(cfg.results_path, "md")
    for name in ("xtune", "x-mixup", "filter"):
        assert f"| {name} | tiny-bert | {'Dict+dict-MT' if name == 'xtune' else 'dict-MT'} | ours | 1 |" in md
    # The trainer recorded per-sentence counts, so every system gets a paired-bootstrap interval over
    # sentences against finetune (one seed: no two-level interval, so no verdict; t-test and ASO n/a).
    sig = md[md.index("### Test target F1 vs finetune"):].splitlines()
    lines = [[c.strip() for c in line.strip("|").split("|")] for line in sig if line.startswith("| ")][1:]
    assert sorted(c[0] for c in lines) == sorted(set(SYSTEMS.names()) - {"finetune"})
    for cells in lines:
        low, high = (float(x) for x in cells[8].strip("[]").split(","))
        assert low <= float(cells[4]) <= high and cells[5:8] == ["n/a", "n/a", "n/a"], cells
        assert cells[9:] == ["n/a", "n/a"], cells


def test_cli_bench_table(smoke):
    cfg, _ = smoke
    out = CliRunner().invoke(app, ["bench", "--preset", "smoke", "--seeds", "1", "--model", "filter,xtune",
                                   "--results", str(cfg.results_path),
                                   "--data-dir", cfg.train["data_dir"], "--dictionary-dir", cfg.train["dictionary_dir"]],
                                  env={"COLUMNS": "200"})     # wide enough that rich does not cut run ids
    assert out.exit_code == 0, out.output
    assert "panx_zh-vi_filter_s1" in out.output and "skipped" in out.output
