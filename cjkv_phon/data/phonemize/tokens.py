"""Shared machinery: per-token transcription and aligning sentence-level readings back to tokens.

Two shapes of phonemizer exist:

* token-wise (ko, vi, and the paper scheme's zh/ja): a token's reading does not depend on its
  neighbours, so :class:`TokenwisePhonemizer` splits each token into runs of the language's own
  scripts and the rest, transcribes its own runs, and memoises whole tokens when caching is on;
* sentence-level (native zh, ja): the tokens are joined into one string, analysed as a sentence, and
  the readings come back as character spans that :func:`assemble` gathers into tokens.

What happens to characters outside the language's scripts is fixed here for every language:
Latin letters, digits and symbols are copied (``passthrough``); characters of another CJK script
(hanja in Korean text, kana in Chinese text) cannot be read by this language's tools and are
``failed`` (the field holds the orthography).
"""

from __future__ import annotations

from abc import abstractmethod
from itertools import accumulate, groupby
from typing import Iterable, Sequence

from cjkv_phon.data.phonemize.base import Phonemizer
from cjkv_phon.data.phonemize.routing import read_foreign
from cjkv_phon.data.phonemize.scripts import Piece, combine, passthrough, script_of
from cjkv_phon.data.phonemize.transcription import Transcription

# Scripts that are copied as written in every language (see the module docstring).
PASSTHROUGH_SCRIPTS: frozenset[str] = frozenset({"latin", "digit", "symbol"})

Span = tuple[int, int, Piece]




def to_transcription(pieces: Iterable[Piece]) -> Transcription:
    """Per-token pieces -> the aligned tuples of a :class:`Transcription`."""
    pieces = list(pieces)
    if not pieces:
        return Transcription((), (), ())
    ipa, romanized, status = zip(*pieces)  # Piece is a dataclass: unpack its fields
    return Transcription(ipa, romanized, status)


def token_bounds(tokens: Sequence[str]) -> list[tuple[int, int]]:
    """Character offsets ``(start, end)`` of each token in ``"".join(tokens)``."""
    ends = list(accumulate(map(len, tokens)))
    return list(zip([0, *ends[:-1]], ends))


def assemble(tokens: Sequence[str], spans: Iterable[Span]) -> Transcription:
    """Gather sentence-level spans (each inside one token) into one piece per token.

    Args:
        tokens: the sentence's tokens; their concatenation is the analysed text.
        spans: ``(start, end, piece)`` in text offsets, in text order; each must lie within one
            token and together they must cover every character (checked: a gap would silently
            empty a token).

    Raises:
        ValueError: a span crosses a token boundary or a character is not covered (a bug in the
            caller's alignment, not bad input).
    """
    ends = [end for _, end in token_bounds(tokens)]
    per_token: list[list[Piece]] = [[] for _ in tokens]
    index, pos, count = 0, 0, len(ends)
    for start, end, piece in spans:
        while index < count and start >= ends[index]:
            index += 1
        if start != pos or index == count or end > ends[index] or end <= start:
            raise ValueError(f"span {start}:{end} after {pos} does not tile the tokens {tokens!r}")
        per_token[index].append(piece)
        pos = end
    if pos != (ends[-1] if ends else 0):
        raise ValueError(f"spans cover {pos} characters of {tokens!r}")
    return to_transcription(p[0] if len(p) == 1 else combine(p) for p in per_token)


class TokenwisePhonemizer(Phonemizer):
    """A phonemizer whose reading of a token does not depend on the other tokens.

    Subclasses set ``own_scripts`` (the scripts the language's tools read, e.g. ``{"hangul"}``) and
    implement :meth:`_run`, which transcribes one maximal run of those scripts.
    """

    own_scripts: frozenset[str] = frozenset()
    routes_runs = True

    def __init__(self, cache: bool = True) -> None:
        super().__init__(cache)
        self._memo: dict[str, tuple[Piece, str]] = {}

    def _transcribe(self, tokens: tuple[str, ...]) -> Transcription:
        """Transcribe each token on its own (memoised per distinct token when caching)."""
        found = [self._token(t) for t in tokens]
        result = to_transcription(piece for piece, _ in found)
        read_as = tuple(lang for _, lang in found)
        return Transcription(result.ipa, result.romanized, result.status, read_as) if any(read_as) \
            else result

    def _token(self, token: str) -> tuple[Piece, str]:
        if not self.cache:
            return self._uncached_token(token)
        found = self._memo.get(token)
        if found is None:
            found = self._memo[token] = self._uncached_token(token)
        return found

    def _uncached_token(self, token: str) -> tuple[Piece, str]:
        """The token's piece and the language(s) its foreign runs were read as (``+``-joined)."""
        pieces, langs = [], []
        for script, run in self._runs(token):
            piece, read_as = self._route(script, run)
            pieces.append(piece)
            if read_as and read_as not in langs:
                langs.append(read_as)
        return combine(pieces), "+".join(langs)

    def _runs(self, token: str) -> list[tuple[str, str]]:
        """Runs of the language's own scripts (merged, e.g. kanji+kana) and of each other script.

        Han next to kana in a language that reads neither is Japanese (東京タワー): one kana run.
        """
        japanese = "kana" not in self.own_scripts and any(script_of(ch) == "kana" for ch in token)

        def key(ch: str) -> str:
            script = script_of(ch)
            if script in self.own_scripts:
                return "own"
            return "kana" if japanese and script == "han" else script

        return [(script, "".join(chars)) for script, chars in groupby(token, key=key)]

    def _route(self, script: str, run: str) -> tuple[Piece, str]:
        """A run's piece: own script read, passthrough copied, another script routed (routing.py)."""
        if script == "own":
            return self._run(run), ""
        if script in PASSTHROUGH_SCRIPTS:
            return passthrough(run), ""
        return read_foreign(self.lang, self.scheme, run, own=self._run, script=script)

    @abstractmethod
    def _run(self, text: str) -> Piece:
        """Transcribe one run of the language's own scripts (``ok``, ``fallback`` or ``failed``)."""
