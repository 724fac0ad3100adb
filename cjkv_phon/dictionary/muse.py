"""Reader for MUSE bilingual dictionaries (Conneau et al. 2017).

A MUSE file has one ``source<SEP>target`` pair per line, where SEP is a tab or a space (the original
release uses both), e.g. the first lines of ``en-zh.txt``::

    and	而且
    and	和
    that	那個

Files are named ``<src>-<tgt>.txt`` (``en-zh.txt`` maps English to Chinese, ``zh-en.txt`` the reverse).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from cjkv_phon.data.input_rules import char_problem
from cjkv_phon.errors import InputError
from cjkv_phon.provenance import sha256_file

log = logging.getLogger(__name__)

# Exactly two fields separated by one run of tabs/spaces; MUSE words themselves never contain either.
_FIELDS = re.compile(r"[ \t]+")


@dataclass(frozen=True)
class MuseFile:
    """The pairs of one MUSE file, in file order, with provenance.

    Attributes:
        path: the file read.
        src, tgt: language codes from the file name (``en``, ``zh`` ...).
        pairs: ``(source word, target word)`` in file order, duplicates removed.
        sha256: hex digest of the file's bytes (recorded in dictionary metadata).
        skipped: malformed lines skipped (only non-zero with ``skip_malformed``).
    """

    path: Path
    src: str
    tgt: str
    pairs: tuple[tuple[str, str], ...]
    sha256: str
    skipped: int = 0


def muse_path(muse_dir: str | Path, src: str, tgt: str) -> Path:
    """Path of the MUSE file mapping ``src`` words to ``tgt`` words."""
    return Path(muse_dir) / f"{src}-{tgt}.txt"


def _parse_line(raw: bytes, path: Path, line_no: int) -> tuple[str, str] | None:
    """One line -> pair; None for a blank line; InputError for a malformed one."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputError(f"undecodable bytes ({err.reason} at byte {err.start})", path, line_no,
                         raw) from None
    text = text.rstrip("\r\n")
    problem = char_problem(text)  # NUL, ESC, a BOM ...: a damaged file, as build-data rejects it
    if problem:
        raise InputError(problem, path, line_no, text)
    if not text.strip(" \t"):
        return None
    fields = _FIELDS.split(text)
    if len(fields) != 2 or not fields[0] or not fields[1]:
        reason = "no separator" if len(fields) == 1 else (
            "empty side" if len(fields) == 2 else f"{len(fields)} fields")
        raise InputError(f"expected 'source<TAB or SPACE>target' ({reason})", path, line_no, text)
    return fields[0], fields[1]


def read_muse(path: str | Path, *, skip_malformed: bool = False) -> MuseFile:
    """Read a MUSE file; blank lines are ignored and repeated pairs kept once.

    Args:
        path: ``<src>-<tgt>.txt``.
        skip_malformed: skip (count and log) malformed lines instead of raising.

    Raises:
        FileNotFoundError: the file is missing.
        InputError: a line has no separator, an empty side, more than two fields, bytes that are
            not UTF-8 or a character no source may hold (control characters such as NUL and ESC,
            a byte-order mark; ``data.input_rules.char_problem``), unless ``skip_malformed``.
    """
    path = Path(path)
    src, _, tgt = path.stem.partition("-")
    pairs: dict[tuple[str, str], None] = {}
    skipped = 0
    with open(path, "rb") as f:
        for line_no, raw in enumerate(f, 1):
            try:
                pair = _parse_line(raw, path, line_no)
            except InputError as err:
                if not skip_malformed:
                    raise
                skipped += 1
                log.warning("skipping malformed line: %s", err)
                continue
            if pair is not None:
                pairs.setdefault(pair, None)
    if skipped:
        log.warning("%s: skipped %d malformed lines", path, skipped)
    log.debug("%s: %d pairs", path, len(pairs))
    return MuseFile(path, src, tgt, tuple(pairs), sha256_file(path), skipped)
