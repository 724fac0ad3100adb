"""Which script a character belongs to, splitting tokens into script runs, and token statuses.

CJKV text mixes scripts inside one token (PAN-X ko ``K리그``, ``FC에서``; zh ``2009年``). Each
phonemizer transcribes the runs of its own scripts and copies the rest. The code-point ranges are the
table ``resources/phonemize/scripts.csv``; a character in no range is a ``symbol`` (punctuation,
spaces, emoji...).

Decision on digits: they are passed through as written (status ``passthrough``), in every language.
Reading them needs a number grammar per language (2009 is *èr líng líng jiǔ* as a year but *liǎng qiān
líng jiǔ* as a quantity) and PAN-X zh/ja split numbers into one-digit tokens, so any reading would be
wrong half the time; the digits themselves are an honest, language-neutral transcription.
"""

from __future__ import annotations

import bisect
import re
from functools import lru_cache
from itertools import groupby
from typing import Iterable, NamedTuple

from cjkv_phon.data.phonemize.tables import read_table, table_path
from cjkv_phon.errors import InputError

SCRIPTS: tuple[str, ...] = ("han", "kana", "hangul", "latin", "digit", "symbol")
STATUS_OK, STATUS_FALLBACK, STATUS_PASS, STATUS_FAILED = "ok", "fallback", "passthrough", "failed"


class Piece(NamedTuple):
    """The transcription of one run of characters (or one whole token).

    A named tuple rather than a dataclass: millions are made per build, and unpacking a list of
    them column-wise (``zip(*pieces)``) is the fastest way to fill a :class:`Transcription`.
    """

    ipa: str
    romanized: str
    status: str


def passthrough(text: str) -> Piece:
    """Copy ``text`` as is: digits, Latin inside CJK text, punctuation and symbols."""
    return Piece(text, text, STATUS_PASS)


def failed(text: str) -> Piece:
    """No transcription could be made: both fields hold the orthography, the status says so."""
    return Piece(text, text, STATUS_FAILED)


@lru_cache(maxsize=1)
def _ranges() -> tuple[tuple[int, ...], tuple[int, ...], tuple[str, ...]]:
    """The sorted, checked ranges of ``scripts.csv`` as parallel tuples (starts, ends, scripts)."""
    rows = read_table("scripts.csv", ("start", "end", "script"), ("note",))
    spans = []
    for line, row in enumerate(rows, start=2):
        start, end, script = int(row["start"], 16), int(row["end"], 16), row["script"]
        if script not in SCRIPTS or end < start:
            raise InputError("bad script range", table_path("scripts.csv"), line, row)
        spans.append((start, end, script))
    spans.sort()
    for (s1, e1, _), (s2, _, _) in zip(spans, spans[1:]):
        if s2 <= e1:
            raise InputError("overlapping script ranges", table_path("scripts.csv"), None, hex(s2))
    return tuple(s for s, _, _ in spans), tuple(e for _, e, _ in spans), tuple(c for _, _, c in spans)


@lru_cache(maxsize=65536)
def script_of(char: str) -> str:
    """The script of one character, e.g. ``script_of("行") == "han"``, ``script_of("：") == "symbol"``."""
    starts, ends, scripts = _ranges()
    cp = ord(char)
    i = bisect.bisect_right(starts, cp) - 1
    return scripts[i] if i >= 0 and cp <= ends[i] else "symbol"


@lru_cache(maxsize=None)
def script_pattern(script: str) -> re.Pattern[str]:
    """A regex matching maximal runs of one script (fast splitting of whole sentences)."""
    starts, ends, scripts = _ranges()
    ranges = "".join(f"{re.escape(chr(s))}-{re.escape(chr(e))}"
                     for s, e, c in zip(starts, ends, scripts) if c == script)
    if not ranges:
        raise ValueError(f"unknown script {script!r}; valid: {', '.join(SCRIPTS[:-1])}")
    return re.compile(f"[{ranges}]+")


def script_runs(text: str) -> list[tuple[str, str]]:
    """Split ``text`` into maximal runs of one script.

    Example:
        >>> script_runs("K리그")
        [('latin', 'K'), ('hangul', '리그')]
    """
    return [(script, "".join(chars)) for script, chars in groupby(text, key=script_of)]


def combine(pieces: Iterable[Piece]) -> Piece:
    """Join the pieces of one token into its transcription.

    The status says how the language's own runs went (passed-through runs never lower it): all
    passthrough -> ``passthrough``; every transcribed run ``ok`` -> ``ok``; every transcribed run
    ``failed`` -> ``failed``; anything in between -> ``fallback`` (part of the token took a weaker
    route).
    """
    pieces = list(pieces)
    if len(pieces) == 1:  # the common case (one run per token): nothing to join
        return pieces[0]
    own = {p.status for p in pieces if p.status != STATUS_PASS}
    if not own:
        status = STATUS_PASS
    elif len(own) == 1:
        status = own.pop()
    else:
        status = STATUS_FALLBACK
    return Piece("".join(p.ipa for p in pieces), "".join(p.romanized for p in pieces), status)
