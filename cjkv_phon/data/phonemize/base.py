"""The phonemizer contract.

A phonemizer turns one tokenised sentence into, per token, an IPA string, a Romanized string and a
status. It sees the whole sentence because readings depend on context (PAN-X zh/ja give one character
per token: 行 is háng in 银行 and xíng in 行走), then aligns each reading back to its token.

Registry key: ``(scheme, lang)``, e.g. ``("native", "zh")``. Each language module registers its classes
(:mod:`cjkv_phon.data.phonemize.registry`); the result type is
:class:`~cjkv_phon.data.phonemize.transcription.Transcription`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Sequence

from cjkv_phon.data.normalize import normalize_tokens
from cjkv_phon.data.phonemize.ipa_symbols import enforce
from cjkv_phon.data.phonemize.routing import route_failed_tokens
from cjkv_phon.data.phonemize.scripts import Piece
from cjkv_phon.data.phonemize.transcription import Transcription
from cjkv_phon.errors import InputError


class Phonemizer(ABC):
    """Transcribes tokenised sentences of one language under one scheme.

    Construction may be slow (dictionaries, epitran instances): build once per process, reuse.
    Implementations cache the conversion of each distinct unit (syllable, morpheme reading, word)
    unless ``cache=False`` (the benchmark's no-cache baseline).
    """

    lang: str = ""
    scheme: str = ""
    # True where the phonemizer routes runs of other scripts itself (token-wise phonemizers, inside
    # each token); otherwise whole failed tokens are routed after transcription (routing.py).
    routes_runs: bool = False
    # Attributes that are plain-dict memo caches (counted by :meth:`memo_entries`, with every
    # ``functools.lru_cache`` attribute).
    memo_dicts: tuple[str, ...] = ("_memo",)

    def __init__(self, cache: bool = True) -> None:
        self.cache = cache

    def memo_entries(self) -> int:
        """Distinct units this instance has memoised so far (one per unit computed, not found).

        Its growth over a batch is the batch's memo misses: the engines report it per worker,
        because N processes each compute the units they see, so N workers redo shared units.
        """
        total = 0
        for name, value in vars(self).items():
            if hasattr(value, "cache_info"):
                total += value.cache_info().currsize
            elif name in self.memo_dicts and isinstance(value, dict):
                total += len(value)
        return total

    def transcribe(self, tokens: Sequence[str]) -> Transcription:
        """Transcribe one sentence; the result has exactly ``len(tokens)`` entries per list.

        The one entry point of every phonemizer, so everything that transcribes (the build, the
        dictionaries, ``cjkv phonemize``) gets the same two guarantees: tokens are normalised first
        (:func:`~cjkv_phon.data.normalize.normalize_token`: NFC, Hangul jamo composed), and no token
        whose transcription holds a character that is not IPA is ``ok``
        (:func:`~cjkv_phon.data.phonemize.ipa_symbols.enforce`).
        """
        check_tokens(tokens)
        tokens, _ = normalize_tokens(tokens)
        result = self._transcribe(tokens)
        if not self.routes_runs and "failed" in result.status:
            result = route_failed_tokens(self.lang, self.scheme, tokens, result)
        pieces = [enforce(t, Piece(i, r, s), self.lang)
                  for t, i, r, s in zip(tokens, result.ipa, result.romanized, result.status)]
        if all(p.status == s for p, s in zip(pieces, result.status)):
            return result
        ipa, romanized, status = zip(*pieces)
        return Transcription(ipa, romanized, status, result.read_as)

    @abstractmethod
    def _transcribe(self, tokens: tuple[str, ...]) -> Transcription:
        """Transcribe one normalised sentence (the language's own work, behind :meth:`transcribe`)."""

    @abstractmethod
    def versions(self) -> dict[str, str]:
        """Versions of the tools this phonemizer relies on (recorded in parquet metadata)."""


def check_tokens(tokens: Sequence[str]) -> None:
    """Reject empty tokens: they would get an empty transcription, which the data never holds."""
    for i, token in enumerate(tokens):
        if not token:
            raise InputError(f"token {i} is empty", value=list(tokens))

