"""Backbone resolution, the tiny in-process backbones, subword->token pooling and IPA vocabulary extension."""

from __future__ import annotations


import pytest
import torch
from transformers import BertModel, XLMRobertaModel

from cjkv_phon.errors import InputError
from cjkv_phon.schema import PANX_LABELS
from cjkv_phon.training.backbone import load_backbone, resolve_backbone
from cjkv_phon.training.batches import Collator, Example
from cjkv_phon.training.pooling import mean_pool
from cjkv_phon.training.vocab import extend_vocab, phoneme_symbols, unknown_symbols
from tests.training.conftest import read_examples


@pytest.mark.parametrize("name, cls, pad", [("tiny-bert", BertModel, "[PAD]"),
                                            ("tiny-xlmr", XLMRobertaModel, "<pad>")])
def test_tiny_backbones_are_small_models_with_their_family_tokenizer(tiny_backbone, name, cls, pad):
    bb = tiny_backbone(name)
    assert isinstance(bb.model, cls)
    assert (bb.model.config.hidden_size, bb.model.config.num_hidden_layers) == (32, 2)
    assert bb.tokenizer.pad_token == pad and bb.tokenizer.mask_token_id is not None
    assert bb.model.get_input_embeddings().num_embeddings == len(bb.tokenizer)
    assert tiny_backbone(name).source == bb.source          # second load reuses the cached build


def test_hub_ids_pass_through_and_missing_folders_say_what_was_looked_for(tmp_path, monkeypatch):
    assert resolve_backbone("xlm-roberta-base") == "xlm-roberta-base"
    assert resolve_backbone("bert-base-multilingual-cased") == "bert-base-multilingual-cased"
    missing = tmp_path / "no-such-model"
    with pytest.raises(InputError, match="does not exist") as err:
        load_backbone(str(missing))
    assert str(missing) in str(err.value)
    monkeypatch.setenv("CJKV_CACHE_DIR", str(tmp_path))
    with pytest.raises(InputError, match="make-backbone") as err:
        resolve_backbone("multilingual-e5-small")
    assert str(tmp_path / "backbones" / "multilingual-e5-small") in str(err.value)


# One real sentence per script: zh characters (PAN-X zh), Latin with diacritics (vi), Hangul (ko).
SCRIPTS = [("zh", "train", 0), ("vi", "train", 0), ("ko", "train", 0), ("ja", "train", 1)]


@pytest.mark.parametrize("name", ["tiny-bert", "tiny-xlmr"])
def test_pooling_maps_subwords_to_exactly_their_token(built_data, tiny_backbone, name):
    bb = tiny_backbone(name)
    collator = Collator(bb.tokenizer, PANX_LABELS, max_subwords=128, tokenisation="per-token")
    examples = [read_examples(built_data, "panx", lang, split)[i] for lang, split, i in SCRIPTS]
    batch = collator.collate(examples)
    for b, ex in enumerate(examples):
        ids, widx = batch.input_ids[b].tolist(), batch.word_index[b].tolist()
        for j, token in enumerate(ex.tokens):
            # The subwords assigned to token j are exactly that token's own tokenisation, in order.
            own = [i for i, w in zip(ids, widx) if w == j]
            expected = bb.tokenizer(token, add_special_tokens=False)["input_ids"] or [bb.tokenizer.unk_token_id]
            assert own == expected, (ex.id, token)
            # Decoding them gives the token back, as the tokenizer normalises it (NFKC: '：' -> ':').
            normalised = bb.tokenizer.backend_tokenizer.normalizer.normalize_str(token).replace(" ", "")
            decoded = bb.tokenizer.decode(own).replace(" ", "")
            assert decoded == normalised or bb.tokenizer.unk_token in decoded, (ex.id, token, decoded)
    # Mean pooling of each subword's position gives the mean position of the token's subwords.
    position = torch.arange(batch.input_ids.shape[1], dtype=torch.float).expand_as(batch.input_ids)
    pooled, mask = mean_pool(position.unsqueeze(-1), batch.word_index, batch.num_words)
    assert torch.equal(mask, batch.word_mask)
    for b, ex in enumerate(examples):
        for j in range(len(ex.tokens)):
            pos = (batch.word_index[b] == j).nonzero().flatten().float()
            assert pooled[b, j, 0].item() == pytest.approx(pos.mean().item())


def test_zh_characters_hangul_and_latin_are_spelt_by_the_tiny_tokenizers(tiny_backbone):
    # Hand-checked: characters seen in the training text are whole pieces, not unknowns.
    for name in ("tiny-bert", "tiny-xlmr"):
        tok = tiny_backbone(name).tokenizer
        for word in ("北", "서울", "Nam"):
            assert tok.unk_token_id not in tok(word, add_special_tokens=False)["input_ids"], (name, word)


@pytest.mark.parametrize("name", ["tiny-bert", "tiny-xlmr"])
def test_vocab_extension_adds_unknown_ipa_symbols_and_resizes(built_data, tiny_backbone, name):
    bb = tiny_backbone(name)
    examples = read_examples(built_data, "panx", "zh", "train") + read_examples(built_data, "panx", "vi", "train")
    symbols = phoneme_symbols(ex.phonemes for ex in examples)
    # zh IPA uses tone letters and ɕ/ŋ, which no PAN-X orthography contains; 'a' is in vi text.
    assert {"˥", "ɕ", "ŋ", "a"} <= set(symbols)
    before = len(bb.tokenizer)
    added = extend_vocab(bb.tokenizer, bb.model, symbols)
    assert {"˥", "ɕ", "ŋ"} <= set(added) and "a" not in added
    assert len(bb.tokenizer) == before + len(added)
    assert bb.model.get_input_embeddings().num_embeddings == len(bb.tokenizer)
    assert unknown_symbols(bb.tokenizer, symbols) == []
    pieces = bb.tokenizer.convert_ids_to_tokens(bb.tokenizer("tɕiŋ˥", add_special_tokens=False)["input_ids"])
    assert {"ɕ", "ŋ", "˥"} <= set(pieces) and bb.tokenizer.unk_token not in pieces


def test_empty_tokenisation_gets_the_unk_piece(tiny_backbone):
    bb = tiny_backbone("tiny-bert")
    collator = Collator(bb.tokenizer, PANX_LABELS, max_subwords=16)
    ex = Example("x", ("北", "\u200b"), ("pei˨˩˦", "\u200b"), ("zh", "zh"), ("O", "O"))
    batch = collator.collate([ex])
    assert batch.input_ids[0, 2].item() == bb.tokenizer.unk_token_id   # [CLS] 北 [UNK] [SEP]
    assert batch.word_index[0].tolist() == [-1, 0, 1, -1]
