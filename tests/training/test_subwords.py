"""The tokenisation of character tokens (issue 20, item 1): natural pieces projected back onto tokens.

A tiny XLM-R-style tokenizer trained on UNSPACED zh/ja text (as SentencePiece backbones are) learns
multi-character pieces and splits a lone character into a bare ``▁`` plus the character, the defect
issue 20 measured on e5-small; the WordPiece tiny-bert must work unchanged.
"""

from __future__ import annotations

import pytest
import torch

from cjkv_phon.provenance import config_hash
from cjkv_phon.schema import PANX_LABELS
from cjkv_phon.training.backbone import load_backbone
from cjkv_phon.training.batches import Collator, split_examples
from cjkv_phon.training.config import TrainConfig
from cjkv_phon.training.model import ModelSettings, PhoneXLModel
from cjkv_phon.training.pooling import broadcast_to_subwords, mean_pool
from cjkv_phon.training.subwords import BOUNDARY, SubwordEncoder, join_tokens
from tests.training.conftest import read_examples


@pytest.fixture(scope="module")
def unspaced_xlmr(built_data, tiny_cache):
    """tiny-xlmr whose tokenizer was trained on zh/ja sentences written without spaces."""
    corpus = ["".join(ex.tokens) if lang in ("zh", "ja") else " ".join(ex.tokens)
              for lang in ("zh", "ja", "ko", "vi") for split in ("train", "dev", "test")
              for ex in read_examples(built_data, "panx", lang, split)]
    return load_backbone("tiny-xlmr", corpus, tiny_cache / "unspaced")


def _cjk(built_data):
    return read_examples(built_data, "panx", "ja", "train") + read_examples(built_data, "panx", "zh", "train")


def test_per_token_puts_a_bare_boundary_before_characters_and_natural_does_not(built_data, unspaced_xlmr):
    tok = unspaced_xlmr.tokenizer
    bare = tok.convert_tokens_to_ids(BOUNDARY)
    examples = _cjk(built_data)
    chars = sum(len(ex.tokens) for ex in examples)
    per_token = Collator(tok, PANX_LABELS, 512, tokenisation="per-token")
    natural = Collator(tok, PANX_LABELS, 512, tokenisation="natural")
    n_bare = {name: sum(c.encode(ex).ids.count(bare) for ex in examples)
              for name, c in (("per-token", per_token), ("natural", natural))}
    assert n_bare["per-token"] > chars / 2                 # the input the pretrained model never saw
    assert n_bare["natural"] <= len(examples)              # at most the sentence-initial one
    no_bare = Collator(tok, PANX_LABELS, 512, tokenisation="per-token-no-bare")
    assert all(bare not in no_bare.encode(ex).ids for ex in examples)


@pytest.mark.parametrize("family", ["unspaced-xlmr", "tiny-bert"])
def test_natural_pieces_spell_the_sentence_and_every_token_owns_one(built_data, unspaced_xlmr,
                                                                    tiny_backbone, family):
    tok = unspaced_xlmr.tokenizer if family == "unspaced-xlmr" else tiny_backbone("tiny-bert").tokenizer
    enc = SubwordEncoder(tok, "natural")
    shared = 0
    for ex in _cjk(built_data) + read_examples(built_data, "panx", "ko", "train"):
        pieces = enc.encode(ex.tokens, ex.langs)
        owned = {j for f, last in zip(pieces.first, pieces.last) for j in range(f, last + 1)}
        assert owned == set(range(len(ex.tokens))), ex.id
        assert list(pieces.first) == sorted(pieces.first) and all(f <= la for f, la in zip(pieces.first, pieces.last))
        assert pieces.ids == tuple(tok(join_tokens(ex.tokens, ex.langs)[0], add_special_tokens=False)["input_ids"])
        shared += sum(f < la for f, la in zip(pieces.first, pieces.last))
    assert shared > 0                                       # multi-character pieces do occur


def test_spaced_languages_tokenise_as_before(built_data, unspaced_xlmr):
    tok = unspaced_xlmr.tokenizer
    for ex in read_examples(built_data, "panx", "ko", "train") + read_examples(built_data, "panx", "vi", "train"):
        a = SubwordEncoder(tok, "natural").encode(ex.tokens, ex.langs)
        b = SubwordEncoder(tok, "per-token").encode(ex.tokens, ex.langs)
        assert a == b, ex.id


@pytest.mark.parametrize("family", ["unspaced-xlmr", "tiny-bert"])
def test_a_shared_piece_is_pooled_into_each_of_its_tokens(built_data, unspaced_xlmr, tiny_backbone, family):
    bb = unspaced_xlmr if family == "unspaced-xlmr" else tiny_backbone("tiny-bert")
    collator = Collator(bb.tokenizer, PANX_LABELS, max_subwords=24)
    chunks = split_examples(_cjk(built_data), collator)
    batch = collator.collate(chunks)
    assert batch.attention_mask.sum(1).max() <= 24 and batch.word_last is not None
    position = torch.arange(batch.input_ids.shape[1], dtype=torch.float).expand_as(batch.input_ids)
    pooled, mask = mean_pool(position.unsqueeze(-1), batch.word_index, batch.num_words, batch.word_last)
    assert torch.equal(mask, batch.word_mask)
    for b, ex in enumerate(chunks):
        for j in range(len(ex.tokens)):
            own = ((batch.word_index[b] <= j) & (batch.word_last[b] >= j)).nonzero().flatten().float()
            assert pooled[b, j, 0].item() == pytest.approx(own.mean().item())
    # a word vector broadcast back: a shared piece gets the mean of its words' vectors
    spread = broadcast_to_subwords(pooled, batch.word_index, batch.word_last)
    b, s = ((batch.word_last > batch.word_index).nonzero()[0]).tolist()
    words = range(int(batch.word_index[b, s]), int(batch.word_last[b, s]) + 1)
    assert spread[b, s, 0].item() == pytest.approx(sum(pooled[b, w, 0].item() for w in words) / len(words))
    model = PhoneXLModel(bb.model, PANX_LABELS, ModelSettings(), init_seed=1).eval()
    assert [len(p) for p in model.predict(batch)] == [len(ex.tokens) for ex in chunks]


def test_tokenisation_is_a_validated_config_field_in_the_hash():
    assert TrainConfig().tokenisation == "natural"
    assert config_hash(TrainConfig()) != config_hash(TrainConfig(tokenisation="per-token"))
    with pytest.raises(ValueError, match="tokenisation"):
        TrainConfig(tokenisation="words")
