"""The PhoneXL model on tiny backbones: input representation, layer-wise encoding, losses, overfitting."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
import torch

from cjkv_phon.dictionary.lexicon import PivotDictionary
from cjkv_phon.schema import PANX_LABELS
from cjkv_phon.training.batches import Collator
from cjkv_phon.training.config import TrainConfig
from cjkv_phon.training.losses import sample_word_mask
from cjkv_phon.training.metrics import evaluate_tags
from cjkv_phon.training.model import ModelSettings, PhoneXLModel
from cjkv_phon.training.system import Stage
from cjkv_phon.training.systems import SYSTEMS
from cjkv_phon.training.systems.phonexl import MLMVocab, masked_lm
from cjkv_phon.training.run_data import repair_iob
from tests.training.conftest import read_examples


def _model(backbone, **settings) -> PhoneXLModel:
    torch.manual_seed(0)
    return PhoneXLModel(backbone.model, PANX_LABELS, ModelSettings(**settings))


@pytest.mark.parametrize("name", ["tiny-bert", "tiny-xlmr"])
def test_without_pe_and_le_the_model_is_the_backbone(built_data, tiny_backbone, name):
    bb = tiny_backbone(name)
    collator = Collator(bb.tokenizer, PANX_LABELS, 128)
    batch = collator.collate(read_examples(built_data, "panx", "vi", "train", n=4))   # padded batch
    model = _model(bb, use_pe=False, use_le=False).eval()
    ours = model(batch)
    theirs = bb.model(input_ids=batch.input_ids, attention_mask=batch.attention_mask).last_hidden_state
    real = batch.attention_mask.bool()
    assert torch.allclose(ours[real], theirs[real], atol=1e-5)
    # Layer by layer gives the same as all at once.
    hidden = model.embed(batch)
    split = model.encode(model.encode(hidden, batch.attention_mask, 0, 1), batch.attention_mask, 1, None)
    assert torch.allclose(split, ours, atol=1e-6) and model.num_layers == 2


def test_pe_is_the_mean_ipa_piece_embedding_added_to_every_subword_and_le_starts_at_zero(built_data, tiny_backbone):
    bb = tiny_backbone("tiny-xlmr")
    collator = Collator(bb.tokenizer, PANX_LABELS, 128)
    ex = read_examples(built_data, "panx", "vi", "train", n=1)[0]          # Đồng bằng sông Cửu Long
    batch = collator.collate([ex])
    model = _model(bb, use_pe=True, use_le=True).eval()
    table = model.word_embeddings.weight
    pe0 = table[collator.pieces(ex.phonemes[0])].mean(0)                  # PE of 'Đồng' from 'doŋ͡m2'
    assert torch.allclose(model.phonemic_embedding(batch)[0, 0], pe0, atol=1e-6)
    x = model.input_embeddings(batch)
    for s in (batch.word_index[0] == 0).nonzero().flatten().tolist():     # every subword of 'Đồng'
        assert torch.allclose(x[0, s], table[batch.input_ids[0, s]] + pe0, atol=1e-6)
    assert torch.equal(x[0, 0], table[batch.input_ids[0, 0]])              # <s> gets no PE
    plain = _model(bb, use_pe=True, use_le=False).eval()
    assert torch.equal(plain.input_embeddings(batch), x)                   # LE is zero at the start


def test_a_gated_pe_starts_as_the_identity_and_its_gate_learns(built_data, tiny_backbone):
    bb = tiny_backbone("tiny-xlmr")
    collator = Collator(bb.tokenizer, PANX_LABELS, 128)
    batch = collator.collate(read_examples(built_data, "panx", "zh", "train", n=4))
    gated = _model(bb, use_pe=True, use_le=True, pe_gate=True).eval()
    without_pe = _model(bb, use_pe=False, use_le=True).eval()
    assert torch.equal(gated.input_embeddings(batch), without_pe.input_embeddings(batch))   # g = 0
    tags = torch.where(batch.word_mask, batch.tags, 0)
    gated.task_loss(gated.emissions(gated.word_vectors(gated(batch), batch)), tags, batch.word_mask).backward()
    assert gated.pe_gate.grad is not None and gated.pe_gate.grad.abs() > 0    # PE can switch itself on
    with torch.no_grad():
        gated.pe_gate.fill_(1.0)
    full = _model(bb, use_pe=True, use_le=True).eval()
    assert torch.allclose(gated.input_embeddings(batch), full.input_embeddings(batch), atol=1e-6)
    # The option reaches the model through PhoneXL, and only a boolean is accepted.
    system = SYSTEMS["phonexl"](TrainConfig(backbone="tiny-xlmr", gamma=0.0, options={"pe_gate": True}).resolved(),
                                collator)
    assert system.model_settings().pe_gate
    with pytest.raises(ValueError, match="options.pe_gate must be true or false, got 'yes'"):
        SYSTEMS["phonexl"](TrainConfig(backbone="tiny-xlmr", options={"pe_gate": "yes"}).resolved(), collator)


@pytest.mark.parametrize("name", ["tiny-bert", "tiny-xlmr"])
def test_mlm_predicts_every_subword_of_the_masked_whole_tokens(built_data, tiny_backbone, name):
    bb = tiny_backbone(name)
    collator = Collator(bb.tokenizer, PANX_LABELS, 128)
    batch = collator.collate(read_examples(built_data, "panx", "ko", "train", n=4))
    model = _model(bb, with_mlm_head=True)
    seen = {}

    def spy(hidden: torch.Tensor) -> torch.Tensor:
        seen["n"] = hidden.shape[0]
        return PhoneXLModel.mlm_logits(model, hidden)

    model.mlm_logits = spy
    gen = torch.Generator().manual_seed(3)
    loss = masked_lm(model, batch, 0.25, bb.tokenizer.mask_token_id, gen)
    # The same generator state picks the same tokens: count their subwords by hand.
    words = sample_word_mask(batch.word_mask, 0.25, torch.Generator().manual_seed(3))
    expected = sum(int((batch.word_index[b] == w).sum()) for b, w in words.nonzero().tolist())
    assert seen["n"] == expected > 0 and torch.isfinite(loss)


def test_each_phonexl_loss_is_finite_and_decreases(built_data, tiny_backbone, dictionary_dir):
    bb = tiny_backbone("tiny-xlmr")
    cfg = TrainConfig(backbone="tiny-xlmr", alpha=1.0, beta=1.0, gamma=1.0, mu=0.3, r=0.5,
                      options={"aux_schedule": "every"})
    collator = Collator(bb.tokenizer, PANX_LABELS, 128)
    system = SYSTEMS["phonexl"](cfg, collator, PivotDictionary.load(dictionary_dir / "zh-vi.parquet"))
    torch.manual_seed(0)
    model = system.build_model(bb.model)
    examples = read_examples(built_data, "panx", "zh", "train", n=8)
    batch = system.prepare(examples, random.Random(0), Stage("train", 1))   # one fixed batch
    assert set(batch.views) == {"main", "switched"}
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    history = []
    for step in range(12):
        losses = system.losses(model, batch, step, torch.Generator().manual_seed(0))   # same masks
        optimizer.zero_grad()
        losses["loss"].backward()
        optimizer.step()
        history.append({k: float(v.detach()) for k, v in losses.items()})
    for name in ("task", "align", "mlm", "xmlm", "loss"):
        values = [h[name] for h in history]
        assert all(torch.isfinite(torch.tensor(values))), name
        assert values[-1] < values[0], (name, values)


def test_a_tiny_model_overfits_twenty_real_sentences(built_data, tiny_backbone):
    bb = tiny_backbone("tiny-bert")
    collator = Collator(bb.tokenizer, PANX_LABELS, 128)
    examples = [replace(ex, tags=repair_iob(ex.tags)) for ex in read_examples(built_data, "panx", "zh", "train", n=20)]
    gold = [list(ex.tags) for ex in examples]
    batch = collator.collate(examples)
    model = _model(bb, use_pe=True, use_le=True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    for _ in range(40):
        model.train()
        hidden = model(batch)
        loss = model.task_loss(model.emissions(model.word_vectors(hidden, batch)), batch.tags, batch.word_mask)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    pred = [[PANX_LABELS[t] for t in row] for row in model.predict(batch)]
    assert evaluate_tags(gold, pred, "panx")["f1"] > 90.0


def test_the_default_schedule_alternates_mlm_and_xmlm_at_double_weight(built_data, tiny_backbone, dictionary_dir):
    bb = tiny_backbone("tiny-bert")
    cfg = TrainConfig(backbone="tiny-bert", alpha=0.0, beta=0.5, gamma=0.25, mu=0.3, r=0.5)
    collator = Collator(bb.tokenizer, PANX_LABELS, 128)
    system = SYSTEMS["phonexl"](cfg, collator, PivotDictionary.load(dictionary_dir / "zh-vi.parquet"))
    model = system.build_model(bb.model)
    batch = system.prepare(read_examples(built_data, "panx", "zh", "train", n=4), random.Random(0),
                           Stage("train", 1))
    even = system.losses(model, batch, 0, torch.Generator().manual_seed(0))
    odd = system.losses(model, batch, 1, torch.Generator().manual_seed(0))
    assert set(even) == {"task", "mlm", "loss"} and set(odd) == {"task", "xmlm", "loss"}
    # 2 x beta = 1.0 and 2 x gamma = 0.5: the expected weight over two steps is beta and gamma.
    assert even["loss"].item() == pytest.approx((even["task"] + 1.0 * even["mlm"]).item(), rel=1e-5)
    assert odd["loss"].item() == pytest.approx((odd["task"] + 0.5 * odd["xmlm"]).item(), rel=1e-5)


def test_without_a_crf_the_task_loss_is_token_cross_entropy_and_decoding_is_argmax(built_data, tiny_backbone):
    bb = tiny_backbone("tiny-bert")
    batch = Collator(bb.tokenizer, PANX_LABELS, 128).collate(read_examples(built_data, "panx", "vi", "train", n=3))
    model = _model(bb, use_crf=False, with_mlm_head=False).eval()
    assert model.crf is None
    emissions = model.emissions(model.word_vectors(model(batch), batch))
    real = batch.word_mask
    expected = torch.nn.functional.cross_entropy(emissions[real], batch.tags[real])
    assert model.task_loss(emissions, batch.tags, real).item() == pytest.approx(expected.item(), rel=1e-6)
    best = emissions.argmax(-1)
    assert model.decode(emissions, real) == [best[b, : int(n)].tolist() for b, n in enumerate(real.sum(1))]


def test_the_data_mlm_vocabulary_holds_every_label_and_the_full_one_is_the_plain_softmax(
        built_data, tiny_backbone, dictionary_dir):
    bb = tiny_backbone("tiny-xlmr")
    cfg = TrainConfig(backbone="tiny-xlmr", alpha=0.0, beta=0.5, gamma=0.5, mu=0.3, r=0.5)
    collator = Collator(bb.tokenizer, PANX_LABELS, 128)
    system = SYSTEMS["phonexl"](cfg, collator, PivotDictionary.load(dictionary_dir / "zh-vi.parquet"))
    model = system.build_model(bb.model)
    examples = read_examples(built_data, "panx", "zh", "train", n=8)
    system.begin_stage(Stage("train", 1), model, examples, lambda exs: [])
    vocab = system.mlm_vocab
    batch = system.prepare(examples, random.Random(0), Stage("train", 1))
    main = batch.views["main"]                        # every subword of the main view is a candidate
    real = main.attention_mask.bool() & (main.word_index >= 0)
    assert (vocab.column[main.input_ids[real]] >= 0).all()
    switched = batch.views["switched"]                # the case candidates_for exists for: new pieces
    real = switched.attention_mask.bool() & (switched.word_index >= 0)
    assert (vocab.column[switched.input_ids[real]] < 0).any()
    for view in batch.views.values():                 # and every label of any view is one in its batch
        real = view.attention_mask.bool() & (view.word_index >= 0)
        labels = view.input_ids[real]
        ids, columns = vocab.candidates_for(labels)
        assert (columns >= 0).all() and torch.equal(ids[columns], labels)
    assert len(vocab.ids) < model.word_embeddings.num_embeddings
    # With every id as a candidate the restricted softmax is exactly the full one.
    everything = MLMVocab.of(set(range(model.word_embeddings.num_embeddings)), model.word_embeddings.num_embeddings)
    model.eval()
    full = masked_lm(model, batch.main, 0.3, bb.tokenizer.mask_token_id, torch.Generator().manual_seed(1))
    same = masked_lm(model, batch.main, 0.3, bb.tokenizer.mask_token_id, torch.Generator().manual_seed(1),
                     everything)
    assert same.item() == pytest.approx(full.item(), rel=1e-5)
    # With the data candidates the loss is the cross-entropy over those columns of the full logits:
    # recompute it by hand from the same masked positions.
    data = masked_lm(model, batch.main, 0.3, bb.tokenizer.mask_token_id, torch.Generator().manual_seed(1), vocab)
    view = batch.main
    words = sample_word_mask(view.word_mask, 0.3, torch.Generator().manual_seed(1))
    # a piece shared by several tokens (natural tokenisation) is masked when any of them is
    covers = [(view.word_index <= w) & (view.word_last >= w) if view.word_last is not None else view.word_index == w
              for w in range(view.num_words)]
    masked = torch.stack([c & words[:, w:w + 1] for w, c in enumerate(covers)]).any(0)
    hidden = model(view, input_ids=view.input_ids.masked_fill(masked, bb.tokenizer.mask_token_id))
    logits = model.mlm_logits(hidden[masked])[:, vocab.ids]                       # [N, V'] of [N, V]
    by_hand = torch.nn.functional.cross_entropy(logits.float(), vocab.column[view.input_ids[masked]])
    assert data.item() == pytest.approx(by_hand.item(), rel=1e-5)
    assert data.item() < full.item()              # a strictly smaller partition function (V' < V)
