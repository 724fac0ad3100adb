"""Examples from parquet, collation, long-sentence splitting and re-joining, per-step code-switching."""

from __future__ import annotations

import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from cjkv_phon.dictionary.lexicon import PivotDictionary
from cjkv_phon.errors import InputError
from cjkv_phon.schema import PANX_LABELS
from cjkv_phon.training.batches import (IGNORE, LANG_IDS, Collator, code_switch_examples,
                                        examples_from_table, rejoin, split_example, split_examples)
from tests.training.conftest import read_examples


@pytest.fixture()
def collator(tiny_backbone):
    return Collator(tiny_backbone("tiny-bert").tokenizer, PANX_LABELS, max_subwords=8)


def test_a_long_sentence_is_split_at_token_boundaries_and_rejoined(built_data, collator):
    # panx.zh.train.0 "2009年：李民基《Eternal#Summer》" is 25 one-character tokens, each one WordPiece
    # piece in the tiny-bert vocabulary, so with a budget of 8 subwords (6 after [CLS]/[SEP]) the
    # chunks hold 6, 6, 6, 6 and 1 tokens.
    ex = read_examples(built_data, "panx", "zh", "train")[0]
    assert len(ex.tokens) == 25 and all(len(collator.pieces(t)) == 1 for t in ex.tokens)
    chunks = split_example(ex, collator)
    assert [len(c.tokens) for c in chunks] == [6, 6, 6, 6, 1]
    assert [c.chunk for c in chunks] == [0, 1, 2, 3, 4]
    assert sum((c.tokens for c in chunks), ()) == ex.tokens
    assert sum((c.phonemes for c in chunks), ()) == ex.phonemes
    batch = collator.collate(chunks)
    assert batch.input_ids.shape == (5, 8) and int(batch.attention_mask.sum()) == 25 + 2 * 5
    # Predictions per chunk come back as one sentence in order.
    joined = rejoin(chunks, [list(c.tags) for c in chunks])
    assert joined == {ex.id: list(ex.tags)}
    with pytest.raises(ValueError, match="not 0..3"):
        rejoin(chunks[:2] + chunks[3:], [list(c.tags) for c in chunks[:2] + chunks[3:]])


def test_every_chunk_of_every_real_sentence_fits_the_budget(built_data, collator):
    examples = read_examples(built_data, "panx", "vi", "train") + read_examples(built_data, "panx", "ko", "train")
    chunks = split_examples(examples, collator)
    assert len(chunks) > len(examples)                       # the budget of 8 forces splits
    assert max(collator.collate(chunks).attention_mask.sum(1).tolist()) <= 8
    assert rejoin(chunks, [list(c.tokens) for c in chunks]) == {ex.id: list(ex.tokens) for ex in examples}


def test_collate_builds_aligned_tensors(built_data, tiny_backbone):
    tok = tiny_backbone("tiny-bert").tokenizer
    collator = Collator(tok, PANX_LABELS, max_subwords=128)
    examples = read_examples(built_data, "panx", "vi", "train", n=3)
    batch = collator.collate(examples)
    w = max(len(ex.tokens) for ex in examples)
    assert batch.word_mask.shape == (3, w) and batch.tags.shape == (3, w)
    first = examples[0]                    # Đồng bằng sông Cửu Long, all B-LOC I-LOC ...
    assert batch.tags[0, : len(first.tokens)].tolist() == [PANX_LABELS.index(t) for t in first.tags]
    assert (batch.tags[~batch.word_mask] == IGNORE).all()
    assert (batch.lang_ids[0, : len(first.tokens)] == LANG_IDS["vi"]).all()
    # Word 0's phoneme pieces are the tokenisation of its IPA 'doŋ͡m2'.
    ipa_ids = collator.pieces(first.phonemes[0])
    assert batch.phon_ids[0, 0, : len(ipa_ids)].tolist() == ipa_ids
    assert int(batch.phon_mask[0, 0].sum()) == len(ipa_ids)


