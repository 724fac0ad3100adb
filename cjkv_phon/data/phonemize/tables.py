"""Read the phonemizers' data tables from ``cjkv_phon/resources/phonemize/``.

Linguistic knowledge (script ranges, tone conventions, Latin-letter readings, Korean allophones) lives
in small CSV files so that fixing a reading is editing a row, not code. Every table is checked on load:
a missing column or an empty required cell raises :class:`~cjkv_phon.errors.InputError` naming the
file and the 1-based line, so a bad edit is found at import time rather than as wrong IPA later.
"""

from __future__ import annotations

import csv
import io
from functools import lru_cache
from importlib import resources

from cjkv_phon.errors import InputError

_PACKAGE = "cjkv_phon.resources"
_FOLDER = "phonemize"


def table_path(name: str) -> str:
    """Human-readable location of a table, used in error messages."""
    return f"cjkv_phon/resources/{_FOLDER}/{name}"


@lru_cache(maxsize=None)
def read_table(name: str, required: tuple[str, ...],
               optional: tuple[str, ...] = ()) -> tuple[dict[str, str], ...]:
    """Rows of a CSV table as dicts, checked for its columns and non-empty required cells.

    Example of a table (``latin_ipa.csv``)::

        grapheme,ipa,note
        sh,ʃ,Hepburn sh (shi) read as a Latin/English digraph

    Args:
        name: file name inside ``resources/phonemize``.
        required: columns that must exist and be non-empty on every row.
        optional: columns that must exist but may be empty (e.g. ``note``, an empty pattern).

    Returns:
        The rows in file order (cached: tables are read once per process).

    Raises:
        InputError: a missing column (line 1) or an empty required cell (its line).
    """
    text = (resources.files(_PACKAGE) / _FOLDER / name).read_text(encoding="utf-8")
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    missing = [c for c in (*required, *optional) if c not in header]
    if missing:
        raise InputError(f"missing columns {missing}", table_path(name), 1, header)
    rows = []
    for row in reader:
        for col in required:
            if not (row.get(col) or "").strip():
                raise InputError(f"empty {col!r}", table_path(name), reader.line_num, row)
        rows.append({k: (v or "") for k, v in row.items() if k is not None})
    return tuple(rows)


@lru_cache(maxsize=None)
@lru_cache(maxsize=None)
def opencc_ambiguous(name: str) -> frozenset[str]:
    """Characters an OpenCC table folds to several candidates (``於<TAB>于 於``, ``乾<TAB>干 乾``),
    which :func:`opencc_char_map` leaves unfolded."""
    text = (resources.files("opencc") / "dictionary" / name).read_text(encoding="utf-8")
    out = set()
    for line in text.splitlines():
        source, _, targets = line.partition("\t")
        if len(source) == 1 and len(targets.split()) > 1:
            out.add(source)
    return frozenset(out)


def opencc_char_map(name: str) -> dict[int, str]:
    """An OpenCC character table as a ``str.translate`` map, unambiguous one-character entries only.

    The tables ship with opencc-python-reimplemented (``opencc/dictionary/<name>``), one line per
    character: ``銀<TAB>银``; a line with several candidates (``乾<TAB>干 乾``) is an ambiguous fold and
    is skipped. Mapping one character to one character keeps every offset, so folded text aligns
    with the tokens. Used for Traditional -> Simplified (``TSCharacters.txt``, zh) and old ->
    new Japanese kanji forms (``JPVariants.txt``: 從 -> 従, ja).
    """
    text = (resources.files("opencc") / "dictionary" / name).read_text(encoding="utf-8")
    table: dict[int, str] = {}
    for line in text.splitlines():
        source, _, targets = line.partition("\t")
        candidates = targets.split()
        if len(source) == 1 and len(candidates) == 1 and len(candidates[0]) == 1:
            table[ord(source)] = candidates[0]
    return table
