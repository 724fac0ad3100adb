"""Reading a built release: one file as a schema-checked table, and the metadata the build wrote in it.

Training, trimming and the tests read parquet through :func:`load_split`; the manifest and the
up-to-date check read a file's ``cjkv_phon.*`` metadata through :func:`read_file_metadata`. Kept apart
from the writer (:mod:`cjkv_phon.data.build`) so reading a release never imports the build.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from cjkv_phon.errors import check_choice
from cjkv_phon.schema import LANGS, SPLITS, TASKS, check_sentence_rows

# Prefix of the keys the build writes into each file's parquet schema metadata.
META_PREFIX = "cjkv_phon."


def read_file_metadata(path: str | Path) -> dict[str, Any]:
    """The ``cjkv_phon.*`` schema metadata of a built parquet file, JSON-decoded."""
    meta = pq.read_schema(path).metadata or {}
    return {k.decode()[len(META_PREFIX):]: json.loads(v) for k, v in meta.items()
            if k.decode().startswith(META_PREFIX)}


def load_split(data_dir: str | Path, task: str, lang: str, split: str) -> pa.Table:
    """One built file as a schema-checked table.

    Args:
        data_dir: the release's ``data/`` folder (``TrainConfig.data_dir``).

    Raises:
        ValueError: unknown task, language or split, or a file that breaks the schema.
        FileNotFoundError: the file is not built; the message says which build to run.
    """
    check_choice("task", task, TASKS)
    check_choice("language", lang, LANGS)
    check_choice("split", split, SPLITS)
    path = Path(data_dir) / task / lang / f"{split}.parquet"
    if not path.is_file():
        out = Path(data_dir).parent
        raise FileNotFoundError(f"{path} is not built; run: cjkv build-data --tasks {task} "
                                f"--langs {lang} --splits {split} --out {out}")
    table = pq.read_table(path)
    check_sentence_rows(table, str(path))
    return table