def test_missing_transcriptions_are_an_input_error_naming_file_and_row(built_data, tmp_path):
    path = built_data / "panx" / "zh" / "train.parquet"
    table = pq.read_table(path).slice(0, 3)
    ipa = table.column("ipa").to_pylist()
    ipa[1] = [""] * len(ipa[1])                              # sentence 2 lost its transcriptions
    broken = table.set_column(table.schema.get_field_index("ipa"), "ipa", pa.array(ipa, pa.list_(pa.string())))
    with pytest.raises(InputError, match="lacks ipa transcriptions") as err:
        examples_from_table(broken, "ipa", "bad.parquet")
    assert err.value.path == "bad.parquet" and err.value.line == 2
    # Systems that read no transcriptions accept the same table.
    assert len(examples_from_table(broken, "ipa", "bad.parquet", require_phonemes=False)) == 3
    with pytest.raises(InputError, match="no transcriptions"):
        examples_from_table(table.drop_columns(["ipa"]), "ipa", "noipa.parquet")


def test_code_switching_redraws_every_step_and_labels_follow(built_data, dictionary_dir, collator):
    dictionary = PivotDictionary.load(dictionary_dir / "zh-vi.parquet")
    examples = read_examples(built_data, "panx", "zh", "train", n=20)
    draws = [code_switch_examples(examples, collator, dictionary, "zh", "vi", 0.4, random.Random(step))
             for step in range(2)]
    vi_ipa = {p for e in dictionary.entries for p in e.target.ipa}
    for switched in draws:
        assert any("vi" in c.langs for c in switched)
        for c in switched:
            assert len(c.tokens) == len(c.phonemes) == len(c.langs) == len(c.tags)
            assert set(c.langs) <= {"zh", "vi"}
            # A switched (vi) token carries the dictionary's Vietnamese transcription.
            assert all(p in vi_ipa for p, lang in zip(c.phonemes, c.langs) if lang == "vi")
    assert [c.tokens for c in draws[0]] != [c.tokens for c in draws[1]]     # different step, new draw
    again = code_switch_examples(examples, collator, dictionary, "zh", "vi", 0.4, random.Random(0))
    assert [c.tokens for c in again] == [c.tokens for c in draws[0]]       # same seed, same draw
    batch = collator.collate(draws[0])
    assert (batch.lang_ids[batch.word_mask] == LANG_IDS["vi"]).any()
    assert torch.all(batch.attention_mask.sum(1) <= 8)


def _chunks(tags):
    """Entity types in order (seqeval's reading of IOB2)."""
    from seqeval.metrics.sequence_labeling import get_entities
    return [t for t, _, _ in get_entities(list(tags))]


@pytest.mark.parametrize("phonemes", ["ipa", "romanized"])
def test_switched_labels_keep_the_iob_structure_and_the_runs_transcription_kind(
        built_data, dictionary_dir, collator, phonemes):
    from cjkv_phon.training.run_data import repair_iob
    from dataclasses import replace as dc_replace

    dictionary = PivotDictionary.load(dictionary_dir / "zh-vi.parquet")
    side = {"ipa": lambda e: e.target.ipa, "romanized": lambda e: e.target.romanized}[phonemes]
    vi_forms = {p for e in dictionary.entries for p in side(e)}
    examples = [dc_replace(ex, tags=repair_iob(ex.tags))
                for ex in read_examples(built_data, "panx", "zh", "train", n=40, phonemes=phonemes)]
    one_chunk = Collator(collator.tokenizer, PANX_LABELS, max_subwords=512)   # no splitting: whole sentences
    switched = code_switch_examples(examples, one_chunk, dictionary, "zh", "vi", 1.0, random.Random(0),
                                    phonemes=phonemes)
    assert len(switched) == len(examples)
    n_switched = 0
    for before, after in zip(examples, switched):
        assert after.id == before.id
        # Well-formed IOB2: every I-X continues a B-X or I-X ...
        for prev, tag in zip(("O",) + after.tags, after.tags):
            if tag.startswith("I-"):
                assert prev[2:] == tag[2:] and prev != "O", (after.id, after.tags)
        # ... and the entities are the same ones, in the same order, whatever their new lengths.
        assert _chunks(after.tags) == _chunks(before.tags), after.id
        inserted = [p for p, lang in zip(after.phonemes, after.langs) if lang == "vi"]
        n_switched += len(inserted)
        assert all(p in vi_forms for p in inserted), (phonemes, inserted)
    assert n_switched > 20
    entities = [c for ex in switched for c in _chunks(ex.tags)]
    assert len(entities) > 5                                   # the check above covered real entities
