"""compute_stats: known answers on a hand-made release, and consistency on the small real build."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cjkv_phon.data.stats import compute_stats, jaccard, ngrams
from cjkv_phon.schema import SENTENCE_SCHEMA, STATUSES


def _write(data_dir: Path, task: str, lang: str, tokens: list[str], ipa: list[str], status: list[str]) -> None:
    row = {"id": f"{task}.{lang}.dev.0", "lang": lang, "task": task, "split": "dev", "tokens": tokens,
           "tags": ["O"] * len(tokens), "ipa": ipa, "romanized": tokens, "status": status}
    path = data_dir / task / lang / "dev.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist([row], schema=SENTENCE_SCHEMA), path)


def test_ngrams_and_jaccard() -> None:
    assert ngrams(["a", "b", "c"], 2) == {("a", "b"), ("b", "c")}
    assert ngrams(["a"], 2) == set()
    assert jaccard({1, 2, 3}, {2, 3, 4}) == 0.5
    assert jaccard(set(), set()) == 0.0


def test_digits_inside_a_transcribed_token_are_not_phones(tmp_path: Path) -> None:
    _write(tmp_path, "panx", "ko", ["1.2배"], ["1.2pɛ"], ["ok"])
    assert compute_stats(tmp_path)["tasks"]["panx"]["ko"]["ipa_inventory"] == {"p": 1, "ɛ": 1}


def test_overlap_known_answer(tmp_path: Path) -> None:
    # zh 三 /san˥/ and vi "tam" /tam1/: tones stripped, segments {s,a,n} vs {t,a,m}: 1 shared of 5.
    # Bigrams {sa, an} vs {ta, am}: none shared. The passthrough "1" on both sides is ignored, so the
    # orthographic overlap is 0 (no shared character among transcribed tokens).
    _write(tmp_path, "panx", "zh", ["三", "1"], ["san˥", "1"], ["ok", "passthrough"])
    _write(tmp_path, "panx", "vi", ["tam", "1"], ["tam1", "1"], ["ok", "passthrough"])
    stats = compute_stats(tmp_path)
    overlap = stats["overlap"]["panx"]["zh-vi"]
    assert overlap == {"ipa_1gram_jaccard": 0.2, "ipa_2gram_jaccard": 0.0, "ipa_3gram_jaccard": 0.0,
                       "orth_char_jaccard": 0.0, "orth_token_jaccard": 0.0}
    zh = stats["tasks"]["panx"]["zh"]
    assert (zh["sentences"], zh["tokens"], zh["distinct_tokens"]) == (1, 2, 2)
    assert zh["status_counts"] == {"ok": 1, "fallback": 0, "passthrough": 1, "failed": 0}
    assert zh["ipa_inventory"] == {"a": 1, "n": 1, "s": 1}   # phones: the tone letter is stripped
    assert "ja-ko" not in stats["overlap"]["panx"]


def test_stats_of_small_build(built_data: Path) -> None:
    stats = compute_stats(built_data)
    for task, langs in stats["tasks"].items():
        for lang, s in langs.items():
            expected_sentences = 80 if (task, lang) == ("udpos", "ko") else 120
            assert s["sentences"] == expected_sentences
            assert sum(s["status_counts"][k] for k in STATUSES) == s["tokens"]
            assert 0 < s["distinct_tokens"] <= s["tokens"] and s["ipa_inventory"]
    for task in ("panx", "udpos"):
        for pair in ("zh-vi", "ja-ko"):
            values = stats["overlap"][task][pair]
            assert all(0.0 <= v <= 1.0 for v in values.values())
            # Sino-Xenic sound correspondences: the pairs share more IPA segments than characters.
            assert values["ipa_1gram_jaccard"] > values["orth_char_jaccard"]


def test_empty_folder_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="run cjkv build-data"):
        compute_stats(tmp_path)
