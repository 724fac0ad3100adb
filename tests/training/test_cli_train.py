"""``cjkv train`` through Typer's CliRunner on a tiny real run."""

from __future__ import annotations

import json

import yaml
from typer.testing import CliRunner

from cjkv_phon.cli import app
from cjkv_phon.schema import RESULT_KEYS


def test_cli_train_writes_results_with_every_key(built_data, dictionary_dir, tiny_cache, tmp_path, monkeypatch):
    monkeypatch.setenv("CJKV_CACHE_DIR", str(tiny_cache))
    # File first, flags override: the recipe says udpos and seed 7; the flags say panx, seed 3.
    recipe = tmp_path / "run.yaml"
    recipe.write_text(yaml.safe_dump({"task": "udpos", "seed": 7, "lr": 0.003, "max_eval_sentences": 8}))
    args = ["train", "--recipe", str(recipe), "--task", "panx", "--pair", "zh-vi", "--model", "phonexl",
            "--backbone", "tiny-bert", "--seed", "3", "--no-le", "--alpha", "0.1", "--beta", "0.1",
            "--gamma", "0.1", "--max-train-sentences", "8", "--epochs", "1", "--batch-size", "4",
            "--device", "cpu", "--data-dir", str(built_data), "--dictionary-dir", str(dictionary_dir),
            "--out", str(tmp_path / "runs")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    path = tmp_path / "runs" / "panx_zh-vi_phonexl_s3" / "results.json"
    record = json.loads(path.read_text(encoding="utf-8"))
    assert set(RESULT_KEYS) <= set(record)
    assert record["config"]["use_le"] is False and record["config"]["lr"] == 0.003
    assert record["config"]["mu"] == 0.2 and record["config"]["r"] == 0.4     # Table 5, PAN-X zh-vi
    assert "target" in result.output and "F1" in result.output


def test_cli_train_rejects_a_bad_pair_as_a_usage_error():
    result = CliRunner().invoke(app, ["train", "--pair", "zhvi"])
    assert result.exit_code == 2 and "unknown pair 'zhvi'; valid: zh-ja," in result.output
