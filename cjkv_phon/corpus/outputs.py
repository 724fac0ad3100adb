"""Writers for ``cjkv phonemize``: JSONL, parquet, TSV (token per line), written atomically.

Each writer takes transcribed batches in order (Arrow tables with the input's columns plus
``tokens ipa romanized status``) and writes into a temporary file beside the target, renamed onto it
only when every batch is written: an error or an interrupt leaves no half-written output. The bytes
depend only on the rows, never on how they were batched or how many workers made them (parquet row
groups are cut at fixed sizes), so every engine and worker count gives the same file.

* ``jsonl``: one JSON object per sentence (every column; UTF-8, not ASCII-escaped).
* ``parquet``: the table, zstd, row groups of :data:`ROW_GROUP_SIZE`, with schema metadata
  ``cjkv_phon.phonemize`` (language, scheme, tokenization, tool versions).
* ``tsv``: the paper's token-aligned layout, four columns per token -- ``token``, ``ipa``,
  ``romanized``, ``status`` -- one token per line and a blank line after each sentence (the XTREME
  ``download/`` layout, with the dictionary TSV's orthography-then-IPA order; no header).
"""

from __future__ import annotations

import json
import sys
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO, Any, Callable, Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from cjkv_phon.atomic import atomic_path

FORMATS: tuple[str, ...] = ("jsonl", "parquet", "tsv")
SUFFIXES: dict[str, str] = {".jsonl": "jsonl", ".parquet": "parquet", ".tsv": "tsv"}
ROW_GROUP_SIZE = 10_000
META_KEY = b"cjkv_phon.phonemize"


def output_format(path: str | None, fmt: str | None) -> str:
    """The format to write: ``fmt`` if given, else from ``path``'s suffix, else ``tsv`` for stdout.

    Raises:
        ValueError: an unknown format, a suffix that names none, or parquet to stdout.
    """
    if fmt is None:
        if path is None:
            fmt = "tsv"
        elif Path(path).suffix in SUFFIXES:
            fmt = SUFFIXES[Path(path).suffix]
        else:
            raise ValueError(f"cannot tell the output format of {path!r} from its suffix; "
                             f"use .jsonl, .parquet or .tsv, or --format")
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; valid: {', '.join(FORMATS)}")
    if fmt == "parquet" and path is None:
        raise ValueError("parquet output needs --output (it is not written to stdout)")
    return fmt


def tsv_lines(table: pa.Table) -> Iterator[str]:
    """Token-per-line TSV of the transcribed sentences (see the module docstring)."""
    cols = table.select(["tokens", "ipa", "romanized", "status"]).to_pydict()
    for row in zip(cols["tokens"], cols["ipa"], cols["romanized"], cols["status"]):
        yield "".join(f"{t}\t{i}\t{r}\t{s}\n" for t, i, r, s in zip(*row)) + "\n"


def jsonl_lines(table: pa.Table) -> Iterator[str]:
    """One JSON object per sentence."""
    for row in table.to_pylist():
        yield json.dumps(row, ensure_ascii=False, default=str) + "\n"


class _ParquetSink:
    """Buffers batches and writes row groups of exactly ``ROW_GROUP_SIZE`` rows (the last shorter)."""

    def __init__(self, path: Path, metadata: Callable[[], dict[str, Any]]) -> None:
        self.path, self.metadata = path, metadata
        self.writer: pq.ParquetWriter | None = None
        self.buffer: list[pa.Table] = []
        self.rows = 0

    def write(self, table: pa.Table) -> None:
        self.buffer.append(table)
        self.rows += table.num_rows
        while self.rows >= ROW_GROUP_SIZE:
            self._flush(ROW_GROUP_SIZE)

    def _flush(self, n: int) -> None:
        whole = pa.concat_tables(self.buffer).combine_chunks()
        head, rest = whole.slice(0, n), whole.slice(n)
        if self.writer is None:
            blob = json.dumps(self.metadata(), ensure_ascii=False, sort_keys=True).encode()
            schema = head.schema.with_metadata({META_KEY: blob})
            self.writer = pq.ParquetWriter(self.path, schema, compression="zstd",
                                           use_dictionary=True, write_statistics=True)
        self.writer.write_table(head.replace_schema_metadata(self.writer.schema.metadata),
                                row_group_size=ROW_GROUP_SIZE)
        self.buffer, self.rows = ([rest] if rest.num_rows else []), rest.num_rows

    def close(self, empty_schema: pa.Schema | None) -> None:
        if self.rows or self.writer is None:
            if not self.buffer and empty_schema is not None:
                self.buffer = [empty_schema.empty_table()]
            if self.buffer:
                self._flush(self.rows)
        if self.writer is not None:
            self.writer.close()


@contextmanager
def open_output(path: str | None, fmt: str, metadata: Callable[[], dict[str, Any]],
                empty_schema: pa.Schema | None = None) -> Iterator[Callable[[pa.Table], None]]:
    """Yield ``write(batch)``; on a clean exit the output is complete and in place.

    Args:
        path: the output file, or None for stdout (text formats).
        fmt: one of :data:`FORMATS` (see :func:`output_format`).
        metadata: makes what parquet records in its schema metadata, asked for when the first row
            group is written (ignored by the text formats).
        empty_schema: the schema of an output with no rows (parquet still gets a valid file).
    """
    with ExitStack() as stack:
        if fmt == "parquet":
            tmp = stack.enter_context(atomic_path(path))  # type: ignore[arg-type]
            sink = _ParquetSink(tmp, metadata)
            yield sink.write
            sink.close(empty_schema)
            return
        lines = tsv_lines if fmt == "tsv" else jsonl_lines
        handle: IO[str]
        if path is None:
            handle = sys.stdout
        else:
            tmp = stack.enter_context(atomic_path(path))
            handle = stack.enter_context(open(tmp, "w", encoding="utf-8", newline="\n"))
        yield lambda table: handle.writelines(lines(table))
        handle.flush()
