"""Checkpoints are never trusted (issue 23, item 1 and the train errors): the config hash is checked
before a checkpoint is opened, and it is read with ``weights_only=True``, so a planted ``state.pt``
cannot run code; an empty, corrupt or other-settings checkpoint is one clear error."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from cjkv_phon.training.config import TrainConfig
from cjkv_phon.training.results import run_config_hash
from cjkv_phon.training.trainer import train


class Planted:
    """Unpickling this calls ``os.system``: what an attacker's ``state.pt`` would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture()
def cfg(tmp_path, tiny_cache, built_data, dictionary_dir, monkeypatch) -> TrainConfig:
    monkeypatch.setenv("CJKV_CACHE_DIR", str(tiny_cache))
    return TrainConfig(task="panx", source_lang="zh", target_lang="vi", system="finetune",
                       backbone="tiny-bert", data_dir=str(built_data), dictionary_dir=str(dictionary_dir),
                       out_dir=str(tmp_path / "runs"), max_train_sentences=8, max_eval_sentences=8,
                       max_test_sentences=8, epochs=1, batch_size=4, device="cpu")


def _checkpoint(cfg: TrainConfig) -> Path:
    folder = Path(cfg.out_dir) / "panx_zh-vi_finetune_s1" / "checkpoint"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.mark.parametrize("with_hash", [True, False])
def test_a_planted_checkpoint_runs_nothing(cfg: TrainConfig, tmp_path: Path, with_hash: bool) -> None:
    marker = tmp_path / "pwned"
    folder = _checkpoint(cfg)
    torch.save({"config_hash": run_config_hash(cfg.resolved()), "model": Planted(marker)}, folder / "state.pt")
    if with_hash:
        (folder / "config_hash.txt").write_text(run_config_hash(cfg.resolved()) + "\n")
    with pytest.raises(ValueError, match="state.pt"):
        train(cfg)
    assert not marker.exists()


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 truncated", b"not a checkpoint"])
def test_an_empty_or_corrupt_checkpoint_is_a_clear_error(cfg: TrainConfig, content: bytes) -> None:
    folder = _checkpoint(cfg)
    (folder / "state.pt").write_bytes(content)
    (folder / "config_hash.txt").write_text(run_config_hash(cfg.resolved()) + "\n")
    with pytest.raises(ValueError, match="not a readable checkpoint"):
        train(cfg)


def test_a_checkpoint_of_other_settings_is_refused_before_it_is_read(cfg: TrainConfig) -> None:
    folder = _checkpoint(cfg)
    (folder / "state.pt").write_bytes(b"never opened")
    (folder / "config_hash.txt").write_text("0123other\n")
    with pytest.raises(ValueError, match="other settings"):
        train(cfg)
