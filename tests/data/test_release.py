"""Release folder: manifest contents, verify (pass / fail after tampering), card, offline load_dataset."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from cjkv_phon.data.release import verify_release
from cjkv_phon.provenance import sha256_file


@pytest.fixture()
def release_copy(built_data: Path, tmp_path: Path) -> Path:
    """A private copy of the session's small release, free to tamper with."""
    return Path(shutil.copytree(built_data.parent, tmp_path / "release"))


def test_manifest_lists_every_file_with_counts_and_sha(built_data: Path) -> None:
    release = built_data.parent
    manifest = json.loads((release / "manifest.json").read_text(encoding="utf-8"))
    files = manifest["files"]
    assert len(files) == 23 and "data/udpos/ko/train.parquet" not in files
    entry = files["data/panx/ja/test.parquet"]
    path = release / "data/panx/ja/test.parquet"
    tokens = pq.read_table(path, columns=["tokens"]).column("tokens").to_pylist()
    assert entry["rows"] == 40 and entry["tokens"] == sum(len(t) for t in tokens)
    assert entry["sha256"] == sha256_file(path) and entry["scheme"] == "native"
    assert entry["versions"] and manifest["name"] == "xtreme-cjkv-phonemic"


def test_verify_passes_then_fails_after_tampering(release_copy: Path) -> None:
    assert verify_release(release_copy).ok
    target = release_copy / "data/udpos/zh/dev.parquet"
    target.write_bytes(target.read_bytes() + b"\0")
    (release_copy / "data/panx/vi/test.parquet").unlink()
    extra = release_copy / "data/udpos/ko/train.parquet"
    shutil.copy(release_copy / "data/udpos/ko/dev.parquet", extra)
    report = verify_release(release_copy)
    assert not report.ok and report.checked == 23
    text = "\n".join(report.problems)
    assert "data/udpos/zh/dev.parquet: sha256" in text
    assert "data/panx/vi/test.parquet: missing" in text
    assert "data/udpos/ko/train.parquet: built file not listed" in text


def test_verify_without_manifest_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="cjkv build-data --out"):
        verify_release(tmp_path)


def test_card_configs_point_at_the_files(built_data: Path) -> None:
    card = (built_data.parent / "README.md").read_text(encoding="utf-8")
    front = yaml.safe_load(card.split("---\n")[1])
    configs = {c["config_name"]: c["data_files"] for c in front["configs"]}
    assert len(configs) == 8
    assert configs["panx.zh"] == [{"split": "train", "path": "data/panx/zh/train.parquet"},
                                  {"split": "validation", "path": "data/panx/zh/dev.parquet"},
                                  {"split": "test", "path": "data/panx/zh/test.parquet"}]
    assert [d["split"] for d in configs["udpos.ko"]] == ["validation", "test"]
    for words in ("## Columns", "`passthrough`", "Chao tone letters", "CC BY-SA 4.0", "| `data/panx/zh/dev"):
        assert words in card


def test_load_dataset_offline(built_data: Path, tmp_path: Path) -> None:
    # A fresh interpreter: HF_* variables are read when datasets is imported.
    code = ("import datasets, json, sys; d = datasets.load_dataset(sys.argv[1], 'udpos.ko'); "
            "print(json.dumps({k: [v.num_rows, v[0]['id'], len(v[0]['ipa'])] for k, v in d.items()}))")
    env = {**os.environ, "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1",
           "HF_HOME": str(tmp_path / "hf"), "HF_DATASETS_CACHE": str(tmp_path / "hf" / "datasets")}
    run = subprocess.run([sys.executable, "-c", code, str(built_data.parent)], env=env,
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    loaded = json.loads(run.stdout.strip().splitlines()[-1])
    first = pq.read_table(built_data / "udpos/ko/dev.parquet").slice(0, 1).to_pylist()[0]
    assert loaded == {"validation": [40, "udpos.ko.dev.0", len(first["ipa"])],
                      "test": [40, "udpos.ko.test.0", loaded["test"][2]]}
