"""Subword sampling for xTune: the lattice probabilities on a hand-made Unigram vocabulary."""

from __future__ import annotations

import math
import random

import pytest
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast

from cjkv_phon.schema import PANX_LABELS
from cjkv_phon.training.batches import Collator, Example
from cjkv_phon.training.systems.subword_sampling import SamplingCollator, UnigramSampler, supports

# Two segmentations of "▁北京": [▁北京] with log p -2, and [▁北, 京] with -1 + -1 = -2: equally likely at
# alpha 1, so log Z = log(2 e^-2) = -2 + log 2. Specials score 0 and must never be sampled.
VOCAB = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("<mask>", 0.0),
         ("▁北京", -2.0), ("▁北", -1.0), ("京", -1.0), ("▁大", -1.5)]


@pytest.fixture(scope="module")
def tokenizer() -> PreTrainedTokenizerFast:
    tok = Tokenizer(models.Unigram(VOCAB, unk_id=3))
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", cls_token="<s>",
                                   sep_token="</s>", pad_token="<pad>", unk_token="<unk>", mask_token="<mask>")


def test_lattice_and_sampling_frequencies(tokenizer):
    sampler = UnigramSampler(tokenizer, alpha=1.0)
    assert sampler._lattice("▁北京")[-1] == pytest.approx(-2 + math.log(2))
    rng = random.Random(0)
    draws = [tuple(sampler.segment("▁北京", rng)) for _ in range(2000)]
    assert set(draws) == {("▁北京",), ("▁北", "京")}
    assert abs(draws.count(("▁北京",)) / 2000 - 0.5) < 0.04     # binomial sd 0.011
    assert sampler.segment("▁上", rng) is None                  # no segmentation without an unknown piece


def test_seeded_and_ids(tokenizer):
    sampler = UnigramSampler(tokenizer, alpha=1.0)
    first = [sampler.sample_ids("北京", random.Random(7)) for _ in range(5)]
    assert first == [sampler.sample_ids("北京", random.Random(7)) for _ in range(5)]
    ids = {tuple(sampler.sample_ids("北京", random.Random(s))) for s in range(20)}
    vocab = tokenizer.get_vocab()
    assert ids == {(vocab["▁北京"],), (vocab["▁北"], vocab["京"])}


def test_sampling_collator_keeps_words_and_budget(tokenizer):
    base = Collator(tokenizer, PANX_LABELS, max_subwords=8)
    collator = SamplingCollator(base, UnigramSampler(tokenizer, alpha=1.0))
    ex = Example("s", ("北京", "大"), ("北京", "大"), ("zh", "zh"), ("B-LOC", "O"))
    seen = set()
    for seed in range(20):
        batch = collator.collate_sampled([ex], random.Random(seed))
        n = int(batch.attention_mask.sum())
        seen.add(n)
        assert batch.word_index[0, 1:n - 1].tolist() in ([0, 1], [0, 0, 1])
    assert seen == {4, 5}                                        # both segmentations of 北京 occur
    tight = SamplingCollator(Collator(tokenizer, PANX_LABELS, max_subwords=4), UnigramSampler(tokenizer, 1.0))
    for seed in range(20):                                       # 5 subwords never fit: deterministic pieces
        assert int(tight.collate_sampled([ex], random.Random(seed)).attention_mask.sum()) == 4


def test_supports_only_unigram(tokenizer):
    wordpiece = PreTrainedTokenizerFast(tokenizer_object=Tokenizer(models.WordPiece({"[UNK]": 0}, unk_token="[UNK]")),
                                        unk_token="[UNK]")
    assert supports(tokenizer) and not supports(wordpiece)
    with pytest.raises(ValueError, match="Unigram tokenizer and alpha > 0"):
        UnigramSampler(wordpiece, 0.1)


def test_xtune_samples_its_augmented_view(tokenizer, zh_vi_dictionary):
    from cjkv_phon.training.config import TrainConfig
    from cjkv_phon.training.system import SYSTEMS
    import cjkv_phon.training.systems  # noqa: F401  (registers xtune)

    collator = Collator(tokenizer, PANX_LABELS, max_subwords=16)
    cfg = TrainConfig(system="xtune", options={"subword_alpha": 1.0}).resolved()
    system = SYSTEMS["xtune"](cfg, collator, zh_vi_dictionary)
    assert isinstance(system.sampling, SamplingCollator)
    ex = Example("s", ("北京", "大"), ("北京", "大"), ("zh", "zh"), ("B-LOC", "O"))
    stage = system.stages()[0]
    lengths = {int(system.prepare([ex], random.Random(s), stage).views["augmented"].attention_mask.sum())
               for s in range(20)}
    assert len(lengths) > 1                                      # the view's segmentation varies by step
    off = SYSTEMS["xtune"](TrainConfig(system="xtune", options={"subword_alpha": 0}).resolved(), collator,
                           zh_vi_dictionary)
    assert off.sampling is None
