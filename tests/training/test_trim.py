"""Vocabulary trimming is exact: a trimmed model computes what the full one computes, and trains the same."""

from __future__ import annotations

import copy
import random
from dataclasses import replace

import pytest
import torch

from cjkv_phon.training.batches import Collator, split_examples
from cjkv_phon.training.config import TrainConfig
from cjkv_phon.training.system import Stage
from cjkv_phon.training.systems import SYSTEMS
from cjkv_phon.training.evaluation import predict_tags
from cjkv_phon.training.optimizer import param_groups
from cjkv_phon.training.trainer import build_run, train
from cjkv_phon.training.trim import VocabMap, trim_run_vocabulary

STAGE = Stage("train", 1)


@pytest.fixture()
def run_cfg(built_data, dictionary_dir, tiny_cache, monkeypatch):
    monkeypatch.setenv("CJKV_CACHE_DIR", str(tiny_cache))

    def make(**overrides) -> TrainConfig:
        settings = dict(backbone="tiny-xlmr", data_dir=str(built_data), dictionary_dir=str(dictionary_dir),
                        alpha=0.5, beta=0.5, gamma=0.5, mu=0.3, r=0.5, lr=1e-2, head_lr=1e-2)
        return TrainConfig(**{**settings, **overrides}).resolved()
    return make


def _build(cfg: TrainConfig, trim: bool, run=None):
    """A run's data, collator, system and model, built as ``train`` builds them, trimmed or not.

    ``run`` (an earlier ``build_run`` result) shares its data and a copy of its backbone, so the two
    sides start from the same weights (the extended rows' initialisation is random).
    """
    data, collator, system, backbone = run or build_run(cfg)
    collator = Collator(collator.tokenizer, collator.labels, collator.max_subwords,
                        phoneme_encoder=collator.phoneme_encoder)
    system = SYSTEMS[cfg.system](cfg, collator, system.dictionary)
    torch.manual_seed(0)
    model = system.build_model(copy.deepcopy(backbone))
    info = trim_run_vocabulary(replace(cfg, trim_vocab=trim), data, collator, system, model)
    system.begin_stage(STAGE, model, data.train, lambda exs: [])
    return data, collator, system, model, info


def _losses(system, model, examples, step: int) -> dict[str, torch.Tensor]:
    model.train()
    torch.manual_seed(100 + step)                       # the same dropout draws on both sides
    batch = system.prepare(examples, random.Random(step), STAGE)
    return system.losses(model, batch, step, torch.Generator().manual_seed(step))


@pytest.mark.parametrize("system,backbone,units", [("finetune", "tiny-xlmr", "pieces"),
                                                   ("phonexl", "tiny-xlmr", "pieces"),
                                                   ("phonexl", "tiny-bert", "pieces"),
                                                   ("phonexl", "tiny-xlmr", "segments")])
def test_a_trimmed_model_computes_and_trains_exactly_like_the_full_one(run_cfg, system, backbone, units):
    # segments: the PE ids are rows the segment encoder added beyond the tokenizer (phoneme_symbols)
    cfg = run_cfg(system=system, backbone=backbone, phoneme_units=units)
    run = build_run(cfg)
    data, full_col, full_sys, full, info_full = _build(cfg, trim=False, run=run)
    _, trim_col, trim_sys, trimmed, info = _build(cfg, trim=True, run=run)
    assert not info_full["trimmed"] and info["trimmed"]
    assert info["rows"] == trimmed.word_embeddings.num_embeddings < info["of"] == full.word_embeddings.num_embeddings
    kept = trimmed.trimmed_vocab
    assert torch.equal(trimmed.word_embeddings.weight, full.word_embeddings.weight[kept])
    examples = split_examples(data.train[:6], full_col)
    # The collated tensors differ (ids vs rows) but mean the same subwords.
    a, b = full_col.collate(examples), trim_col.collate(examples)
    assert not torch.equal(a.input_ids, b.input_ids) and torch.equal(kept[b.input_ids], a.input_ids)
    opts = [torch.optim.AdamW(param_groups(m, 0.01, cfg.head_lr), lr=cfg.lr) for m in (full, trimmed)]
    for step in range(3):                               # phonexl: MLM on even, XMLM on odd steps
        la, lb = _losses(full_sys, full, examples, step), _losses(trim_sys, trimmed, examples, step)
        assert la.keys() == lb.keys() and len(la) >= (4 if system == "phonexl" else 2)
        for name in la:
            assert torch.allclose(la[name], lb[name], atol=1e-5, rtol=1e-5), (step, name)
        la["loss"].backward()
        lb["loss"].backward()
        grad_full = full.word_embeddings.weight.grad
        outside = torch.ones(len(grad_full), dtype=torch.bool)
        outside[kept] = False
        assert grad_full[outside].abs().max() == 0          # unused rows never get a gradient
        assert torch.allclose(grad_full[kept], trimmed.word_embeddings.weight.grad, atol=1e-6)
        norms = [torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0) for m in (full, trimmed)]
        assert torch.allclose(norms[0], norms[1], rtol=1e-5)
        for opt in opts:
            opt.step()
            opt.zero_grad(set_to_none=True)
    assert torch.allclose(trimmed.word_embeddings.weight, full.word_embeddings.weight[kept], atol=1e-6)
    # Evaluation: identical logits and predictions on the target language's dev set.
    dev = data.evals[("target", "dev")]
    chunks = split_examples(dev[:8], full_col)
    batch_a, batch_b = full_col.collate(chunks), trim_col.collate(chunks)
    full.eval(), trimmed.eval()
    with torch.no_grad():
        ea = full.emissions(full.word_vectors(full(batch_a), batch_a))
        eb = trimmed.emissions(trimmed.word_vectors(trimmed(batch_b), batch_b))
    assert torch.allclose(ea, eb, atol=1e-5)
    assert predict_tags(full, full_col, dev, 16) == predict_tags(trimmed, trim_col, dev, 16)
    assert trim_col.unmapped == 0


