"""build-data and verify-data against leftovers, damaged outputs and inputs that would lose data silently."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest

from cjkv_phon.data.build import build_data
from cjkv_phon.data.build_plan import BuildDataConfig
from cjkv_phon.data.release import verify_release
from cjkv_phon.data.staging import LOCK, OWNER, TOOL, Staging, find_staging
from cjkv_phon.data.xtreme import read_xtreme_tsv, xtreme_path
from cjkv_phon.errors import InputError, NothingToBuild
from cjkv_phon.provenance import sha256_file


def _mini(tmp_path: Path, xtreme_dir: Path, n: int = 12) -> Path:
    """panx dev/test zh: the first ``n`` sentences of the real files."""
    root = tmp_path / "xtreme"
    for split in ("dev", "test"):
        src = xtreme_path(xtreme_dir, "panx", "zh", split).read_text(encoding="utf-8")
        target = xtreme_path(root, "panx", "zh", split)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("\n\n".join(src.split("\n\n")[:n]) + "\n", encoding="utf-8")
    return root


def _cfg(root: Path, out: Path, **kw) -> BuildDataConfig:
    return BuildDataConfig(source=str(root), tasks=("panx",), langs=("zh",), splits=("dev", "test"),
                           out=str(out), **kw)


def _dead_staging(out: Path, name: str = ".staging-dead") -> Path:
    """A staging folder as a killed build leaves it: OWNER and LOCK, but no process holds the lock."""
    folder = out / name
    (folder / "data/panx/zh").mkdir(parents=True)
    (folder / "data/panx/zh/.dev.parquet.x.tmp").write_bytes(b"PAR1 half written")
    (folder / OWNER).write_text(json.dumps({"tool": TOOL, "pid": 999999, "host": socket.gethostname()}))
    (folder / LOCK).write_text("")
    return folder


# --- kills and leftovers ---------------------------------------------------------------------------

def test_next_build_removes_only_stale_staging_of_ours(tmp_path: Path, xtreme_dir: Path) -> None:
    root, out = _mini(tmp_path, xtreme_dir), tmp_path / "rel"
    build_data(_cfg(root, out))
    dead = _dead_staging(out)
    foreign = out / ".staging-not-ours"  # no OWNER file: not made by cjkv, never touched
    foreign.mkdir()
    with Staging(out) as live:  # a concurrently running build holds its lock
        report = build_data(_cfg(root, out))  # everything up to date: the cleanup still runs
        assert all(f.up_to_date for f in report.files)
        assert not dead.exists() and foreign.is_dir() and live.path.is_dir()
        found = {s.path.name: (s.ours, s.live) for s in find_staging(out)}
        assert found == {live.path.name: (True, True), foreign.name: (False, False)}
    assert not live.path.exists()


# --- corrupt or stray outputs ----------------------------------------------------------------------

def test_a_flipped_byte_is_rebuilt_not_up_to_date(tmp_path: Path, xtreme_dir: Path) -> None:
    root, out = _mini(tmp_path, xtreme_dir), tmp_path / "rel"
    build_data(_cfg(root, out))
    target = out / "data/panx/zh/dev.parquet"
    good = sha256_file(target)
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0x01  # in a data page: the footer (and the build state) still read fine
    target.write_bytes(bytes(data))
    assert not verify_release(out).ok
    report = build_data(_cfg(root, out))
    assert [f.split for f in report.built] == ["dev"]
    assert sha256_file(target) == good and verify_release(out).ok


def test_rebuild_of_unchanged_inputs_keeps_the_tracked_manifest(tmp_path: Path, xtreme_dir: Path) -> None:
    root, out = _mini(tmp_path, xtreme_dir), tmp_path / "rel"
    build_data(_cfg(root, out))
    manifest = out / "manifest.json"
    record = json.loads(manifest.read_text(encoding="utf-8"))
    record["git_commit"] = "0123456789abcdef0123456789abcdef01234567"  # built at another commit
    manifest.write_text(json.dumps(record, ensure_ascii=False, indent=2, sort_keys=True) + "\n",
                        encoding="utf-8")
    before = manifest.read_bytes()
    for path in (out / "data").rglob("*.parquet"):  # a fresh clone: tracked manifest, no data
        path.unlink()
    report = build_data(_cfg(root, out))
    assert len(report.built) == 2 and manifest.read_bytes() == before
    changed = build_data(_cfg(root, out, max_sentences=5))  # different data: a new manifest
    assert len(changed.built) == 2 and manifest.read_bytes() != before


def test_verify_reports_stray_parquet_and_stale_staging(tmp_path: Path, xtreme_dir: Path) -> None:
    root, out = _mini(tmp_path, xtreme_dir), tmp_path / "rel"
    build_data(_cfg(root, out))
    assert verify_release(out).ok
    stray = out / "data/panx/zh/extra.parquet"
    stray.write_bytes((out / "data/panx/zh/dev.parquet").read_bytes())
    _dead_staging(out)
    problems = "\n".join(verify_release(out).problems)
    assert "data/panx/zh/extra.parquet: built file not listed in manifest.json" in problems
    assert ".staging-dead: stale staging folder of a build that did not finish (pid 999999" in problems


def test_verify_missing_folder_and_truncated_manifest(tmp_path: Path, xtreme_dir: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no release folder"):
        verify_release(tmp_path / "nope")
    root, out = _mini(tmp_path, xtreme_dir), tmp_path / "rel"
    build_data(_cfg(root, out))
    manifest = out / "manifest.json"
    manifest.write_bytes(manifest.read_bytes()[:200])
    with pytest.raises(InputError, match=r"manifest\.json:\d+: not valid JSON"):
        verify_release(out)


# --- silent loss with exit code 0 -----------------------------------------------------------------

def test_empty_source_file_is_an_error_unless_allowed(tmp_path: Path, xtreme_dir: Path) -> None:
    root = _mini(tmp_path, xtreme_dir)
    empty = xtreme_path(root, "panx", "zh", "test")
    empty.write_bytes(b"")
    with pytest.raises(InputError, match=f"{empty}: no sentences: the source file is empty"):
        build_data(_cfg(root, tmp_path / "a"))
    assert not (tmp_path / "a" / "data").exists()
    report = build_data(_cfg(root, tmp_path / "b", allow_empty=True))
    assert [f.sentences for f in report.files] == [12, 0]


def _crlf_sentences(n: int) -> bytes:
    return b"".join(f"t{i}\tO\r\nu{i}\tB-PER\r\n\r\n".encode() for i in range(n))


def test_skip_malformed_on_crlf_counts_each_sentence(tmp_path: Path) -> None:
    path = tmp_path / "dev-zh.tsv"
    path.write_bytes(b"g\tO\n\n" + _crlf_sentences(16) + b"h\tO\n")
    result = read_xtreme_tsv(path, task="panx", lang="zh", split="dev", skip_malformed=True)
    assert len(result.skipped) == 16 and {s.line for s in result.skipped} == set(range(3, 50, 3))
    assert [s.tokens for s in result.sentences] == [("g",), ("h",)]
    assert [s.id for s in result.sentences] == ["panx.zh.dev.0", "panx.zh.dev.17"]


def test_every_sentence_skipped_is_an_error(tmp_path: Path, xtreme_dir: Path) -> None:
    root = _mini(tmp_path, xtreme_dir)
    xtreme_path(root, "panx", "zh", "test").write_bytes(_crlf_sentences(16))
    with pytest.raises(InputError, match=r"test-zh\.tsv: every sentence is malformed \(16 skipped"):
        build_data(_cfg(root, tmp_path / "out", skip_malformed=True))
    assert not (tmp_path / "out" / "data").exists()


def test_only_excluded_combinations_is_nothing_to_build(tmp_path: Path, xtreme_dir: Path) -> None:
    cfg = BuildDataConfig(source=str(xtreme_dir), tasks=("udpos",), langs=("ko",), splits=("train",),
                          out=str(tmp_path / "rel"))
    with pytest.raises(NothingToBuild, match="nothing to build: udpos.ko.train is excluded"):
        build_data(cfg)
    assert not (tmp_path / "rel").exists()


# (bytes placed inside a file's third line, words of the message)
FORBIDDEN = {
    "nul mid-token": (b"a\x00b\tO", "control character NUL U+0000 at column 2"),
    "bom mid-file": ("\ufeffb\tO".encode(), "byte-order mark U+FEFF at column 1"),
    "bom mid-token": ("a\ufeffb\tO".encode(), "byte-order mark U+FEFF at column 2"),
    "escape in tag": (b"a\tO\x1b", "control character ESC U+001B at column 4"),
    "c1 control": ("a\u0085\tO".encode(), "C1 control U+0085 at column 2"),
}


@pytest.mark.parametrize("kind", sorted(FORBIDDEN))
def test_control_characters_and_bom_are_rejected_anywhere(tmp_path: Path, kind: str) -> None:
    bad, words = FORBIDDEN[kind]
    path = tmp_path / "dev-zh.tsv"
    path.write_bytes(b"x\tO\ny\tO\n" + bad + b"\n\nz\tO\n")
    with pytest.raises(InputError) as info:
        read_xtreme_tsv(path, task="panx", lang="zh", split="dev")
    assert info.value.line == 3 and words in str(info.value) and f"{path}:3:" in str(info.value)
    first = tmp_path / "first.tsv"  # the same character on line 1 gets the same verdict
    first.write_bytes(bad + b"\n")
    with pytest.raises(InputError, match=":1: "):
        read_xtreme_tsv(first, task="panx", lang="zh", split="dev")


@pytest.mark.parametrize("line", [1, 3])
def test_format_characters_are_kept_verbatim_anywhere(tmp_path: Path, line: int) -> None:
    # Real XTREME tokens hold them (panx/dev-zh.tsv line 4913 is a lone ZERO WIDTH SPACE tagged O).
    lines = ["x\tO", "y\tO", "z\tO"]
    lines[line - 1] = "\u200b\u200e\u00ad\tO" if line == 3 else "\u200bw\tO"
    path = tmp_path / "dev-zh.tsv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tokens = read_xtreme_tsv(path, task="panx", lang="zh", split="dev").sentences[0].tokens
    assert tokens[line - 1] == lines[line - 1].split("\t")[0]
