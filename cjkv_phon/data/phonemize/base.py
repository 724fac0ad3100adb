"""The phonemizer contract and registry.

A phonemizer turns one tokenised sentence into, per token, an IPA string, a Romanized string and a
status. It sees the whole sentence because readings depend on context (PAN-X zh/ja give one character
per token: 行 is háng in 银行 and xíng in 行走), then aligns each reading back to its token.

Registry key: ``(scheme, lang)``, e.g. ``("native", "zh")``. Each language module registers its classes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Sequence

from cjkv_phon.registry import Registry


@dataclass(frozen=True)
class Transcription:
    """Per-token transcriptions of one sentence; all three lists are aligned 1:1 with its tokens."""

    ipa: tuple[str, ...]
    romanized: tuple[str, ...]
    status: tuple[str, ...]


class Phonemizer(ABC):
    """Transcribes tokenised sentences of one language under one scheme.

    Construction may be slow (dictionaries, epitran instances): build once per process, reuse.
    Implementations cache the conversion of each distinct unit (syllable, morpheme reading, word)
    unless ``cache=False`` (the benchmark's no-cache baseline).
    """

    lang: str = ""
    scheme: str = ""

    def __init__(self, cache: bool = True) -> None:
        self.cache = cache

    @abstractmethod
    def transcribe(self, tokens: Sequence[str]) -> Transcription:
        """Transcribe one sentence; the result has exactly ``len(tokens)`` entries per list."""

    @abstractmethod
    def versions(self) -> dict[str, str]:
        """Versions of the tools this phonemizer relies on (recorded in parquet metadata)."""


PHONEMIZERS: Registry[type[Phonemizer]] = Registry("phonemizer")


def register(scheme: str, lang: str):
    """Class decorator: register a phonemizer under ``scheme/lang``."""
    def decorate(cls: type[Phonemizer]) -> type[Phonemizer]:
        cls.scheme, cls.lang = scheme, lang
        return PHONEMIZERS.register(f"{scheme}/{lang}")(cls)
    return decorate
