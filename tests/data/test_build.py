"""build_data: counts against the sources, metadata, determinism, idempotence, all-or-nothing, load_split."""

from __future__ import annotations

import json

import logging
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from cjkv_phon.data.build import build_data
from cjkv_phon.data.build_plan import BuildDataConfig, resolve_source
from cjkv_phon.data.release_reader import load_split, read_file_metadata
from cjkv_phon.data.conllu import ConlluSource
from cjkv_phon.data.hub import HubSource
from cjkv_phon.data.xtreme import XtremeSource, read_xtreme_tsv, xtreme_path
from cjkv_phon.errors import InputError
from cjkv_phon.provenance import sha256_file
from cjkv_phon.schema import ALIGNED_COLUMNS, LANGS, SPLITS, TASKS

ALL_FILES = [(t, lang, s) for t in TASKS for lang in LANGS for s in SPLITS
             if (t, lang, s) != ("udpos", "ko", "train")]


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.parquet"))}


def _mini_xtreme(tmp_path: Path, xtreme_dir: Path, files: dict[str, str] | None = None) -> Path:
    """A small XTREME folder: panx dev/test zh copied from the real one (first 12 sentences)."""
    root = tmp_path / "xtreme"
    for split in ("dev", "test"):
        src = xtreme_path(xtreme_dir, "panx", "zh", split).read_text(encoding="utf-8")
        target = xtreme_path(root, "panx", "zh", split)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("\n\n".join(src.split("\n\n")[:12]) + "\n", encoding="utf-8")
    for rel, text in (files or {}).items():
        (root / rel).write_text(text, encoding="utf-8")
    return root


def _small(source: Path, out: Path, **kw) -> BuildDataConfig:
    return BuildDataConfig(source=str(source), tasks=("panx",), langs=("zh",), splits=("dev", "test"),
                           out=str(out), **kw)


def test_small_build_counts_equal_sources(built_data: Path, xtreme_dir: Path) -> None:
    assert not (built_data / "udpos" / "ko" / "train.parquet").exists()
    for task, lang, split in ALL_FILES:
        table = load_split(built_data, task, lang, split)
        source = read_xtreme_tsv(xtreme_path(xtreme_dir, task, lang, split), task=task, lang=lang,
                                 split=split, max_sentences=40)
        rows = table.to_pydict()
        assert rows["id"] == [f"{task}.{lang}.{split}.{i}" for i in range(40)]
        assert rows["tokens"] == [list(s.tokens) for s in source.sentences]
        assert rows["tags"] == [list(s.tags) for s in source.sentences]
        for col in ALIGNED_COLUMNS:  # tokens = tags = ipa = romanized = status, per sentence
            assert [len(v) for v in rows[col]] == [len(v) for v in rows["tokens"]], (task, lang, split, col)
        assert set(rows["lang"]) == {lang} and set(rows["task"]) == {task} and set(rows["split"]) == {split}


def test_file_metadata_records_provenance(built_data: Path, xtreme_dir: Path) -> None:
    meta = read_file_metadata(built_data / "panx" / "vi" / "dev.parquet")
    assert meta["scheme"] == "native" and meta["source_kind"] == "xtreme"
    assert meta["source_sha256"] == {"panx/dev-vi.tsv": sha256_file(xtreme_dir / "panx" / "dev-vi.tsv")}
    assert meta["config"] == {"scheme": "native", "max_sentences": 40, "skip_malformed": False}
    assert meta["versions"] and meta["cjkv_phon_version"]
    # the build state (it hashes the machine's packages) is kept beside the release, not in the bytes
    assert "build_state" not in meta
    states = json.loads((built_data.parent / ".build-state.json").read_text(encoding="utf-8"))
    assert len(states["data/panx/vi/dev.parquet"]) == 64


def test_determinism_idempotence_and_workers(tmp_path: Path, xtreme_dir: Path,
                                              caplog: pytest.LogCaptureFixture) -> None:
    cfg = dict(source=str(xtreme_dir), tasks=("panx", "udpos"), langs=("zh", "vi"), splits=("dev",),
               max_sentences=15)
    first = build_data(BuildDataConfig(out=str(tmp_path / "a"), **cfg))
    second = build_data(BuildDataConfig(out=str(tmp_path / "b"), workers=2, **cfg))
    assert len(first.built) == len(second.built) == 4
    assert _files(tmp_path / "a") == _files(tmp_path / "b")   # byte-identical, for 1 or 2 workers
    assert (tmp_path / "a" / "manifest.json").read_bytes() == (tmp_path / "b" / "manifest.json").read_bytes()

    stamps = {p: p.stat().st_mtime_ns for p in (tmp_path / "a").rglob("*") if p.is_file()}
    with caplog.at_level(logging.INFO, logger="cjkv_phon.data.build"):
        again = build_data(BuildDataConfig(out=str(tmp_path / "a"), **cfg))
    assert again.built == () and not again.release_written
    assert all(f.up_to_date for f in again.files) and "up to date" in caplog.text
    assert [f.sentences for f in again.files] == [f.sentences for f in first.files]
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps   # nothing rewritten

    changed = build_data(BuildDataConfig(out=str(tmp_path / "a"), **{**cfg, "max_sentences": 10}))
    assert len(changed.built) == 4 and {f.sentences for f in changed.files} == {10}


