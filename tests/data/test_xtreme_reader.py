"""XTREME TSV reader: real files, the three accepted forms, and every kind of malformed line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cjkv_phon.data.xtreme import XtremeSource, count_sentences, read_xtreme_tsv, xtreme_path
from cjkv_phon.errors import InputError


def _write(tmp_path: Path, data: bytes | str, name: str = "dev-zh.tsv") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def _sources_md_counts(sources_md: str) -> dict[tuple[str, str, str], int]:
    """Sentence counts as SOURCES.md states them (the two 'Sentences (train/dev/test)' lines)."""
    counts: dict[tuple[str, str, str], int] = {}
    panx = re.search(r"Sentences \(train/dev/test\): (\d+)/(\d+)/(\d+) for every language", sources_md)
    assert panx, "SOURCES.md no longer states the PAN-X counts"
    for lang in ("zh", "vi", "ja", "ko"):
        for split, n in zip(("train", "dev", "test"), panx.groups()):
            counts[("panx", lang, split)] = int(n)
    udpos = re.search(r"Sentences \(train/dev/test\): (zh .*?)\.\n", sources_md)
    assert udpos, "SOURCES.md no longer states the UDPOS counts"
    for lang, nums in re.findall(r"(\w\w) ([\d–]+/\d+/\d+)", udpos.group(1)):
        for split, n in zip(("train", "dev", "test"), nums.split("/")):
            if n != "–":
                counts[("udpos", lang, split)] = int(n)
    return counts


def test_sentence_counts_equal_sources_md(shared_data: Path, xtreme_dir: Path) -> None:
    expected = _sources_md_counts((shared_data / "SOURCES.md").read_text(encoding="utf-8"))
    assert len(expected) == 12 + 11  # udpos has no train-ko
    for (task, lang, split), n in expected.items():
        assert count_sentences(xtreme_path(xtreme_dir, task, lang, split)) == n, (task, lang, split)


def test_full_read_matches_count_and_aligns(xtreme_dir: Path) -> None:
    path = xtreme_path(xtreme_dir, "udpos", "ja", "dev")
    result = read_xtreme_tsv(path, task="udpos", lang="ja", split="dev")
    assert len(result.sentences) == 511 and result.skipped == ()
    assert [s.id for s in result.sentences[:2]] == ["udpos.ja.dev.0", "udpos.ja.dev.1"]
    assert all(len(s.tokens) == len(s.tags) for s in result.sentences)


def test_first_sentences_of_panx_vi_dev(xtreme_dir: Path) -> None:
    # Hand-copied from the first lines of ../shared/data/xtreme/panx/dev-vi.tsv.
    result = read_xtreme_tsv(xtreme_path(xtreme_dir, "panx", "vi", "dev"), task="panx", lang="vi",
                             split="dev", max_sentences=2)
    first, second = result.sentences
    assert first.tokens == ("'", "''", "Cầu", "Archevêché", "''", "'")
    assert first.tags == ("O", "O", "B-ORG", "I-ORG", "O", "O")
    assert second.tokens[:8] == ("Girls", "'", "Generation", "World", "Tour", "Girls", "&", "Peace")
    assert second.source.endswith("dev-vi.tsv:8")


def test_rahimi_form_strips_language_prefix(tmp_path: Path) -> None:
    path = _write(tmp_path, "zh:杭\tB-LOC\nzh:州\tI-LOC\n\nzh:zh:x\tO\n")
    result = read_xtreme_tsv(path, task="panx", lang="zh", split="dev")
    assert [s.tokens for s in result.sentences] == [("杭", "州"), ("zh:x",)]
    assert result.sentences[0].tags == ("B-LOC", "I-LOC")


def test_unlabelled_file_gives_no_tags(tmp_path: Path) -> None:
    path = _write(tmp_path, "我\n們\n\n好\n", "test-zh.tsv")
    result = read_xtreme_tsv(path, task="panx", lang="zh", split="test")
    assert [(s.tokens, s.tags) for s in result.sentences] == [(("我", "們"), None), (("好",), None)]


def test_blank_line_runs_and_missing_final_newline(tmp_path: Path) -> None:
    path = _write(tmp_path, "a\tO\n\n\n\nb\tO")
    result = read_xtreme_tsv(path, task="panx", lang="zh", split="dev")
    assert [s.tokens for s in result.sentences] == [("a",), ("b",)]


# (file bytes, line of the problem, words the message must contain)
MALFORMED = {
    "missing tag": (b"a\tO\nb\n", 2, "missing tag"),
    "empty tag": (b"a\tO\nb\t\n", 2, "missing tag"),
    "extra columns": (b"a\tO\nb\tO\tX\n", 2, "3 TAB-separated columns"),
    "bom": ("\ufeffa\tO\n".encode(), 1, "byte-order mark"),
    "crlf": (b"a\tO\r\nb\tO\r\n", 1, "carriage return"),
    "non-utf8": (b"a\tO\n\xff\xfe\tO\n", 2, "not valid UTF-8"),
    "token with space": (b"a\tO\nb c\tO\n", 2, "whitespace"),
    "token with ideographic space": ("a\tO\nb\u3000c\tO\n".encode(), 2, "whitespace"),
    "empty token": (b"a\tO\n\tO\n", 2, "empty token"),
    "unknown tag": (b"a\tO\nb\tB-MISC\n", 2, "unknown tag"),
    "tag in unlabelled file": (b"a\nb\tO\n", 2, "tag column"),
    "rahimi prefix missing": (b"zh:a\tO\nb\tO\n", 2, "prefix"),
}


@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_malformed_line_names_file_line_and_content(tmp_path: Path, kind: str) -> None:
    data, line, words = MALFORMED[kind]
    path = _write(tmp_path, data)
    with pytest.raises(InputError) as info:
        read_xtreme_tsv(path, task="panx", lang="zh", split="dev")
    err = info.value
    assert (err.path, err.line) == (str(path), line)
    assert words in str(err) and f"{path}:{line}:" in str(err)
    assert err.value is not None and "(got " in str(err)


@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_skip_mode_drops_only_the_bad_sentence(tmp_path: Path, kind: str) -> None:
    data, line, _ = MALFORMED[kind]
    good = b"zh:g\tO\n" if b"zh:" in data else (b"g\n" if kind == "tag in unlabelled file" else b"g\tO\n")
    # The bad sentence comes first (a byte-order mark is only wrong at the start of a file); ids
    # keep counting it, so the good ones are .1 and .2 whether or not it is skipped.
    path = _write(tmp_path, data + b"\n" + good + b"\n" + good)
    result = read_xtreme_tsv(path, task="panx", lang="zh", split="dev", skip_malformed=True)
    assert [s.id for s in result.sentences] == ["panx.zh.dev.1", "panx.zh.dev.2"]
    assert [s.tokens for s in result.sentences] == [("g",), ("g",)]
    assert len(result.skipped) == 1 and result.skipped[0].line == line
    assert str(path) in str(result.skipped[0])


def test_max_sentences_stops_early(xtreme_dir: Path) -> None:
    result = read_xtreme_tsv(xtreme_path(xtreme_dir, "panx", "ja", "train"), task="panx", lang="ja",
                             split="train", max_sentences=5)
    assert [s.id for s in result.sentences] == [f"panx.ja.train.{i}" for i in range(5)]


def test_missing_file_names_expected_path(xtreme_dir: Path) -> None:
    with pytest.raises(FileNotFoundError, match=re.escape(str(xtreme_dir / "udpos" / "train-ko.tsv"))):
        XtremeSource(str(xtreme_dir)).read("udpos", "ko", "train")
