"""The phonemic vocabulary of a zero-shot run reads all unlabelled target text (issue 20, item 2)."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest

from cjkv_phon.schema import LABELS
from cjkv_phon.training.batches import Collator
from cjkv_phon.training.phonemic_embedding import build_encoder, unknown_share
from cjkv_phon.training.vocab import extend_vocab, phoneme_symbols
from cjkv_phon.training.vocab_sources import zero_shot_transcriptions
from tests.training.conftest import read_examples


def _table_collator(bb, seen, task):
    extend_vocab(bb.tokenizer, bb.model, phoneme_symbols(p for p, _ in seen), seed=1)
    return Collator(bb.tokenizer, LABELS[task], 128, phoneme_encoder=build_encoder("table", bb.tokenizer, seen))


def test_udpos_ko_without_a_train_split_reads_panx_ko_text_and_few_pieces_stay_unknown(built_data, tiny_backbone):
    # XTREME has no Korean UD train split: before issue 20 the symbols came from the Japanese side only
    train = read_examples(built_data, "udpos", "ja", "train")
    dev = read_examples(built_data, "udpos", "ja", "dev")
    seen, sources = zero_shot_transcriptions(str(built_data), "udpos", "ko", "ipa", train, dev)
    assert sources == ["source-train", "source-dev", "target-train:panx (unlabelled)"]
    source_only = [(ex.phonemes, ex.langs) for ex in (*train, *dev)]
    ko_test = read_examples(built_data, "udpos", "ko", "test")
    after = unknown_share(_table_collator(tiny_backbone("tiny-xlmr"), seen, "udpos"), ko_test)
    before = unknown_share(_table_collator(tiny_backbone("tiny-xlmr"), source_only, "udpos"), ko_test)
    assert before["share"] > 0.2 and after["share"] <= 0.02, (before, after)
    assert after["pieces"] > 0 and before["pieces"] > 0     # (counts differ: extension splits differently)


def test_the_dictionary_target_side_is_read_and_no_target_dev_or_test_ever(built_data, dictionary_dir):
    train = read_examples(built_data, "panx", "zh", "train")
    dev = read_examples(built_data, "panx", "zh", "dev")
    seen, sources = zero_shot_transcriptions(str(built_data), "panx", "vi", "ipa", train, dev,
                                             source_lang="zh", dictionary_dir=str(dictionary_dir))
    assert sources == ["source-train", "source-dev", "target-train:panx (unlabelled)",
                       "target-train:udpos (unlabelled)", "dictionary:zh-vi target side"]
    # exactly: the source sentences, both vi train splits, and one row per dictionary entry
    entries = pq.read_table(dictionary_dir / "zh-vi.parquet").num_rows
    vi_train = sum(len(read_examples(built_data, t, "vi", "train")) for t in ("panx", "udpos"))
    assert len(seen) == len(train) + len(dev) + vi_train + entries


@pytest.mark.parametrize("design", ["table"])
def test_unknown_share_counts_the_unknown_row(built_data, tiny_backbone, design):
    bb = tiny_backbone("tiny-xlmr")
    collator = _table_collator(bb, [(("a",), ("vi",))], "panx")
    ex = read_examples(built_data, "panx", "vi", "test", n=3)
    share = unknown_share(collator, ex)
    assert 0 < share["unknown"] < share["pieces"] and share["share"] == round(share["unknown"] / share["pieces"], 5)
