"""A fresh build of the whole release matches the committed manifest, file for file (issue 23: the
committed manifest had gone stale). Compared: every file's sha256, rows and tokens -- not
``git_commit``, which names the commit that first built the files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cjkv_phon.data.build import BuildDataConfig, build_data

REPO = Path(__file__).resolve().parents[2]
COMMITTED = REPO / "releases" / "xtreme-cjkv-phonemic" / "manifest.json"


def _files(manifest: Path) -> dict[str, tuple[str, int, int]]:
    files = json.loads(manifest.read_text(encoding="utf-8"))["files"]
    return {name: (f["sha256"], f["rows"], f["tokens"]) for name, f in files.items()}


@pytest.mark.slow
def test_a_fresh_full_build_matches_the_committed_manifest(tmp_path: Path, xtreme_dir: Path) -> None:
    out = tmp_path / "xtreme-cjkv-phonemic"
    build_data(BuildDataConfig(source=str(xtreme_dir), out=str(out), workers=2))
    built, committed = _files(out / "manifest.json"), _files(COMMITTED)
    assert sorted(built) == sorted(committed)
    stale = sorted(name for name in built if built[name] != committed[name])
    assert stale == [], f"{len(stale)} files differ from the committed manifest; rebuild and commit it"
