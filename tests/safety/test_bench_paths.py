"""The bench writes only inside its results folder, one folder per backbone, and a broken preset is a
one-line error (issue 23, items 3 and 5 and the preset errors)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cjkv_phon.bench.presets import BenchConfig, load_preset
from cjkv_phon.bench.runner import expand_grid

REPO = Path(__file__).resolve().parents[2]


def _grid(results: Path, **kw) -> BenchConfig:
    return BenchConfig(**{"preset": "t", "models": ("finetune",), "results_dir": str(results), **kw})


def test_two_local_backbones_with_one_name_get_two_results_folders(tmp_path: Path) -> None:
    for side in ("A", "B"):
        (tmp_path / side / "tiny").mkdir(parents=True)
    cfg = _grid(tmp_path / "results", backbones=(str(tmp_path / "A/tiny"), str(tmp_path / "B/tiny")))
    dirs = [spec.run_dir for spec in expand_grid(cfg)]
    assert len(set(dirs)) == 2


@pytest.mark.parametrize("backbone", ["..", "../..", "."])
def test_a_backbone_path_never_leaves_the_results_folder(tmp_path: Path, backbone: str,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "deep" / "er").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "deep" / "er")
    results = tmp_path / "deep" / "er" / "results"
    for spec in expand_grid(_grid(results, backbones=(backbone,))):
        assert spec.run_dir.resolve().is_relative_to(results.resolve())


@pytest.mark.parametrize("name", ["../..", "/tmp/elsewhere", "..", "a/b"])
def test_a_preset_name_that_is_a_path_is_refused(tmp_path: Path, name: str) -> None:
    recipe = tmp_path / "p.yaml"
    recipe.write_text(f"preset: {name!r}\nmodels: [finetune]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="plain name"):
        load_preset(recipe)


def _bench(tmp_path: Path, text: str) -> subprocess.CompletedProcess:
    recipe = tmp_path / "p.yaml"
    recipe.write_text(text, encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "cjkv_phon.cli", "bench", "--preset", str(recipe),
                           "--results", str(tmp_path / "r")], capture_output=True, text=True, cwd=REPO)


@pytest.mark.parametrize("text, words", [
    ("preset: x\nmodels: [finetune\n", "p.yaml:3:1: not valid YAML"),
    ('preset: x\nseeds: "3"\n', "seeds must be a whole number, got '3'"),
    ("preset: x\ntrain: {lr: .nan}\n", "lr must be a finite number"),
    ("preset: x\ntrain: {epochs: '2'}\n", "epochs must be a whole number"),
])
def test_a_broken_preset_is_a_one_line_error(tmp_path: Path, text: str, words: str) -> None:
    done = _bench(tmp_path, text)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: ") and words in done.stderr
