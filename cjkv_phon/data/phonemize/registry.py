"""The phonemizer registry: classes by ``scheme/lang``, and the one instance of each per process.

Each language module registers its two classes on import (:func:`register`); :func:`get_phonemizer`
imports the language's module by name on first use, so this module imports no phonemizer and the
contract (``base``) and script routing (which asks for the phonemizer of another language) can both
use it without importing each other. Construction loads dictionaries and epitran tables (seconds and
~100 MB), hence one shared instance per (scheme, lang, cache).
"""

from __future__ import annotations

import importlib
import threading
from typing import Any

from cjkv_phon.errors import check_choice
from cjkv_phon.registry import Registry
from cjkv_phon.schema import LANGS, SCHEMES

# Values are subclasses of ``base.Phonemizer`` (typed loosely: naming the class would import base).
PHONEMIZERS: Registry[type] = Registry("phonemizer")

_INSTANCES: dict[tuple[str, str, bool], Any] = {}
_LOCK = threading.Lock()


def register(scheme: str, lang: str):  # type: ignore[no-untyped-def]
    """Class decorator: register a phonemizer under ``scheme/lang``."""
    def decorate(cls: type) -> type:
        cls.scheme, cls.lang = scheme, lang
        return PHONEMIZERS.register(f"{scheme}/{lang}")(cls)
    return decorate


def get_phonemizer(lang: str, scheme: str = "native", cache: bool = True) -> Any:
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
