"""``build_dict`` and ``cjkv build-dict`` on small builds of the real MUSE files.

Small builds keep the first N entries of each pair (``max_entries``) so only a few words are transcribed,
with the ``paper`` scheme, whose ja/ko phonemizers start in seconds (the native ones load epitran and
MeCab); the native scheme is exercised on zh and vi.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from cjkv_phon.cli import app
from cjkv_phon.data.phonemize import get_phonemizer
from cjkv_phon.dictionary.build import (METADATA_KEY, BuildDictConfig, Transcriber, best_supported,
                                        build_dict, transcribe_entries)
from cjkv_phon.dictionary.lexicon import PivotDictionary
from cjkv_phon.dictionary.pivot import PivotEntry
from cjkv_phon.provenance import sha256_file
from cjkv_phon.recipes import load_config

REPO = Path(__file__).resolve().parents[2]
SMALL = 30


def _cfg(muse_dir: Path, out: Path) -> BuildDictConfig:
    return BuildDictConfig(muse_dir=str(muse_dir), out_dir=str(out), max_entries=SMALL, scheme="paper")


@pytest.fixture(scope="module")
def built(muse_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("dicts")
    return out, build_dict(_cfg(muse_dir, out))


def test_outputs_and_stats(built, muse_dir):
    out, report = built
    assert [p.pair for p in report.pairs] == ["zh-vi", "ja-ko"]
    for summary in report.pairs:
        dictionary = PivotDictionary.load(summary.parquet)
        assert len(dictionary) == summary.entries == SMALL
        sources = {e.source.word for e in dictionary.entries}
        assert summary.sources == len(sources)
        assert summary.mean_translations == round(SMALL / len(sources), 4)
        for e in dictionary.entries:
            for side in (e.source, e.target):
                assert len(side.tokens) == len(side.ipa) == len(side.romanized) > 0
            assert e.support == len(e.pivots) >= 1
    meta = json.loads(pq.read_schema(out / "zh-vi.parquet").metadata[METADATA_KEY])
    assert meta["muse"]["en-zh.txt"]["sha256"] == sha256_file(muse_dir / "en-zh.txt")
    assert meta["scheme"] == "paper" and meta["config"]["max_entries"] == SMALL
    assert "out_dir" not in meta["config"]
    assert meta["muse_scripts"]["en-zh.txt"]["simplified"] <= 5


def test_tsv_is_the_paper_layout(built):
    out, _ = built
    dictionary = PivotDictionary.load(out / "ja-ko.parquet")
    lines = (out / "ja-ko.tsv").read_text(encoding="utf-8").splitlines()
    assert len(lines) == SMALL
    for line, e in zip(lines, dictionary.entries):
        assert line.split("\t") == [e.source.word, " ".join(e.source.ipa), e.target.word,
                                    " ".join(e.target.ipa)]


def test_rebuild_is_byte_identical(built, muse_dir, tmp_path):
    out, _ = built
    build_dict(_cfg(muse_dir, tmp_path))
    for name in ("zh-vi.parquet", "zh-vi.tsv", "ja-ko.parquet", "ja-ko.tsv"):
        assert (tmp_path / name).read_bytes() == (out / name).read_bytes(), name
    before = (tmp_path / "zh-vi.parquet").read_bytes()
    build_dict(_cfg(muse_dir, tmp_path))  # idempotent rerun in place
    assert (tmp_path / "zh-vi.parquet").read_bytes() == before


def test_entries_follow_dataset_tokenisation():
    # (學校, trường) from the pivot test: zh one token per character, vi whitespace words.
    entry = PivotEntry("學校", "trường", ("school", "schools"))
    (out,) = transcribe_entries([entry], "zh", "vi", Transcriber("native"))
    assert out.source.tokens == ("學", "校") and out.target.tokens == ("trường",)
    assert out.source.ipa == get_phonemizer("zh").transcribe(("學", "校")).ipa
    assert out.support == 2


def test_config_validation():
    with pytest.raises(ValueError, match="ja-ko"):
        BuildDictConfig(pairs=("zh-en",))
    with pytest.raises(ValueError, match="scheme"):
        BuildDictConfig(scheme="ipa")
    with pytest.raises(ValueError, match="max_entries"):
        BuildDictConfig(max_entries=0)
    with pytest.raises(ValueError, match="twice"):
        BuildDictConfig(pairs=("zh-vi", "zh-vi"))


def test_default_recipe_matches_defaults():
    assert load_config(BuildDictConfig, REPO / "pipelines" / "build-dict.yaml") == BuildDictConfig()


def test_cli_builds_and_prints(muse_dir, tmp_path):
    result = CliRunner().invoke(app, ["build-dict", "--pair", "zh-vi", "--max-entries", "5",
                                      "--muse-dir", str(muse_dir), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "zh-vi" in result.output and (tmp_path / "zh-vi.parquet").is_file()
    assert not (tmp_path / "ja-ko.parquet").exists()


def test_cli_unknown_pair_lists_valid_pairs(tmp_path):
    result = CliRunner().invoke(app, ["build-dict", "--pair", "zh-en", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "ko-vi" in result.output and not any(tmp_path.iterdir())


def test_max_entries_keeps_best_supported():
    entries = [PivotEntry("a", "x", ("p",)), PivotEntry("a", "y", ("p", "q", "r")),
               PivotEntry("b", "x", ("p", "q")), PivotEntry("c", "z", ("q", "r"))]
    assert best_supported(entries, 3) == [entries[1], entries[2], entries[3]]
    assert best_supported(entries, 1) == [entries[1]]


def test_load_rejects_a_table_without_the_schema(built, tmp_path):
    out, _ = built
    table = pq.read_table(out / "zh-vi.parquet").drop_columns(["support"])
    pq.write_table(table, tmp_path / "bad.parquet")
    with pytest.raises(ValueError, match="support"):
        PivotDictionary.load(tmp_path / "bad.parquet")
