"""Script routing: a run of another language's script inside a sentence is read as that language.

CJKV text borrows scripts: Korean writes Sino-Korean words in Hanja (高麗), Chinese and Vietnamese
Wikipedia quote Japanese names in kana, any of them may quote Hangul. The sentence's own phonemizer
cannot read these (they were ``failed``); the table ``resources/phonemize/script_routing.csv`` names,
per (sentence language, script), the language to read the run as. The run is read by that
language's phonemizer (same scheme), its status is ``fallback`` (a weaker route: the run is read
without the sentence's own context and, for Hanja, character by character), and the language used
is recorded per token (``Transcription.read_as``; the build counts it per file in the metadata).

``ko-hanja``: Hanja -> Hangul by the ``hanja`` package's reading table (``hanja.translate``, which
applies the initial-sound rule at a word start: 李 -> 이, 女子 -> 여자), then the Korean phonemizer. A
character the table lacks stays ``failed``. ``hanja`` is an ordinary dependency (``pyproject.toml``
pins the PyYAML version it requires); where it is missing, Hanja stay ``failed`` and ``versions()``
says so.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Callable
from importlib import metadata

from cjkv_phon.data.phonemize.registry import get_phonemizer
from cjkv_phon.data.phonemize.scripts import STATUS_FAILED, STATUS_FALLBACK, Piece, failed, script_of
from cjkv_phon.data.phonemize.tables import read_table
from cjkv_phon.data.phonemize.transcription import Transcription

log = logging.getLogger(__name__)

HANJA = "ko-hanja"


@lru_cache(maxsize=1)
def routes() -> dict[tuple[str, str], str]:
    """``(sentence language, script) -> language to read as`` from ``script_routing.csv``."""
    rows = read_table("script_routing.csv", ("lang", "script", "read_as"), ("note",))
    return {(r["lang"], r["script"]): r["read_as"] for r in rows}


def route_for(lang: str, text: str, script: str | None = None) -> str | None:
    """The language to read ``text`` (a run of one script, or of ``script``) as inside ``lang`` text."""
    if not text:
        return None
    return routes().get((lang, script or script_of(text[0])))


@lru_cache(maxsize=1)
def _hanja_module():  # type: ignore[no-untyped-def]
    try:
        import hanja  # noqa: PLC0415
    except ModuleNotFoundError:
        log.warning("the hanja package is not installed: Hanja in Korean text stay failed "
                    "(pip install --no-deps hanja==0.15.1)")
        return None
    return hanja


def hanja_version() -> str:
    """The installed ``hanja`` version, or ``"not installed"``."""
    try:
        return metadata.version("hanja")
    except metadata.PackageNotFoundError:
        return "not installed"


@lru_cache(maxsize=65536)
def hanja_to_hangul(text: str) -> str | None:
    """Sino-Korean Hangul reading of a Hanja run (``"高麗"`` -> ``"고려"``), None if any is unknown."""
    module = _hanja_module()
    if module is None:
        return None
    hangul = module.translate(text, "substitution")
    return hangul if all(script_of(ch) == "hangul" for ch in hangul) else None


def read_foreign(lang: str, scheme: str, text: str, own: Callable[[str], Piece] | None = None,
                 script: str | None = None) -> tuple[Piece, str]:
    """Read a run of another script inside ``lang`` text; returns the piece and the language used.

    Args:
        lang, scheme: the sentence's language and the scheme in use.
        text: a maximal run of one script that ``lang``'s tools do not read.
        own: the sentence phonemizer's reader for a run of its own script (for ``ko-hanja``: the
            Hangul reading goes through the Korean phonemizer itself).
        script: the run's script when it is not its first character's (``kana`` for a Japanese
            name of kanji and kana inside Korean or Vietnamese text: 東京タワー is read as Japanese).

    Returns:
        ``(piece, read_as)``; ``read_as`` is ``""`` and the piece ``failed`` when no route reads it.
    """
    target = route_for(lang, text, script)
    if target is None:
        return failed(text), ""
    if target == HANJA:
        hangul = hanja_to_hangul(text)
        if hangul is None or own is None:
            return failed(text), ""
        piece = own(hangul)
    else:
        result = get_phonemizer(target, scheme).transcribe([text])
        piece = Piece(result.ipa[0], result.romanized[0], result.status[0])
    if piece.status == STATUS_FAILED:
        return failed(text), ""
    return Piece(piece.ipa, piece.romanized, STATUS_FALLBACK), target


def route_failed_tokens(lang: str, scheme: str, tokens: tuple[str, ...], result: Transcription) -> Transcription:
    """Re-read ``failed`` tokens of a routable script (sentence-level phonemizers: zh, ja).

    Consecutive failed tokens of one script are read together, as one sentence of the target
    language (キ | ャ | ッ | ト in Chinese text is one katakana word), and become ``fallback``.
    """
    ipa, rom, status = list(result.ipa), list(result.romanized), list(result.status)
    read_as = list(result.read_as) if result.read_as else [""] * len(tokens)
    i, n = 0, len(tokens)
    changed = False
    while i < n:
        target = route_for(lang, tokens[i]) if status[i] == STATUS_FAILED else None
        if target is None or target == HANJA or len({script_of(c) for c in tokens[i]}) != 1:
            i += 1
            continue
        script = script_of(tokens[i][0])
        j = i + 1
        while j < n and status[j] == STATUS_FAILED and {script_of(c) for c in tokens[j]} == {script}:
            j += 1
        other = get_phonemizer(target, scheme).transcribe(tokens[i:j])
        for k, (a, b, c) in enumerate(zip(other.ipa, other.romanized, other.status), start=i):
            if c != STATUS_FAILED:
                ipa[k], rom[k], status[k], read_as[k] = a, b, STATUS_FALLBACK, target
                changed = True
        i = j
    if not changed:
        return result
    return Transcription(tuple(ipa), tuple(rom), tuple(status), tuple(read_as))
