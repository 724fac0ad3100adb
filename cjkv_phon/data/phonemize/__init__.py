"""Phonemizers: per-token IPA, Romanization and status for zh ja ko vi, schemes ``native`` and ``paper``.

``get_phonemizer(lang, scheme)`` returns a shared instance (construction loads dictionaries and
epitran tables: seconds and ~100 MB, so once per process). Each language module registers its two
classes on import; importing them all here makes the registry complete.
"""

from __future__ import annotations

import importlib
import threading

from cjkv_phon.data.phonemize.base import PHONEMIZERS, Phonemizer, Transcription, register
from cjkv_phon.data.phonemize.ipa import ipa_segments
from cjkv_phon.data.phonemize.tones import strip_tones
from cjkv_phon.errors import check_choice
from cjkv_phon.schema import LANGS, SCHEMES

_INSTANCES: dict[tuple[str, str, bool], Phonemizer] = {}
_LOCK = threading.Lock()


def get_phonemizer(lang: str, scheme: str = "native", cache: bool = True) -> Phonemizer:
    """The process-wide phonemizer for ``lang`` under ``scheme`` (built on first use).

    Args:
        lang: one of zh ja ko vi.
        scheme: ``native`` (best offline phonology) or ``paper`` (the seed paper's chain).
        cache: memoise each distinct unit (False is the benchmark's honest uncached baseline).

    Raises:
        ValueError: an unknown language or scheme, listing the valid ones.
    """
    check_choice("language", lang, LANGS)
    check_choice("scheme", scheme, SCHEMES)
    key = (scheme, lang, cache)
    with _LOCK:
        if key not in _INSTANCES:
            # Importing the module registers its classes (one file per language).
            importlib.import_module(f"cjkv_phon.data.phonemize.{lang}")
            _INSTANCES[key] = PHONEMIZERS[f"{scheme}/{lang}"](cache=cache)
        return _INSTANCES[key]


def built_phonemizers() -> int:
    """How many phonemizers this process has built (set-up work; routed ones included)."""
    with _LOCK:
        return len(_INSTANCES)


def memo_entries() -> int:
    """Units memoised by every phonemizer of this process (see ``Phonemizer.memo_entries``)."""
    with _LOCK:
        instances = list(_INSTANCES.values())
    return sum(p.memo_entries() for p in instances)


__all__ = ["built_phonemizers", "memo_entries", "PHONEMIZERS", "Phonemizer", "Transcription", "get_phonemizer", "ipa_segments",
           "register", "strip_tones"]
