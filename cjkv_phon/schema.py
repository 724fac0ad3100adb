"""Contracts at the boundaries: names, parquet schemas and the results record.

Writers call ``check_*`` before writing; readers call them after reading and fail loudly on a mismatch.
One set of names everywhere: languages ``zh ja ko vi`` (XTREME codes), tasks ``panx udpos``,
splits ``train dev test``; run ids ``<task>_<src>-<tgt>_<system>_s<seed>``.
"""

from __future__ import annotations

import pyarrow as pa

LANGS: tuple[str, ...] = ("zh", "ja", "ko", "vi")
TASKS: tuple[str, ...] = ("panx", "udpos")
SPLITS: tuple[str, ...] = ("train", "dev", "test")
SCHEMES: tuple[str, ...] = ("native", "paper")
# The paper's zero-shot pairs (source -> target).
PAPER_PAIRS: tuple[tuple[str, str], ...] = (("zh", "vi"), ("ja", "ko"))
# Per-token transcription status. ``passthrough``: punctuation, digits, Latin or symbols copied as is;
# ``fallback``: a lower-quality route was used (e.g. character-by-character reading); ``failed``: no
# transcription could be made, the field holds the orthography and the status says so.
STATUSES: tuple[str, ...] = ("ok", "fallback", "passthrough", "failed")

PANX_LABELS: tuple[str, ...] = ("O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC")
UDPOS_LABELS: tuple[str, ...] = (
    "ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART", "PRON", "PROPN",
    "PUNCT", "SCONJ", "SYM", "VERB", "X",
)
LABELS: dict[str, tuple[str, ...]] = {"panx": PANX_LABELS, "udpos": UDPOS_LABELS}

# One row per sentence; list columns are aligned 1:1 with ``tokens``. ``tags`` is null for unlabelled data.
SENTENCE_SCHEMA = pa.schema([
    pa.field("id", pa.string(), nullable=False),
    pa.field("lang", pa.string(), nullable=False),
    pa.field("task", pa.string(), nullable=False),
    pa.field("split", pa.string(), nullable=False),
    pa.field("tokens", pa.list_(pa.string()), nullable=False),
    pa.field("tags", pa.list_(pa.string()), nullable=True),
    pa.field("ipa", pa.list_(pa.string()), nullable=False),
    pa.field("romanized", pa.list_(pa.string()), nullable=False),
    pa.field("status", pa.list_(pa.string()), nullable=False),
])
ALIGNED_COLUMNS: tuple[str, ...] = ("tags", "ipa", "romanized", "status")

# One row per (source, target) dictionary entry. Token lists follow each language's dataset
# tokenisation (zh/ja one character per token, ko/vi whitespace words) so a switched span drops
# straight into a sentence; ``*_ipa``/``*_romanized`` are aligned 1:1 with ``*_tokens``.
DICTIONARY_SCHEMA = pa.schema([
    pa.field("source", pa.string(), nullable=False),
    pa.field("target", pa.string(), nullable=False),
    pa.field("source_lang", pa.string(), nullable=False),
    pa.field("target_lang", pa.string(), nullable=False),
    pa.field("source_tokens", pa.list_(pa.string()), nullable=False),
    pa.field("target_tokens", pa.list_(pa.string()), nullable=False),
    pa.field("source_ipa", pa.list_(pa.string()), nullable=False),
    pa.field("target_ipa", pa.list_(pa.string()), nullable=False),
    pa.field("source_romanized", pa.list_(pa.string()), nullable=False),
    pa.field("target_romanized", pa.list_(pa.string()), nullable=False),
    pa.field("pivots", pa.list_(pa.string()), nullable=False),
    pa.field("support", pa.int32(), nullable=False),
])

# Keys every results JSON (one per training run) carries; see training/trainer.py.
RESULT_KEYS: tuple[str, ...] = (
    "run_id", "task", "source_lang", "target_lang", "system", "seed", "backbone", "config",
    "config_hash", "metrics", "timings", "peak_memory", "versions", "git_commit",
)


def run_id(task: str, src: str, tgt: str, system: str, seed: int) -> str:
    """The canonical run id, e.g. ``panx_zh-vi_phonexl_s1``."""
    return f"{task}_{src}-{tgt}_{system}_s{seed}"


def check_table(table: pa.Table, schema: pa.Schema, where: str) -> None:
    """Raise ``ValueError`` naming ``where`` if ``table`` does not carry ``schema``'s columns and types."""
    missing = [f.name for f in schema if f.name not in table.schema.names]
    if missing:
        raise ValueError(f"{where}: missing columns {missing}; has {table.schema.names}")
    for field in schema:
        got = table.schema.field(field.name).type
        if got != field.type:
            raise ValueError(f"{where}: column {field.name!r} has type {got}, expected {field.type}")


def check_sentence_rows(table: pa.Table, where: str) -> None:
    """Check the sentence schema and that every aligned list has one entry per token."""
    check_table(table, SENTENCE_SCHEMA, where)
    cols = table.select(["id", "tokens", *ALIGNED_COLUMNS]).to_pydict()
    for i, sid in enumerate(cols["id"]):
        n = len(cols["tokens"][i])
        for col in ALIGNED_COLUMNS:
            val = cols[col][i]
            if val is None and col == "tags":
                continue
            if val is None or len(val) != n:
                raise ValueError(f"{where}: sentence {sid!r}: {col} has "
                                 f"{None if val is None else len(val)} entries for {n} tokens")
        bad = set(cols["status"][i]) - set(STATUSES)
        if bad:
            raise ValueError(f"{where}: sentence {sid!r}: unknown status {sorted(bad)}")
