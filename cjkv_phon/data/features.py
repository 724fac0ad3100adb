"""Tag ids as ``ClassLabel`` features, the way ``google/xtreme`` ships them, beside the string tags.

``google/xtreme`` gives PAN-X tags as ``ner_tags`` and UDPOS tags as ``pos_tags``: lists of
``ClassLabel`` indices whose names are :data:`~cjkv_phon.schema.PANX_LABELS` /
:data:`~cjkv_phon.schema.UDPOS_LABELS` in that order. Each built file keeps its string ``tags`` and
adds the task's id column (null where ``tags`` is null), and records the Hugging Face features in the
parquet schema metadata (key ``huggingface``, the form ``datasets`` writes and reads), so
``load_dataset`` users get ``ds.features["ner_tags"].feature.names`` without a mapping of their own.

The metadata is written here as JSON, not by importing ``datasets`` in every build process (seconds
each); ``tests/data/test_features.py`` checks that ``datasets`` reads it back as ClassLabel.
"""

from __future__ import annotations

import json

import pyarrow as pa

from cjkv_phon.schema import LABELS

TAG_ID_COLUMNS: dict[str, str] = {"panx": "ner_tags", "udpos": "pos_tags"}
HF_METADATA_KEY = b"huggingface"


def with_tag_ids(table: pa.Table, task: str) -> pa.Table:
    """``table`` with the task's ClassLabel id column appended (from its string ``tags``).

    Raises:
        ValueError: a tag outside the task's label set (the readers reject those first).
    """
    index = {name: i for i, name in enumerate(LABELS[task])}
    rows = []
    for tags in table.column("tags").to_pylist():
        if tags is None:
            rows.append(None)
            continue
        try:
            rows.append([index[t] for t in tags])
        except KeyError as err:
            raise ValueError(f"tag {err.args[0]!r} is not a {task} label; valid: "
                             f"{', '.join(LABELS[task])}") from None
    return table.append_column(pa.field(TAG_ID_COLUMNS[task], pa.list_(pa.int64())),
                               pa.array(rows, pa.list_(pa.int64())))


def _feature(field: pa.Field, task: str) -> dict:
    if field.name == TAG_ID_COLUMNS[task]:
        return {"feature": {"names": list(LABELS[task]), "_type": "ClassLabel"}, "_type": "List"}
    if pa.types.is_list(field.type):
        return {"feature": _feature(field.type.value_field, task), "_type": "List"}
    if pa.types.is_string(field.type):
        return {"dtype": "string", "_type": "Value"}
    if pa.types.is_integer(field.type):
        return {"dtype": str(field.type), "_type": "Value"}
    raise ValueError(f"no Hugging Face feature for column {field.name!r} of type {field.type}")


def hf_features_metadata(schema: pa.Schema, task: str) -> dict[bytes, bytes]:
    """The ``huggingface`` schema-metadata entry describing every column of a built file."""
    features = {field.name: _feature(field, task) for field in schema}
    blob = json.dumps({"info": {"features": features}}, ensure_ascii=False, sort_keys=False)
    return {HF_METADATA_KEY: blob.encode("utf-8")}


def task_schema(task: str) -> pa.Schema:
    """The schema of a built file of ``task``: the sentence schema, the id column, HF features."""
    from cjkv_phon.schema import SENTENCE_SCHEMA

    schema = SENTENCE_SCHEMA.append(pa.field(TAG_ID_COLUMNS[task], pa.list_(pa.int64())))
    return schema.with_metadata(hf_features_metadata(schema, task))


def card_features(task: str) -> list[dict]:
    """The card's YAML ``features`` list for ``task``, as ``datasets`` itself renders them."""
    from datasets import Features  # only the release stage needs it

    return Features.from_arrow_schema(task_schema(task))._to_yaml_list()
