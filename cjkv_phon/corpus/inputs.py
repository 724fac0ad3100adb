"""Readers for ``cjkv phonemize``: text lines, JSONL, parquet and Hugging Face dataset folders -> Arrow.

Every reader returns a :class:`CorpusInput`: a table whose rows are sentences, the column that holds
them (``text``: a string per row; ``tokens``: a list of strings per row) and where each row came from,
so a bad row is reported by file and line (text, JSONL) or row (parquet, dataset folders):

* text lines (a file, or ``-`` for stdin): one sentence per line, columns ``line`` (1-based) and
  ``text``; blank lines are skipped (their numbers are kept by the others' ``line``). The encoding
  rules are build-data's (:func:`~cjkv_phon.data.xtreme.line_problem`: UTF-8, no BOM, no CR).
* ``.jsonl``: one JSON object per line with a ``text`` or ``tokens`` field; every field is kept.
* ``.parquet`` file, or a folder of ``*.parquet`` shards (read in name order).
* a ``datasets`` folder written by ``save_to_disk`` (a ``DatasetDict`` needs ``split``).

Tokens must be non-empty strings without whitespace (the datasets' own rule); text must be a string.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from cjkv_phon.data.transcriber import tokens_problem
from cjkv_phon.errors import InputError

KINDS: tuple[str, ...] = ("text", "jsonl", "parquet", "hf")
STDIN = "-"


@dataclass(frozen=True)
class CorpusInput:
    """Sentences read from one input.

    Attributes:
        table: one row per sentence; other columns are carried to the output.
        column: the column with the sentences (``text`` or ``tokens`` unless the caller named one).
        path: the input (``-`` for stdin).
        kind: ``text``, ``jsonl``, ``parquet`` or ``hf``.
        files: the files read (parquet shards), for readers that can read them again (Ray).
        lines: the source line of each row (text and JSONL inputs), for error messages.
    """

    table: pa.Table
    column: str
    path: str
    kind: str
    files: tuple[str, ...] = ()
    lines: tuple[int, ...] | None = None


def input_kind(path: str) -> str:
    """Which reader ``path`` needs (by suffix, or by what a folder holds).

    Raises:
        FileNotFoundError: no such file or folder, or a folder that is neither kind.
    """
    if path == STDIN:
        return "text"
    p = Path(path)
    if p.is_dir():
        if (p / "dataset_dict.json").is_file() or (p / "state.json").is_file():
            return "hf"
        if any(p.glob("*.parquet")):
            return "parquet"
        raise FileNotFoundError(f"{p} is a folder, but neither a datasets save_to_disk folder "
                                "(state.json or dataset_dict.json inside) nor parquet shards")
    if not p.is_file():
        raise FileNotFoundError(f"input not found: {p}")
    if p.suffix == ".jsonl":
        return "jsonl"
    if p.suffix == ".parquet":
        return "parquet"
    return "text"


def read_input(path: str, column: str | None = None, split: str | None = None) -> CorpusInput:
    """Read ``path`` (see the module docstring) and check its sentence column.

    Args:
        path: a file, a folder, or ``-`` for stdin (text lines).
        column: the sentence column; None: ``tokens`` if the input has one, else ``text``.
        split: the split of a ``DatasetDict`` folder.

    Raises:
        FileNotFoundError: a missing input.
        InputError: a malformed line or value (file, line or row, value).
    """
    kind = input_kind(path)
    if split is not None and kind != "hf":
        raise InputError(f"--split {split!r} chooses a split of a datasets folder, but this is a {kind} "
                         "input; leave --split out", "<stdin>" if path == STDIN else path)
    if kind == "text":
        return _check(_read_text(path), column)
    if kind == "jsonl":
        return _check(_read_jsonl(Path(path)), column)
    if kind == "parquet":
        files = sorted(Path(path).glob("*.parquet")) if Path(path).is_dir() else [Path(path)]
        try:
            table = pa.concat_tables([pq.read_table(f) for f in files], promote_options="default")
        except (pa.ArrowException, OSError) as err:
            raise InputError(f"not a readable parquet input: {err}", path) from None
        return _check(CorpusInput(table, "", path, kind, tuple(map(str, files))), column)
    return _check(_read_hf(Path(path), split), column)


def _checked_lines(data: bytes, shown: str | Path) -> Iterator[tuple[int, str]]:
    """``(line number, text)`` of each line, checked by build-data's encoding and character rules.

    Raises:
        InputError: the first bad line (file, line, value).
    """
    from cjkv_phon.data.xtreme import line_problem

    pieces = data.split(b"\n")
    if pieces and pieces[-1] == b"":
        pieces.pop()
    for number, raw in enumerate(pieces, start=1):
        try:
            text: str | None = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        problem = line_problem(text, number)
        if problem:
            raise InputError(problem, shown, number, text if text is not None else raw)
        yield number, text


def _read_text(path: str) -> CorpusInput:
    data = sys.stdin.buffer.read() if path == STDIN else Path(path).read_bytes()
    shown = "<stdin>" if path == STDIN else path
    lines, texts = [], []
    for number, text in _checked_lines(data, shown):
        if text.strip():
            lines.append(number)
            texts.append(text)
    table = pa.table({"line": pa.array(lines, pa.int64()), "text": pa.array(texts, pa.string())})
    return CorpusInput(table, "text", path, "text", lines=tuple(lines))


def _read_jsonl(path: Path) -> CorpusInput:
    rows, lines = [], []
    for number, text in _checked_lines(path.read_bytes(), path):
        if not text.strip():
            continue
        try:
            row = json.loads(text)
        except json.JSONDecodeError as err:
            raise InputError(f"not JSON: {err.msg}", path, number, text) from None
        if not isinstance(row, dict):
            raise InputError("a JSONL line must be an object", path, number, text)
        rows.append(row)
        lines.append(number)
    names = list(dict.fromkeys(k for row in rows for k in row))
    columns = {}
    for name in names:
        try:
            columns[name] = pa.array([row.get(name) for row in rows])
        except (pa.ArrowException, TypeError, OverflowError) as err:
            raise InputError(f"field {name!r} mixes types across lines ({err})", path) from None
    table = pa.table(columns) if names else pa.table({"text": pa.array([], pa.string())})
    return CorpusInput(table, "", str(path), "jsonl", lines=tuple(lines))


def _read_hf(path: Path, split: str | None) -> CorpusInput:
    import datasets  # heavy: only for this kind of input

    loaded = datasets.load_from_disk(str(path))
    if isinstance(loaded, datasets.DatasetDict):
        if split is None or split not in loaded:
            raise InputError(f"a DatasetDict folder: choose a split with --split; splits: "
                             f"{', '.join(loaded)}", path, value=split)
        loaded = loaded[split]
    elif split is not None:
        raise InputError(f"--split {split!r}: this datasets folder holds one split, not a DatasetDict; "
                         "leave --split out", path)
    table = loaded.with_format("arrow")[0:len(loaded)]  # indices (select/shuffle) applied
    return CorpusInput(pa.table(table), "", str(path), "hf")


def _check(read: CorpusInput, column: str | None) -> CorpusInput:
    """Pick and check the sentence column; errors name the file and line (or row)."""
    names = read.table.schema.names
    if column is None:
        column = "tokens" if "tokens" in names else "text"
    shown = "<stdin>" if read.path == STDIN else read.path
    if column not in names:
        raise InputError(f"no {column!r} column (columns: {', '.join(names) or 'none'}); name the "
                         "sentence column with --column", shown)
    _check_one_field(read, column, shown)
    for i, value in enumerate(read.table.column(column).to_pylist()):
        problem = sentence_problem(value)
        if problem:
            if read.lines is not None:
                raise InputError(f"{column}: {problem}", shown, read.lines[i], value)
            raise InputError(f"row {i}: {column}: {problem}", shown, value=value)
    return CorpusInput(read.table, column, read.path, read.kind, read.files, read.lines)


def _check_one_field(read: CorpusInput, column: str, shown: str) -> None:
    """A JSONL file whose lines use ``text`` on some and ``tokens`` on others is one error naming
    both kinds of line: blaming the first line without the chosen field would blame a valid line."""
    names = read.table.schema.names
    if read.kind != "jsonl" or read.lines is None or not {"text", "tokens"} <= set(names):
        return
    if read.table.column(column).null_count == 0:
        return
    texts, tokens = read.table.column("text").to_pylist(), read.table.column("tokens").to_pylist()
    first_text = next((i for i, (t, k) in enumerate(zip(texts, tokens)) if k is None and t is not None), None)
    first_tokens = next((i for i, k in enumerate(tokens) if k is not None), None)
    if first_text is None or first_tokens is None:
        return
    later = max(first_text, first_tokens)
    raise InputError(f"lines mix a 'text' field (first on line {read.lines[first_text]}) and a 'tokens' "
                     f"field (first on line {read.lines[first_tokens]}); use one field on every line "
                     f"(reading {column!r})", shown, read.lines[later])


def sentence_problem(value: Any) -> str | None:
    """Why ``value`` is neither a text string nor a list of good tokens, or None."""
    from cjkv_phon.data.input_rules import char_problem  # build-data's one character rule

    if isinstance(value, str):
        return char_problem(value.replace("\t", " "))
    if not isinstance(value, (list, tuple)):
        return f"expected text (a string) or tokens (a list of strings), got {type(value).__name__}"
    return tokens_problem(value) or next(
        (f"token {j}: {p}" for j, p in enumerate(map(char_problem, value)) if p), None)
