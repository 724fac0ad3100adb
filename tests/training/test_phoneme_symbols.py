"""Phoneme segments with one tone inventory, and the PE path reading them (``phoneme_units="segments"``)."""

from __future__ import annotations

import random

import pytest
import torch

from cjkv_phon.training import trainer
from cjkv_phon.training.batches import Collator
from cjkv_phon.training.config import TrainConfig
from cjkv_phon.training.phoneme_symbols import SegmentEncoder, is_tone, phoneme_segments, segment_inventory
from cjkv_phon.training.system import Stage
from tests.training.conftest import read_examples


def test_the_same_sound_is_the_same_symbol_in_every_language():
    # Vietnamese tone digits become Chao contours (Northern values), glottalisation its own symbol.
    assert phoneme_segments("viət6", "vi") == ["v", "i", "ə", "t", "˨˩", "ˀ"]
    assert phoneme_segments("kim1", "vi") == ["k", "i", "m", "˧"]
    assert phoneme_segments("doŋ͡m2", "vi") == ["d", "o", "ŋ͡m", "˨˩"]
    # sắc (5) and Mandarin tone 2 are one symbol; hỏi (4) and tone 3 (as zh writes it, 313) too.
    assert phoneme_segments("ma5", "vi")[-1] == phoneme_segments("ma˧˥", "zh")[-1] == "˧˥"
    assert phoneme_segments("ma4", "vi")[-1] == phoneme_segments("ma˧˩˧", "zh")[-1] == "˧˩˧"
    # An aspirated stop is one segment, shared by zh and vi.
    assert phoneme_segments("tʰi1", "vi")[0] == phoneme_segments("tʰjɛn˧˥", "zh")[0] == "tʰ"
    # Numerals are digits, not tones, in every language; zh digits are never tones.
    assert phoneme_segments("2009", "vi") == ["2", "0", "0", "9"]
    assert phoneme_segments("a1", "zh") == ["a", "1"]
    assert all(is_tone(s) for s in ("˧", "˨˩", "˧˩˧")) and not is_tone("ˀ") and not is_tone("1")


def _has_han(token: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" for ch in token)


def test_real_zh_and_vi_share_tone_symbols(built_data):
    zh = read_examples(built_data, "panx", "zh", "train")
    vi = read_examples(built_data, "panx", "vi", "train")
    tones = {lang: {s for s in segment_inventory((ex.phonemes, ex.langs) for ex in exs) if is_tone(s)}
             for lang, exs in (("zh", zh), ("vi", vi))}
    # Han characters inside Vietnamese text are read as Mandarin (script routing), with Mandarin tones;
    # the tokens in Vietnamese orthography carry exactly the four contours the six vi tones map to.
    latin = [tuple(zip(*[(p, lang) for t, p, lang in zip(ex.tokens, ex.phonemes, ex.langs) if not _has_han(t)]))
             for ex in vi]
    latin = [pair for pair in latin if pair]
    vi_own = {s for s in segment_inventory(latin) if is_tone(s)}
    assert vi_own == {"˧", "˨˩", "˧˥", "˧˩˧"}
    assert tones["vi"] - vi_own <= tones["zh"]             # the rest are Mandarin tones of routed Han
    assert tones["zh"] & tones["vi"]                       # digits vs Chao letters shared nothing


def test_segment_encoder_gives_one_id_per_segment_and_never_shrinks(built_data, tiny_backbone):
    bb = tiny_backbone("tiny-xlmr")
    n = len(bb.tokenizer)
    bb.model.resize_token_embeddings(n + 500)              # a table larger than its tokenizer
    before = bb.model.get_input_embeddings().weight.detach().clone()
    examples = read_examples(built_data, "panx", "zh", "train") + read_examples(built_data, "panx", "vi", "train")
    segments = segment_inventory((ex.phonemes, ex.langs) for ex in examples)
    encoder = SegmentEncoder.build(bb.tokenizer, bb.model, segments, seed=1)
    table = bb.model.get_input_embeddings().weight.detach()
    assert len(bb.tokenizer) == n                          # the orthographic tokenizer is unchanged
    assert table.shape[0] >= n + 500 and torch.equal(table[:n], before[:n])
    assert set(encoder.ids) == set(segments)
    assert len(set(encoder.ids.values())) == len(segments)          # one row per segment
    for seg, i in encoder.ids.items():
        single = bb.tokenizer.convert_tokens_to_ids(seg)
        if single != bb.tokenizer.unk_token_id:
            assert i == single                              # a pretrained single entry keeps its row
        else:
            assert i >= n                                   # otherwise a row of its own past the tokenizer
    ids = encoder("tʰi1", "vi")
    assert ids == [encoder.ids["tʰ"], encoder.ids["i"], encoder.ids["˧"]]
    assert encoder("ʬ", "vi") == [bb.tokenizer.unk_token_id]           # outside the inventory


def test_a_segments_run_builds_batches_of_segment_ids_and_trains(tmp_path, tiny_cache, built_data,
                                                                 dictionary_dir, monkeypatch):
    monkeypatch.setenv("CJKV_CACHE_DIR", str(tiny_cache))
    cfg = TrainConfig(backbone="tiny-xlmr", data_dir=str(built_data), dictionary_dir=str(dictionary_dir),
                      out_dir=str(tmp_path), max_train_sentences=8, max_eval_sentences=4, device="cpu",
                      phoneme_units="segments", alpha=0.1, beta=0.1, gamma=0.1, r=0.5).resolved()
    data, collator, system, backbone = trainer.build_run(cfg)
    model = system.build_model(backbone)
    assert collator.phoneme_encoder is not None
    batch = system.prepare(data.train[:4], random.Random(0), Stage("train", 1))
    for view in batch.views.values():
        for b, ex in enumerate(view.examples):
            for w, (ipa, lang) in enumerate(zip(ex.phonemes, ex.langs)):
                ids = collator.phoneme_encoder(ipa, lang)[: collator.max_phoneme_pieces]
                assert view.phon_ids[b, w, : len(ids)].tolist() == ids
    switched = batch.views["switched"]
    assert any("vi" in ex.langs for ex in switched.examples)          # vi tokens read with vi tones
    losses = system.losses(model, batch, 1, torch.Generator().manual_seed(0))
    losses["loss"].backward()
    assert torch.isfinite(losses["loss"]) and model.word_embeddings.weight.grad is not None
    with pytest.raises(ValueError, match="needs phonemes 'ipa'"):
        TrainConfig(phoneme_units="segments", phonemes="romanized")
