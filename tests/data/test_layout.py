"""The paper's PAN-X Korean layout: every word split into characters, tags continued (issue 20, item 8)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cjkv_phon.data.layout import LAYOUTS, applies, apply_layout, layout_counts, split_into_characters
from cjkv_phon.data.sentences import Sentence
from cjkv_phon.data.xtreme import XtremeSource


def test_split_into_characters_keeps_the_first_tag_and_continues_it() -> None:
    s = Sentence("panx.ko.test.0", "ko", "panx", "test", ("'", "데이지", "덕", "Seoul", "보석비빔밥》이", "있다"),
                 ("O", "B-PER", "I-PER", "B-LOC", "B-ORG", "O"))
    out = split_into_characters(s)
    assert out.tokens == ("'", "데", "이", "지", "덕", "S", "e", "o", "u", "l", "보", "석", "비", "빔", "밥", "》",
                          "이", "있", "다")
    assert out.tags == ("O", "B-PER", "I-PER", "I-PER", "I-PER", "B-LOC", "I-LOC", "I-LOC", "I-LOC", "I-LOC",
                        "B-ORG", "I-ORG", "I-ORG", "I-ORG", "I-ORG", "I-ORG", "I-ORG", "O", "O")
    assert (out.id, out.lang, out.split) == (s.id, s.lang, s.split)
    # The entities are the same chunks, only longer: seqeval finds as many in both layouts.
    assert layout_counts([s])["entities"] == layout_counts([out])["entities"] == 3
    assert layout_counts([s])["single_token_entities"] == 2 and layout_counts([out])["single_token_entities"] == 0
    unlabelled = split_into_characters(Sentence("x.0", "ko", "panx", "train", ("가나",), None))
    assert unlabelled.tokens == ("가", "나") and unlabelled.tags is None


def test_the_paper_layout_touches_only_panx_korean(xtreme_dir: Path) -> None:
    src = XtremeSource(str(xtreme_dir))
    ko = src.read("panx", "ko", "test", max_sentences=300).sentences
    ja = src.read("panx", "ja", "test", max_sentences=50).sentences
    assert applies("paper", "panx", "ko") and not applies("paper", "panx", "ja")
    assert not applies("paper", "udpos", "ko") and not applies("xtreme", "panx", "ko")
    assert apply_layout(ja, "paper", "panx", "ja") == ja
    assert apply_layout(ko, "xtreme", "panx", "ko") == ko
    paper = apply_layout(ko, "paper", "panx", "ko")
    words, chars = layout_counts(ko), layout_counts(paper)
    assert words["sentences"] == chars["sentences"] == 300
    assert chars["tokens"] == sum(len(t) for s in ko for t in s.tokens) > 2 * words["tokens"]
    assert chars["entities"] == words["entities"] > 0
    # In XTREME's words a large share of Korean entities is one token; in characters almost none is.
    assert words["single_token_entities"] > 0.3 * words["entities"]
    assert chars["single_token_entities"] < 0.1 * chars["entities"]
    with pytest.raises(ValueError, match="unknown layout 'chars'; valid: xtreme, paper"):
        apply_layout(ko, "chars", "panx", "ko")
    assert set(LAYOUTS) == {"xtreme", "paper"}


def test_build_data_layout_paper_splits_panx_korean_only(tmp_path: Path, xtreme_dir: Path) -> None:
    import json

    import pyarrow.parquet as pq
    from typer.testing import CliRunner

    from cjkv_phon.cli import app

    def build(out: Path, layout: str):
        args = ["build-data", "--source", str(xtreme_dir), "--tasks", "panx", "--langs", "ja,ko", "--splits", "test",
                "--max-sentences", "12", "--workers", "1", "--out", str(out), "--layout", layout]
        result = CliRunner(env={"COLUMNS": "250"}).invoke(app, args)
        assert result.exit_code == 0, result.output
        return out

    words, chars = build(tmp_path / "xtreme", "xtreme"), build(tmp_path / "paper", "paper")
    ko_w = pq.read_table(words / "data/panx/ko/test.parquet").to_pylist()
    ko_c = pq.read_table(chars / "data/panx/ko/test.parquet").to_pylist()
    assert [r["id"] for r in ko_w] == [r["id"] for r in ko_c]
    for w, c in zip(ko_w, ko_c):
        assert c["tokens"] == [ch for tok in w["tokens"] for ch in tok]
        assert len(c["ipa"]) == len(c["tags"]) == len(c["ner_tags"]) == len(c["tokens"])   # one reading per character
        assert c["tags"] == list(split_into_characters(
            Sentence(w["id"], "ko", "panx", "test", tuple(w["tokens"]), tuple(w["tags"]))).tags)
    assert ko_c[0]["tokens"][:5] == ["'", "'", "'", "데", "이"] and ko_c[0]["ipa"][3] == "te"
    # Japanese (already characters) is built byte for byte as under xtreme; Korean is not.
    assert (words / "data/panx/ja/test.parquet").read_bytes() == (chars / "data/panx/ja/test.parquet").read_bytes()
    assert (words / "data/panx/ko/test.parquet").read_bytes() != (chars / "data/panx/ko/test.parquet").read_bytes()
    manifest = json.loads((chars / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["layout"] == "paper" and manifest["files"]["data/panx/ko/test.parquet"]["layout"] == "paper"
    assert manifest["files"]["data/panx/ja/test.parquet"]["layout"] == "xtreme"
    assert json.loads((words / "manifest.json").read_text(encoding="utf-8"))["layout"] == "xtreme"
    card = (chars / "README.md").read_text(encoding="utf-8")
    assert "Built with `--layout paper`" in card and "`data/panx/ko/test.parquet` (paper)" in card