def test_a_full_vocabulary_softmax_is_not_trimmed(run_cfg):
    cfg = run_cfg(system="phonexl", options={"mlm_vocab": "full"})
    *_, model, info = _build(cfg, trim=True)
    assert info == {"trimmed": False, "rows": model.word_embeddings.num_embeddings,
                    "of": model.word_embeddings.num_embeddings, "reason": "the system needs the full vocabulary"}


def test_xtune_sampled_segmentations_stay_inside_the_trimmed_vocabulary(run_cfg):
    cfg = run_cfg(system="xtune")
    data, collator, system, model, info = _build(cfg, trim=True)
    assert info["trimmed"] and system.sampling is not None
    examples = split_examples(data.train[:8], collator)
    for step in range(5):
        batch = system.prepare(examples, random.Random(step), STAGE)
        assert batch.views["augmented"].input_ids.max() < info["rows"]
    assert collator.unmapped == 0


def test_ids_outside_a_trimmed_vocabulary_read_as_unk():
    vocab = VocabMap.of([0, 3, 7], 10)
    rows, missing = vocab.remap(torch.tensor([[7, 3, 5]]), fallback=vocab.row(3))
    assert rows.tolist() == [[2, 1, 1]] and missing == 1
    with pytest.raises(KeyError):
        vocab.row(5)
    with pytest.raises(ValueError):
        VocabMap.of([12], 10)


def test_trimming_is_on_by_default_recorded_and_shrinks_the_checkpoint(run_cfg, tmp_path):
    small = dict(system="finetune", max_train_sentences=8, max_eval_sentences=4, epochs=1, batch_size=4,
                 device="cpu", save_predictions=False)
    on = train(run_cfg(**small, out_dir=str(tmp_path / "on")))
    off = train(run_cfg(**small, out_dir=str(tmp_path / "off"), trim_vocab=False))
    assert on["config"]["trim_vocab"] and on["vocabulary"]["trimmed"] and not off["vocabulary"]["trimmed"]
    assert on["config_hash"] != off["config_hash"]
    assert on["metrics"] == off["metrics"]                         # exact: the same run, fewer rows
    sizes = [(tmp_path / d / on["run_id"] / "checkpoint" / "state.pt").stat().st_size for d in ("on", "off")]
    assert sizes[0] < sizes[1]
    state = torch.load(tmp_path / "on" / on["run_id"] / "checkpoint" / "state.pt", weights_only=False)
    assert len(state["model"]["trimmed_vocab"]) == on["vocabulary"]["rows"]


def test_frozen_word_embeddings_do_not_move_and_change_the_config_hash(run_cfg, tmp_path):
    small = dict(system="phonexl", max_train_sentences=8, max_eval_sentences=4, epochs=1, batch_size=4,
                 device="cpu", save_predictions=False, extend_vocab=False)
    frozen = train(run_cfg(**small, out_dir=str(tmp_path / "frozen"), freeze_word_embeddings=True))
    trained = train(run_cfg(**small, out_dir=str(tmp_path / "trained")))
    assert frozen["config_hash"] != trained["config_hash"] and not trained["config"]["freeze_word_embeddings"]

    def table(name: str) -> tuple[torch.Tensor, torch.Tensor]:
        state = torch.load(tmp_path / name / frozen["run_id"] / "checkpoint" / "state.pt", weights_only=False)
        return state["model"]["backbone.embeddings.word_embeddings.weight"], state["model"]["trimmed_vocab"]

    original = build_run(run_cfg(**small))[3].get_input_embeddings().weight.detach()   # the run's backbone
    weights, kept = table("frozen")
    assert torch.equal(weights, original[kept])                     # PE and MLM read it, nothing trains it
    weights, kept = table("trained")
    assert not torch.equal(weights, original[kept])
