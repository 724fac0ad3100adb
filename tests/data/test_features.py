"""ner_tags / pos_tags: ClassLabel ids beside the string tags, in the parquet files and the card."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import yaml

from cjkv_phon.schema import PANX_LABELS, UDPOS_LABELS


def test_built_files_carry_class_label_ids(built_data: Path) -> None:
    from datasets import ClassLabel, Features

    for task, column, labels in (("panx", "ner_tags", PANX_LABELS), ("udpos", "pos_tags", UDPOS_LABELS)):
        path = built_data / task / "ja" / "dev.parquet"
        table = pq.read_table(path)
        rows = table.select(["tags", column]).to_pydict()
        assert [[labels[i] for i in ids] for ids in rows[column]] == rows["tags"]
        features = Features.from_arrow_schema(pq.read_schema(path))
        assert isinstance(features[column].feature, ClassLabel)
        assert features[column].feature.names == list(labels)
        other = "pos_tags" if column == "ner_tags" else "ner_tags"
        assert other not in table.column_names


def test_card_dataset_info_and_load_dataset(built_data: Path, tmp_path: Path) -> None:
    card = (built_data.parent / "README.md").read_text(encoding="utf-8")
    front = yaml.safe_load(card.split("---\n")[1])
    info = {i["config_name"]: i["features"] for i in front["dataset_info"]}
    assert set(info) == {c["config_name"] for c in front["configs"]}
    ner = next(f for f in info["panx.vi"] if f["name"] == "ner_tags")
    assert ner["list"]["class_label"]["names"] == {str(i): n for i, n in enumerate(PANX_LABELS)}
    assert "`ner_tags` (PAN-X), `pos_tags` (UDPOS)" in card
    code = ("import datasets, json, sys; d = datasets.load_dataset(sys.argv[1], 'panx.zh')['validation']; "
            "f = d.features['ner_tags'].feature; "
            "print(json.dumps([f.names, [f.int2str(r['ner_tags']) == r['tags'] for r in d]]))")
    env = {**os.environ, "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1",
           "HF_HOME": str(tmp_path / "hf"), "HF_DATASETS_CACHE": str(tmp_path / "hf" / "datasets")}
    run = subprocess.run([sys.executable, "-c", code, str(built_data.parent)], env=env,
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    names, same = json.loads(run.stdout.strip().splitlines()[-1])
    assert names == list(PANX_LABELS) and len(same) == 40 and all(same)
