"""``train(cfg)`` end to end on the small real build with tiny backbones: resume, systems, bad inputs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from cjkv_phon.errors import InputError
from cjkv_phon.schema import RESULT_KEYS
from cjkv_phon.training.config import TrainConfig
from cjkv_phon.training.metrics import evaluate_tags
from cjkv_phon.training.sentence_scores import read_counts, sentence_counts
from cjkv_phon.training.run_data import repair_iob
from cjkv_phon.training.trainer import train
from tests.training.conftest import read_examples


@pytest.fixture()
def tiny_run(tmp_path, tiny_cache, built_data, dictionary_dir, monkeypatch):
    """A TrainConfig for a seconds-long CPU run; keyword arguments override its fields."""
    monkeypatch.setenv("CJKV_CACHE_DIR", str(tiny_cache))

    def make(**overrides) -> TrainConfig:
        settings = dict(task="panx", source_lang="zh", target_lang="vi", system="phonexl",
                        backbone="tiny-xlmr", data_dir=str(built_data), dictionary_dir=str(dictionary_dir),
                        out_dir=str(tmp_path / "runs"), max_train_sentences=16, max_eval_sentences=8,
                        epochs=2, batch_size=4, lr=3e-3, device="cpu", alpha=0.1, beta=0.1, gamma=0.1)
        return TrainConfig(**{**settings, **overrides})
    return make


def _weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return torch.load(run_dir / "checkpoint" / "state.pt", weights_only=False)["model"]


def test_an_interrupted_and_resumed_run_reproduces_the_uninterrupted_one(tiny_run, tmp_path):
    full = train(tiny_run(out_dir=str(tmp_path / "a")))
    stopped = train(tiny_run(out_dir=str(tmp_path / "b"), max_steps=3))     # mid-epoch 1 of 2
    assert stopped == {"run_id": "panx_zh-vi_phonexl_s1", "status": "stopped", "step": 3}
    assert not (tmp_path / "b" / stopped["run_id"] / "results.json").exists()
    resumed = train(tiny_run(out_dir=str(tmp_path / "b")))
    # 16 sentences split into at most 16 chunks of <= 128 tiny-xlmr subwords (natural tokenisation,
    # the deterministic tiny tokenizer): 4 steps of 4 per epoch.
    assert resumed["timings"]["steps"] == full["timings"]["steps"] == 8
    assert resumed["metrics"] == full["metrics"] and resumed["history"] == full["history"]
    assert resumed["config_hash"] == full["config_hash"]
    a, b = _weights(tmp_path / "a" / full["run_id"]), _weights(tmp_path / "b" / full["run_id"])
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("system", ["finetune", "cosda-ml"])
def test_results_json_and_predictions_for_each_system(tiny_run, system):
    record = train(tiny_run(system=system, epochs=1))
    run_dir = Path(record["config"]["out_dir"]) / record["run_id"]
    on_disk = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    assert set(RESULT_KEYS) <= set(on_disk) and on_disk["device"] == "cpu"
    assert on_disk["run_id"] == f"panx_zh-vi_{system}_s1"
    assert set(on_disk["metrics"]) == {"source", "target"}
    for side in ("source", "target"):
        assert set(on_disk["metrics"][side]) == {"dev", "test"}
        for split in ("dev", "test"):
            # The recorded scores are seqeval's on the saved predictions, against the real gold tags.
            rows = [json.loads(line) for line in
                    (run_dir / "predictions" / f"{side}-{split}.jsonl").read_text(encoding="utf-8").splitlines()]
            lang = "zh" if side == "source" else "vi"
            gold = {ex.id: list(ex.tags) for ex in read_examples(Path(record["config"]["data_dir"]), "panx",
                                                                 lang, split)}
            assert all(r["gold"] == gold[r["id"]] for r in rows)
            again = evaluate_tags([r["gold"] for r in rows], [r["pred"] for r in rows], "panx")
            assert on_disk["metrics"][side][split] == pytest.approx(again), (side, split)
            # The committed per-sentence counts: the predictions' ids, in order, and their sums give
            # the recorded F1 to the last bit (what the paired bootstrap resamples).
            counts = read_counts(on_disk, side, split)
            assert list(counts.ids) == [r["id"] for r in rows]
            assert counts.f1() == on_disk["metrics"][side][split]["f1"], (side, split)
            assert (counts.counts == sentence_counts([r["id"] for r in rows], [r["gold"] for r in rows],
                                                     [r["pred"] for r in rows], "panx").counts).all()
    lines = (run_dir / "predictions" / "target-test.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 40                                  # the build keeps 40 sentences per file
    first = json.loads(lines[0])
    assert len(first["tokens"]) == len(first["gold"]) == len(first["pred"])
    assert len((run_dir / "predictions" / "source-dev.jsonl").read_text().splitlines()) == 8


def _copy_data(built_data: Path, dest: Path) -> Path:
    shutil.copytree(built_data / "panx", dest / "panx")
    return dest


def _rewrite(path: Path, column: str, change) -> None:
    table = pq.read_table(path)
    values = [change(v) for v in table.column(column).to_pylist()]
    idx = table.schema.get_field_index(column)
    pq.write_table(table.set_column(idx, column, pa.array(values, table.schema.field(column).type)), path)


def test_a_dataset_without_transcriptions_is_refused_by_phonexl(tiny_run, built_data, tmp_path):
    data = _copy_data(built_data, tmp_path / "data")
    _rewrite(data / "panx" / "zh" / "train.parquet", "ipa", lambda ipa: [""] * len(ipa))
    with pytest.raises(InputError, match="lacks ipa transcriptions") as err:
        train(tiny_run(data_dir=str(data)))
    assert err.value.path.endswith("panx/zh/train.parquet") and err.value.line == 1


def test_target_labels_outside_the_source_label_set_are_refused(tiny_run, built_data, tmp_path):
    data = _copy_data(built_data, tmp_path / "data")
    _rewrite(data / "panx" / "vi" / "dev.parquet", "tags",
             lambda tags: [t.replace("LOC", "MISC") for t in tags])
    with pytest.raises(InputError, match="label sets differ") as err:
        train(tiny_run(data_dir=str(data)))
    assert err.value.path.endswith("panx/vi/dev.parquet") and "B-MISC" in str(err.value)


def test_a_backbone_folder_that_does_not_exist_is_a_clear_error(tiny_run, tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        train(tiny_run(backbone=str(tmp_path / "missing-model")))


def test_ill_formed_iob_gold_reads_like_seqeval():
    # panx.zh.train.9 has "I-PER" after "O": seqeval starts a new chunk there, so training sees B-PER.
    assert repair_iob(["B-PER", "I-PER", "O", "I-PER", "I-PER", "I-LOC"]) == (
        "B-PER", "I-PER", "O", "B-PER", "I-PER", "B-LOC")
    assert repair_iob(["NOUN", "VERB"]) == ("NOUN", "VERB")


def test_a_tiny_run_learns_the_sentences_it_trains_on(tiny_run, built_data, tmp_path):
    # Source dev = the 40 training sentences themselves: after 12 epochs a tiny model must tag them far
    # better than the majority-tag baseline (all O: F1 0, accuracy = the share of O tags).
    data = _copy_data(built_data, tmp_path / "data")
    shutil.copy(data / "panx" / "zh" / "train.parquet", data / "panx" / "zh" / "dev.parquet")
    record = train(tiny_run(system="finetune", backbone="tiny-bert", data_dir=str(data), max_train_sentences=None,
                            max_eval_sentences=None, epochs=12, batch_size=8, lr=3e-3, head_lr=1e-2))
    gold = [t for ex in read_examples(data, "panx", "zh", "dev") for t in repair_iob(ex.tags)]
    majority = 100.0 * gold.count("O") / len(gold)
    dev = record["metrics"]["source"]["dev"]
    assert dev["f1"] > 50.0, record["history"]
    assert dev["accuracy"] > majority + 0.5 * (100.0 - majority), (dev, majority)


def test_source_test_sample_is_separate_from_target(tmp_path, built_data):
    """``max_source_test_sentences`` limits the source test set only; the target test keeps its own
    limit, and the dev sets keep ``max_eval_sentences``."""
    from cjkv_phon.training.run_data import load_run_data
    cfg = TrainConfig(task="panx", source_lang="zh", target_lang="vi", system="finetune", backbone="tiny-xlmr",
                      data_dir=str(built_data), max_train_sentences=4, max_eval_sentences=3,
                      max_test_sentences=6, max_source_test_sentences=2)
    sizes = {key: len(v) for key, v in load_run_data(cfg, require_phonemes=False).evals.items()}
    assert sizes == {("source", "dev"): 3, ("source", "test"): 2, ("target", "dev"): 3, ("target", "test"): 6}
    same = load_run_data(TrainConfig(**{**cfg.__dict__, "max_source_test_sentences": None}), False)
    assert len(same.evals[("source", "test")]) == 6


def test_results_carry_tag_ids_argmax_f1_crf_and_unknown_share(tiny_run, tmp_path):
    from cjkv_phon.training.evaluation import decode_tag_ids
    from cjkv_phon.training.sentence_scores import decode as decode_counts
    rec = train(tiny_run(out_dir=str(tmp_path / "c")))
    dec = rec["decoders"]
    assert dec["decoder"] == "viterbi" and rec["tokenisation"] == "natural"
    for side in ("source", "target"):
        for split in ("dev", "test"):
            ids = decode_counts(rec["sentence_counts"][side][split]).ids
            decoded = decode_tag_ids(dec["tag_ids"][side][split]["decoded"])
            argmax = decode_tag_ids(dec["tag_ids"][side][split]["argmax"])
            assert len(decoded) == len(argmax) == len(ids)
            assert all(0 <= t < len(dec["labels"]) for row in decoded + argmax for t in row)
            assert "f1" in dec["argmax_metrics"][side][split]
            assert 0 <= rec["phoneme_vocabulary"]["unknown_share"][f"{side}-{split}"]["share"] <= 1
    assert rec["crf"]["init"] == "zeros" and rec["crf"]["max_abs"]["transitions"] > 0
    # on disk the tag ids are beside results.json, not in it
    from cjkv_phon.training.results import load_tag_ids
    run_dir = tmp_path / "c" / rec["run_id"]
    on_disk = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    assert "tag_ids" not in on_disk["decoders"] and on_disk["decoders"]["tag_ids_file"] == "tag_ids.json.gz"
    assert load_tag_ids(run_dir) == dec["tag_ids"]
