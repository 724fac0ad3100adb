"""The tiny test backbones are reproducible (issue 23, item 10): one corpus gives one tokenizer and one
model, byte for byte, in any cache; so a run gives the same results in fresh caches, and a checkpoint
written with one cache resumes under another with the same config hash."""

from __future__ import annotations

from pathlib import Path

import pytest

from cjkv_phon.training.backbone import build_tiny_backbone
from cjkv_phon.training.config import TrainConfig
from cjkv_phon.training.trainer import train


@pytest.mark.parametrize("name", ["tiny-bert", "tiny-xlmr"])
def test_one_corpus_builds_one_backbone(name: str, corpus: list[str], tmp_path: Path) -> None:
    builds = [build_tiny_backbone(name, corpus, tmp_path / f"cache{i}") for i in range(3)]
    for file in ("tokenizer.json", "model.safetensors", "config.json"):
        assert len({(path / file).read_bytes() for path in builds}) == 1, file


def test_a_checkpoint_resumes_under_a_fresh_cache_with_the_same_results(
        built_data: Path, dictionary_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def run(cache: str, out: str, **kw) -> dict:
        monkeypatch.setenv("CJKV_CACHE_DIR", str(tmp_path / cache))
        return train(TrainConfig(task="panx", source_lang="zh", target_lang="vi", system="finetune",
                                 backbone="tiny-bert", data_dir=str(built_data),
                                 dictionary_dir=str(dictionary_dir), out_dir=str(tmp_path / out),
                                 max_train_sentences=8, max_eval_sentences=8, max_test_sentences=8,
                                 epochs=2, batch_size=4, lr=3e-3, device="cpu", **kw))

    full = run("cache-a", "a")
    assert run("cache-b", "b", max_steps=2)["status"] == "stopped"
    resumed = run("cache-c", "b")
    assert resumed["config_hash"] == full["config_hash"]
    assert resumed["metrics"] == full["metrics"]
