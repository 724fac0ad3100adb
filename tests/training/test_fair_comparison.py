"""Issue 13: what makes two systems comparable. Same initial head for one seed, a vocabulary extension
that never shrinks the table and gives each added symbol its own row, symbols never chosen from a test
split, the task loss on Table 5's scale, the Romanized code-switched path, the optimizer's groups and
kernel, and a model selection whose early stopping can fire."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from cjkv_phon.bench.presets import load_preset
from cjkv_phon.dictionary.lexicon import PivotDictionary
from cjkv_phon.schema import PANX_LABELS
from cjkv_phon.training import trainer
from cjkv_phon.training.batches import Collator, split_examples
from cjkv_phon.training.config import TrainConfig
from cjkv_phon.training.optimizer import make_optimizer, param_groups
from cjkv_phon.training.run_data import symbol_sources
from cjkv_phon.training.system import Stage
from cjkv_phon.training.systems import SYSTEMS
from cjkv_phon.training.vocab import extend_vocab
from tests.training.conftest import read_examples


@pytest.fixture()
def run_cfg(tmp_path, tiny_cache, built_data, dictionary_dir, monkeypatch):
    monkeypatch.setenv("CJKV_CACHE_DIR", str(tiny_cache))

    def make(**overrides) -> TrainConfig:
        settings = dict(task="panx", source_lang="zh", target_lang="vi", system="phonexl",
                        backbone="tiny-xlmr", data_dir=str(built_data), dictionary_dir=str(dictionary_dir),
                        out_dir=str(tmp_path / "runs"), max_train_sentences=16, max_eval_sentences=8,
                        epochs=1, batch_size=4, lr=3e-3, device="cpu", alpha=0.1, beta=0.1, gamma=0.1)
        return TrainConfig(**{**settings, **overrides}).resolved()
    return make


def _initial_model(cfg: TrainConfig):
    """What ``trainer.train`` builds before its first step, in the same order."""
    trainer._seed_everything(cfg.seed)
    _, collator, system, backbone = trainer.build_run(cfg)
    return system.build_model(backbone), collator


# ---- 1. one seed, one initial head ------------------------------------------------------------------
def test_finetune_and_phonexl_with_one_seed_share_every_common_initial_weight(run_cfg):
    finetune, _ = _initial_model(run_cfg(system="finetune"))
    phonexl, _ = _initial_model(run_cfg(system="phonexl"))
    a, b = finetune.state_dict(), phonexl.state_dict()
    head = [k for k in a if not k.startswith("backbone.")]
    assert {"classifier.weight", "classifier.bias", "crf.transitions", "crf.start", "crf.end"} <= set(head)
    for key in head:
        assert torch.equal(a[key], b[key]), key
    # The backbone too, except the embedding rows phonexl added for IPA symbols.
    emb = "backbone.embeddings.word_embeddings.weight"
    n = a[emb].shape[0]
    assert torch.equal(a[emb], b[emb][:n])
    assert all(torch.equal(a[k], b[k]) for k in a if k.startswith("backbone.") and k != emb)
    # Another seed gives another head.
    other, _ = _initial_model(run_cfg(system="finetune", seed=2))
    assert not torch.equal(other.classifier.weight, a["classifier.weight"])


# ---- 2. extend_vocab never shrinks, and each added row is its own ----------------------------------
def _pairwise(x: torch.Tensor) -> torch.Tensor:
    d = torch.cdist(x.float(), x.float())
    return d[~torch.eye(len(x), dtype=torch.bool)]


def test_extend_vocab_keeps_a_table_larger_than_its_tokenizer(tiny_backbone):
    bb = tiny_backbone("tiny-xlmr")
    n = len(bb.tokenizer)
    bb.model.resize_token_embeddings(n + 40)         # like e5-small: 250,037 rows, 250,002 tokens
    before = bb.model.get_input_embeddings().weight.detach().clone()
    added = extend_vocab(bb.tokenizer, bb.model, ["ɕ", "ʂ", "ɤ", "ɯ", "˧", "˥", "˩", "ʈ"])
    table = bb.model.get_input_embeddings().weight.detach()
    assert len(added) >= 4
    assert table.shape[0] == n + 40                  # not cut to len(tokenizer) = n + len(added)
    assert torch.equal(table[:n], before[:n])        # the tokenizer's own rows are untouched
    ids = bb.tokenizer.convert_tokens_to_ids(added)
    assert ids == list(range(n, n + len(added)))     # the first unused rows, re-initialised
    assert not torch.equal(table[ids], before[ids])
    existing = _pairwise(before[5:n][:200])
    assert _pairwise(table[ids]).min() > 0.25 * existing.median()


def test_extend_vocab_grows_when_needed_with_distinct_rows(tiny_backbone):
    bb = tiny_backbone("tiny-bert")
    n = len(bb.tokenizer)
    rows = bb.model.get_input_embeddings().num_embeddings
    symbols = [chr(0x10000 + i) for i in range(60)]  # Linear B: unknown to the tiny tokenizer
    added = extend_vocab(bb.tokenizer, bb.model, symbols)            # seed 0
    table = bb.model.get_input_embeddings().weight.detach()
    assert len(added) == 60 and table.shape[0] == max(rows, n + 60)
    new = table[bb.tokenizer.convert_tokens_to_ids(added)]
    existing = _pairwise(table[5:n][:200])
    # transformers' mean resizing would give 60 near-identical rows (distance ~1e-5).
    assert _pairwise(new).min() > 0.25 * existing.median()
    # Same seed, same rows; no draw from the global RNG.
    state = torch.get_rng_state()
    again = tiny_backbone("tiny-bert")
    extend_vocab(again.tokenizer, again.model, symbols)
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.equal(again.model.get_input_embeddings().weight.detach()[-60:], table[-60:])


# ---- 3. no symbol from a test split -------------------------------------------------------------------
def _set_first_ipa(path: Path, text: str) -> None:
    table = pq.read_table(path)
    ipa = table.column("ipa").to_pylist()
    ipa[0] = [text] + ipa[0][1:]
    idx = table.schema.get_field_index("ipa")
    pq.write_table(table.set_column(idx, "ipa", pa.array(ipa, table.schema.field("ipa").type)), path)


def test_vocabulary_symbols_never_come_from_a_test_split(run_cfg, built_data, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(built_data / "panx", data / "panx")
    _set_first_ipa(data / "panx" / "vi" / "test.parquet", "ʬ")     # only in the target test split
    _set_first_ipa(data / "panx" / "zh" / "test.parquet", "ʭ")     # only in the source test split
    _set_first_ipa(data / "panx" / "vi" / "dev.parquet", "ʮ")      # only in the target dev split
    _set_first_ipa(data / "panx" / "vi" / "train.parquet", "ʯ")    # unlabelled target text: allowed
    cfg = run_cfg(data_dir=str(data), max_train_sentences=None)
    _, collator, _, _ = trainer.build_run(cfg)
    vocab = collator.tokenizer.get_vocab()
    assert "ʬ" not in vocab and "ʭ" not in vocab and "ʮ" not in vocab
    assert "ʯ" in vocab
    assert symbol_sources(cfg) == ["source-train", "source-dev", "target-train (unlabelled)"]


# ---- 4. the task loss per token -------------------------------------------------------------------------
def test_the_crf_task_loss_is_per_token_by_default(built_data, tiny_backbone):
    bb = tiny_backbone("tiny-bert")
    collator = Collator(bb.tokenizer, PANX_LABELS, 128)
    batch = collator.collate(read_examples(built_data, "panx", "zh", "train", n=6))
    tags = torch.where(batch.word_mask, batch.tags, 0)
    batch.tags = tags
    losses = {}
    for norm in ("token", "sentence"):
        settings = {} if norm == "token" else {"task_loss_norm": norm}     # token is the default
        cfg = TrainConfig(backbone="tiny-bert", system="finetune", **settings).resolved()
        system = SYSTEMS["finetune"](cfg, collator)
        model = system.build_model(bb.model).eval()
        em = model.emissions(model.word_vectors(model(batch), batch))
        per_sentence = -model.crf(em, tags, batch.word_mask)                     # [B]
        losses[norm] = system.task_loss(model, batch).item()
        if norm == "token":
            assert losses[norm] == pytest.approx((per_sentence.sum() / batch.word_mask.sum()).item(), rel=1e-5)
        else:
            assert losses[norm] == pytest.approx(per_sentence.mean().item(), rel=1e-5)
    assert losses["sentence"] > 5 * losses["token"]            # sentences here are > 5 tokens long
    with pytest.raises(ValueError, match="task_loss_norm"):
        TrainConfig(task_loss_norm="batch")


# ---- 5. the Romanized path of code-switching -------------------------------------------------------------
def test_romanized_phonexl_switches_in_the_dictionarys_romanization(built_data, tiny_backbone, dictionary_dir):
    bb = tiny_backbone("tiny-xlmr")
    collator = Collator(bb.tokenizer, PANX_LABELS, 128)
    dictionary = PivotDictionary.load(dictionary_dir / "zh-vi.parquet")
    vi_rom = {p for e in dictionary.entries for p in e.target.romanized}
    vi_ipa = {p for e in dictionary.entries for p in e.target.ipa}
    examples = split_examples(read_examples(built_data, "panx", "zh", "train", n=20, phonemes="romanized"),
                              collator)
    for kind, expected, other in (("romanized", vi_rom, vi_ipa), ("ipa", vi_ipa, vi_rom)):
        cfg = TrainConfig(backbone="tiny-xlmr", phonemes=kind, r=0.6).resolved()
        system = SYSTEMS["phonexl"](cfg, collator, dictionary)
        switched = system.prepare(examples, random.Random(0), Stage("train", 1)).views["switched"].examples
        inserted = [p for ex in switched for p, lang in zip(ex.phonemes, ex.langs) if lang == "vi"]
        assert len(inserted) > 10
        assert all(p in expected for p in inserted), kind
        assert sum(p in other and p not in expected for p in inserted) == 0
    assert not vi_rom <= vi_ipa                            # the two kinds really differ


# ---- 7. optimizer groups and kernel; model selection ------------------------------------------------------
def test_param_groups_decay_and_learning_rates(built_data, tiny_backbone):
    bb = tiny_backbone("tiny-xlmr")
    collator = Collator(bb.tokenizer, PANX_LABELS, 128)
    cfg = TrainConfig(backbone="tiny-xlmr", alpha=0.1, beta=0.1, gamma=0.0).resolved()
    model = SYSTEMS["phonexl"](cfg, collator).build_model(bb.model)
    groups = param_groups(model, weight_decay=0.01, head_lr=1e-3)
    names = {id(p): n for n, p in model.named_parameters()}
    where = {names[id(p)]: (g["weight_decay"], g.get("lr")) for g in groups for p in g["params"]}
    assert len(where) == len(names)                           # every parameter exactly once
    assert where["log_scale"] == (0.0, 1e-3)                 # the temperature: head lr, no decay
    assert where["language_embeddings.weight"] == (0.0, 1e-3)
    assert where["classifier.weight"] == (0.01, 1e-3) and where["classifier.bias"] == (0.0, 1e-3)
    assert where["crf.transitions"] == (0.01, 1e-3)
    assert where["mlm_head.dense.weight"] == (0.01, 1e-3) and where["mlm_head.norm.weight"] == (0.0, 1e-3)
    assert where["backbone.encoder.layer.0.attention.self.query.weight"] == (0.01, None)   # cfg.lr
    assert where["backbone.embeddings.LayerNorm.weight"] == (0.0, None)
    assert where["backbone.encoder.layer.0.output.dense.bias"] == (0.0, None)
    optimizer = make_optimizer(model, cfg, torch.device("cpu"))
    assert optimizer.defaults["fused"] is True


def _evaluations(train: dict, steps_per_epoch: int) -> int:
    total = steps_per_epoch * train["epochs"]
    every = train.get("eval_every", 0)
    if not every:
        return train["epochs"]
    return total // every + (total % every != 0)


def test_the_cpu_preset_evaluates_often_enough_for_early_stopping_to_fire():
    train = load_preset("cpu").train
    # 800 sentences split at 128 subwords are ~55 chunks of 16 per epoch (presets/cpu.yaml).
    assert _evaluations(train, 55) > train["patience"]


def test_results_say_what_selection_did(run_cfg):
    record = trainer.train(run_cfg(system="finetune", epochs=2, eval_every=2, patience=1))
    sel = record["selection"]
    assert sel["evaluations"] == len(record["history"]) and sel["planned_evaluations"] >= sel["evaluations"]
    assert sel["early_stopping_possible"] is True and sel["patience"] == 1
    best = max(record["history"], key=lambda h: h["source_dev_f1"])
    assert sel["best_step"] == best["step"]
    if not sel["stopped_early"]:
        assert sel["evaluations"] == sel["planned_evaluations"]
    assert "per token" in record["loss_normalisation"]
