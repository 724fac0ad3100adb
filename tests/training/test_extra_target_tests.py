"""The same model scored on another target test set: the paper's Korean layout (issue 20, item 8).

``TrainConfig.extra_target_tests`` adds a target test split read from another built data folder; it is
scored once with the selected model and changes nothing else (evaluation only, same model).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cjkv_phon.data.build import build_data
from cjkv_phon.data.build_plan import BuildDataConfig
from cjkv_phon.training.config import TrainConfig
from cjkv_phon.training.sentence_scores import read_counts
from cjkv_phon.training.trainer import train


@pytest.fixture(scope="module")
def paper_layout(tmp_path_factory: pytest.TempPathFactory, xtreme_dir: Path) -> Path:
    """PAN-X ko test in the paper's character layout, the same 40 sentences as ``built_data``'s."""
    out = tmp_path_factory.mktemp("paper-layout")
    build_data(BuildDataConfig(source=str(xtreme_dir), tasks=("panx",), langs=("ko",), splits=("test",),
                               layout="paper", max_sentences=40, out=str(out)))
    return out / "data"


def test_a_model_is_scored_on_both_korean_layouts_and_nothing_else_changes(
        tmp_path, tiny_cache, built_data, dictionary_dir, paper_layout, monkeypatch):
    monkeypatch.setenv("CJKV_CACHE_DIR", str(tiny_cache))
    settings = dict(task="panx", source_lang="ja", target_lang="ko", system="finetune", backbone="tiny-xlmr",
                    data_dir=str(built_data), dictionary_dir=str(dictionary_dir), max_train_sentences=16,
                    max_eval_sentences=8, epochs=1, batch_size=4, lr=3e-3, device="cpu")
    plain = train(TrainConfig(**settings, out_dir=str(tmp_path / "plain")))
    both = train(TrainConfig(**settings, out_dir=str(tmp_path / "both"),
                             extra_target_tests={"paper-layout": str(paper_layout)}))
    # Evaluation only: training, selection and the four standard sets are exactly those of the plain run.
    assert both["history"] == plain["history"]
    for side in ("source", "target"):
        for split in ("dev", "test"):
            assert both["metrics"][side][split] == plain["metrics"][side][split]
    extra = both["metrics"]["target"]["test@paper-layout"]
    assert set(extra) == {"precision", "recall", "f1", "accuracy"}
    counts = read_counts(both, "target", "test@paper-layout")
    main = read_counts(both, "target", "test")
    assert counts.ids == main.ids and counts.f1() == extra["f1"]
    # Same entities in both layouts: the gold chunk counts agree sentence by sentence.
    assert (counts.counts[:, 2] == main.counts[:, 2]).all()
    assert both["extra_target_tests"] == {"paper-layout": {
        "data_dir": str(paper_layout), "split": "test@paper-layout", "layout": "paper", "sentences": 40,
        "same_sentence_ids": True}}
    assert both["config_hash"] != plain["config_hash"] and "extra_target_tests" not in plain
    on_disk = json.loads((tmp_path / "both" / both["run_id"] / "results.json").read_text(encoding="utf-8"))
    assert on_disk["metrics"]["target"]["test@paper-layout"] == extra


def test_extra_test_names_are_checked():
    with pytest.raises(ValueError, match="extra_target_tests name 'a b'"):
        TrainConfig(extra_target_tests={"a b": "x"})
