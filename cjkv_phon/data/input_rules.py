"""Rules every source file obeys, the same at every position and in every reader.

**Characters.** One rule, wherever the character is (first byte of the file, start of a line, inside
a token, inside a tag):

* rejected anywhere: control characters (Unicode category ``Cc``: NUL, CR, DEL, the C1 block, ...; TAB
  only as the column separator), U+FEFF (a byte-order mark, or ZERO WIDTH NO-BREAK SPACE) and the
  noncharacters U+FFFE / U+FFFF. They are signs of a damaged or mis-encoded file, never text;
* kept verbatim anywhere: every other character, including invisible *format* characters such as
  ZERO WIDTH SPACE, LEFT-TO-RIGHT MARK and SOFT HYPHEN. Real XTREME files hold tokens made only of
  them, with gold tags (e.g. ``panx/dev-zh.tsv`` line 4913 is a ZERO WIDTH SPACE tagged ``O``);
  dropping or stripping them would shift the benchmark's gold alignment.

The message names the character, its code point and its column.

**Files.** A source file with no sentence is an error naming it (unless the build allows empty
inputs), and so is one whose every sentence was malformed under ``skip_malformed``: both would
otherwise become a silent 0-row parquet with exit code 0.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any, Sequence

from cjkv_phon.errors import InputError

NONCHARACTERS = frozenset({"\ufffe", "\uffff"})
BOM = "\ufeff"
_C0 = ("NUL SOH STX ETX EOT ENQ ACK BEL BS HT LF VT FF CR SO SI DLE DC1 DC2 DC3 DC4 NAK SYN ETB CAN "
       "EM SUB ESC FS GS RS US").split()


def char_problem(text: str) -> str | None:
    """Why ``text`` (one line, without its ``\\n``) holds a character no source may hold, or None."""
    for column, ch in enumerate(text, start=1):
        if ch == "\t":
            continue
        if ch == "\r":
            return f"carriage return at column {column} (CRLF line ends?)"
        if ch == BOM:
            return f"byte-order mark U+FEFF at column {column} (rejected anywhere in a file)"
        if ch in NONCHARACTERS:
            return f"noncharacter U+{ord(ch):04X} at column {column}"
        if unicodedata.category(ch) == "Cc":
            code = ord(ch)
            name = (_C0[code] if code < 32 else "DEL" if code == 127 else "C1 control")
            return (f"control character {name} U+{code:04X} at column {column} (control characters "
                    "are rejected anywhere)")
    return None


def read_checks(read: Any, files: Sequence[Path], *, allow_empty: bool) -> None:
    """Fail a read that kept no sentence: an empty file, or one where every sentence was skipped.

    Args:
        read: a :class:`~cjkv_phon.data.xtreme.ReadResult`.
        files: the source file(s) it came from, for the message.
        allow_empty: accept a file with no sentence at all (not one whose sentences were all bad).
    """
    if read.sentences:
        return
    where = ", ".join(str(p) for p in files) or "source"
    if read.skipped:
        raise InputError(f"every sentence is malformed ({len(read.skipped)} skipped; the first: "
                         f"{read.skipped[0]}); nothing would be left to build", path=where)
    if not allow_empty:
        raise InputError("no sentences: the source file is empty (pass --allow-empty to build it "
                         "as a 0-row file)", path=where)