def test_failure_in_a_later_job_writes_nothing(tmp_path: Path, xtreme_dir: Path) -> None:
    root = _mini_xtreme(tmp_path, xtreme_dir)
    out = tmp_path / "release"
    build_data(_small(root, out))
    before = _files(out)
    manifest = (out / "manifest.json").read_bytes()
    # Now the dev file changes (so it would be rebuilt) and the test file has a bad line.
    dev = xtreme_path(root, "panx", "zh", "dev")
    dev.write_text(dev.read_text(encoding="utf-8") + "\n新\tO\n", encoding="utf-8")
    test = xtreme_path(root, "panx", "zh", "test")
    test.write_text(test.read_text(encoding="utf-8") + "\nbad line\tO\tX\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"test-zh\.tsv:\d+: 3 TAB-separated columns"):
        build_data(_small(root, out))
    assert _files(out) == before and (out / "manifest.json").read_bytes() == manifest
    assert not any(p.name.startswith(".staging") for p in out.iterdir())

    fresh = tmp_path / "fresh"
    with pytest.raises(InputError):
        build_data(_small(root, fresh))
    assert _files(fresh) == {} and not (fresh / "manifest.json").exists()


def test_skip_malformed_builds_the_rest(tmp_path: Path, xtreme_dir: Path) -> None:
    root = _mini_xtreme(tmp_path, xtreme_dir)
    test = xtreme_path(root, "panx", "zh", "test")
    test.write_text(test.read_text(encoding="utf-8") + "\nbad line\tO\tX\n", encoding="utf-8")
    report = build_data(_small(root, tmp_path / "out", skip_malformed=True))
    test_report = report.files[1]
    assert (test_report.split, test_report.sentences, len(test_report.skipped)) == ("test", 12, 1)
    assert "3 TAB-separated columns" in str(report.skipped[0])


def test_missing_source_file_is_named_before_any_work(tmp_path: Path, xtreme_dir: Path) -> None:
    root = _mini_xtreme(tmp_path, xtreme_dir)
    cfg = BuildDataConfig(source=str(root), tasks=("panx",), langs=("zh",), out=str(tmp_path / "o"))
    with pytest.raises(FileNotFoundError, match=r"expected .*panx/train-zh\.tsv"):
        build_data(cfg)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(("field", "value", "words"), [
    ("langs", ("zh", "en"), "unknown language 'en'; valid: zh, ja, ko, vi"),
    ("tasks", ("ner",), "unknown task 'ner'; valid: panx, udpos"),
    ("splits", ("validation",), "unknown split 'validation'; valid: train, dev, test"),
    ("scheme", "ipa", "unknown scheme 'ipa'"),
    ("exclude", ("udpos.ko",), "not <task>.<lang>.<split>"),
    ("workers", 0, "workers must be >= 1"),
])
def test_bad_settings_list_the_valid_ones(field: str, value: object, words: str) -> None:
    with pytest.raises(ValueError, match=re.escape(words)):
        BuildDataConfig(**{field: value})


def test_resolve_source_kinds(tmp_path: Path, shared_data: Path, xtreme_dir: Path) -> None:
    assert isinstance(resolve_source(str(xtreme_dir)), XtremeSource)
    assert isinstance(resolve_source(str(shared_data / "ud-2.5")), ConlluSource)
    assert isinstance(resolve_source("hf"), HubSource)
    with pytest.raises(FileNotFoundError, match="neither an XTREME"):
        resolve_source(str(tmp_path))


def test_conllu_source_builds_the_same_tokens(tmp_path: Path, shared_data: Path, built_data: Path) -> None:
    report = build_data(BuildDataConfig(source=str(shared_data / "ud-2.5"), tasks=("udpos",),
                                        langs=("vi",), splits=("dev",), max_sentences=40,
                                        out=str(tmp_path / "ud")))
    assert report.files[0].sentences == 40
    from_ud = load_split(tmp_path / "ud" / "data", "udpos", "vi", "dev")
    from_xtreme = load_split(built_data, "udpos", "vi", "dev")
    assert from_ud.select(["id", "tokens", "tags", "ipa"]).equals(
        from_xtreme.select(["id", "tokens", "tags", "ipa"]))


def test_load_split_errors(tmp_path: Path, built_data: Path) -> None:
    with pytest.raises(FileNotFoundError, match="cjkv build-data --tasks udpos --langs ko --splits train"):
        load_split(built_data, "udpos", "ko", "train")
    with pytest.raises(ValueError, match="valid: train, dev, test"):
        load_split(built_data, "panx", "zh", "validation")
    broken = tmp_path / "data" / "panx" / "zh"
    broken.mkdir(parents=True)
    pq.write_table(pq.read_table(built_data / "panx" / "zh" / "dev.parquet").drop_columns(["ipa"]),
                   broken / "dev.parquet")
    with pytest.raises(ValueError, match="missing columns"):
        load_split(tmp_path / "data", "panx", "zh", "dev")
