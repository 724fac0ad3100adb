"""Transcriber: same readings as build-data, segmentation, batches, pickling, datasets.map."""

from __future__ import annotations

import pickle
from pathlib import Path

import pyarrow as pa
import pytest

from cjkv_phon.data.release_reader import load_split
from cjkv_phon.data.segment import segmenter, split_edge_punctuation
from cjkv_phon.data.transcriber import Transcriber
from cjkv_phon.errors import InputError


@pytest.mark.parametrize("lang", ["zh", "ja", "ko", "vi"])
def test_same_readings_as_build_data(built_data: Path, lang: str) -> None:
    table = load_split(built_data, "panx", lang, "dev").to_pydict()
    got = Transcriber(lang, tokenize="pretokenized").transcribe(table["tokens"])
    assert [list(s.ipa) for s in got] == table["ipa"]
    assert [list(s.romanized) for s in got] == table["romanized"]
    assert [list(s.status) for s in got] == table["status"]


def test_text_is_read_in_context_and_segmented() -> None:
    zh = Transcriber("zh").transcribe(["银行行长", "行走"])  # default for zh: one character per token
    assert zh[0].tokens == ("银", "行", "行", "长") and zh[0].romanized == ("yin2", "hang2", "hang2", "zhang3")
    assert zh[1].romanized == ("xing2", "zou3")
    words = Transcriber("zh", tokenize="words").transcribe(["银行行长"])[0]
    assert words.tokens == ("银行", "行长") and words.romanized == ("yin2hang2", "hang2zhang3")
    vi = Transcriber("vi").transcribe(['Trần Trọng Kim, "Đường thi".'])[0]
    assert vi.tokens == ("Trần", "Trọng", "Kim", ",", '"', "Đường", "thi", '"', ".")
    assert vi.status[3] == "passthrough" and vi.status[0] == "ok"
    ja = Transcriber("ja", tokenize="words").transcribe(["東京に行った。"])[0]
    assert ja.tokens == ("東京", "に", "行っ", "た", "。")


def test_segmenters() -> None:
    assert split_edge_punctuation("''Đường") == ["''", "Đường"]
    assert split_edge_punctuation("10.17") == ["10.17"]
    assert split_edge_punctuation("'',") == ["''", ","]
    assert segmenter("ko", "chars")("서울 시") == ["서", "울", "시"]
    assert segmenter("ko", "pretokenized")(" a  b ") == ["a", "b"]
    with pytest.raises(ValueError, match="unknown tokenization 'morphs'"):
        segmenter("ko", "morphs")


def test_batches_pickling_and_bad_tokens() -> None:
    t = Transcriber("ko", tokenize="pretokenized").setup()
    blob = pickle.dumps(t)
    assert len(blob) < 1000  # settings only: the phonemizer is rebuilt where it is unpickled
    clone = pickle.loads(blob)
    assert clone == t and clone._phonemizer is None
    table = pa.table({"id": ["a", "b"], "tokens": [["서울", "."], ["정말로"]]})
    out = clone(table)
    assert out.column_names == ["id", "tokens", "ipa", "romanized", "status"]
    assert out.column("status").to_pylist() == [["ok", "passthrough"], ["ok"]]
    as_dict = t({"id": ["a", "b"], "tokens": [["서울", "."], ["정말로"]]})
    assert as_dict["ipa"] == out.column("ipa").to_pylist() and as_dict["id"] == ["a", "b"]
    with pytest.raises(InputError, match="sentence 1: token 0 contains whitespace"):
        t.transcribe([["서울"], ["a b"]])
    with pytest.raises(InputError, match="a list of tokens, but tokenize is 'words'"):
        Transcriber("ko").transcribe([["서울"]])
    with pytest.raises(KeyError, match="no column 'text'"):
        Transcriber("ko")({"tokens": [["서울"]]})


def test_datasets_map_with_two_processes(tmp_path: Path) -> None:
    import datasets

    texts = ["银行行长", "我去银行。", "行走 2009年", "重要的重复"]
    ds = datasets.Dataset.from_dict({"id": list("abcd"), "text": texts})
    transcriber = Transcriber("zh", tokenize="chars", input_column="text")
    mapped = ds.map(transcriber, batched=True, batch_size=2, num_proc=2,
                    cache_file_name=str(tmp_path / "map.arrow"))
    expected = transcriber.transcribe(texts)
    assert mapped["tokens"] == [list(s.tokens) for s in expected]
    assert mapped["ipa"] == [list(s.ipa) for s in expected]
    assert mapped["romanized"][0] == ["yin2", "hang2", "hang2", "zhang3"]
    assert mapped["id"] == list("abcd")


def test_text_and_tokens_are_nfc_normalised_like_the_readers() -> None:
    import unicodedata

    decomposed = unicodedata.normalize("NFD", "한국어")  # 9 conjoining jamo
    got = Transcriber("ko", tokenize="chars").transcribe([decomposed])[0]
    assert got.tokens == ("한", "국", "어") and set(got.status) == {"ok"}
    same = Transcriber("ko", tokenize="pretokenized").transcribe([[decomposed]])[0]
    assert same.tokens == ("한국어",) and same.ipa == Transcriber("ko").transcribe(["한국어"])[0].ipa
