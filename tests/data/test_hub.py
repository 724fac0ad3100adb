"""Hugging Face hub source: the pure record -> Sentence conversion (the download needs network)."""

from __future__ import annotations

import pytest

from cjkv_phon.data.hub import HubSource, hub_config, hub_split, record_to_sentence
from cjkv_phon.errors import InputError
from cjkv_phon.schema import PANX_LABELS, UDPOS_LABELS


def test_config_and_split_names() -> None:
    assert hub_config("panx", "zh") == "PAN-X.zh"
    assert hub_config("udpos", "ko") == "udpos.Korean"
    assert hub_split("dev") == "validation"
    assert HubSource().files("panx", "zh", "dev") == []
    assert HubSource(revision="abc").fingerprint("panx", "ja", "test") == \
        {"hf": "google/xtreme@abc:PAN-X.ja:test"}


def test_panx_record_with_classlabel_indices() -> None:
    # google/xtreme's ClassLabel order for PAN-X is O, B-PER, I-PER, B-ORG, I-ORG, B-LOC, I-LOC.
    record = {"tokens": ["杭", "州", "市"], "ner_tags": [5, 6, 6], "langs": ["zh"] * 3}
    sent = record_to_sentence(record, task="panx", lang="zh", split="dev", index=7,
                              label_names=PANX_LABELS)
    assert sent.id == "panx.zh.dev.7"
    assert sent.tokens == ("杭", "州", "市") and sent.tags == ("B-LOC", "I-LOC", "I-LOC")
    assert sent.source == "google/xtreme:PAN-X.zh:validation:7"


def test_udpos_record_with_string_tags() -> None:
    record = {"tokens": ["Tôi", "đi"], "pos_tags": ["PRON", "VERB"]}
    sent = record_to_sentence(record, task="udpos", lang="vi", split="test", index=0)
    assert sent.tags == ("PRON", "VERB")
    index_record = {"tokens": ["Tôi"], "pos_tags": [UDPOS_LABELS.index("PRON")]}
    assert record_to_sentence(index_record, task="udpos", lang="vi", split="test", index=1,
                              label_names=UDPOS_LABELS).tags == ("PRON",)


@pytest.mark.parametrize(("record", "words"), [
    ({"tokens": ["a", "b"], "ner_tags": [0]}, "2 tokens but 1 tags"),
    ({"tokens": ["a b"], "ner_tags": [0]}, "whitespace"),
    ({"tokens": ["a"], "ner_tags": ["B-MISC"]}, "outside the panx label set"),
    ({"tokens": ["a"], "ner_tags": [9]}, "without matching ClassLabel"),
    ({"tokens": ["a"]}, "lacks"),
])
def test_bad_records_raise_input_error(record: dict, words: str) -> None:
    with pytest.raises(InputError, match=words):
        record_to_sentence(record, task="panx", lang="zh", split="train", index=3,
                           label_names=PANX_LABELS)
