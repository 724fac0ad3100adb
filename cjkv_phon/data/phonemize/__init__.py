"""Phonemizers: per-token IPA, Romanization and status for zh ja ko vi, schemes ``native`` and ``paper``.

``get_phonemizer(lang, scheme)`` returns a shared instance (construction loads dictionaries and
epitran tables: seconds and ~100 MB, so once per process; :mod:`~cjkv_phon.data.phonemize.registry`).
Each language module registers its two classes on import, which ``get_phonemizer`` does on first use.
This package's names are re-exported from the modules that define them; none of those imports it.
"""

from __future__ import annotations

from cjkv_phon.data.phonemize.base import Phonemizer
from cjkv_phon.data.phonemize.ipa import ipa_segments
from cjkv_phon.data.phonemize.registry import (PHONEMIZERS, built_phonemizers, get_phonemizer, memo_entries,
                                               register)
from cjkv_phon.data.phonemize.tones import strip_tones
from cjkv_phon.data.phonemize.transcription import Transcription

__all__ = ["built_phonemizers", "memo_entries", "PHONEMIZERS", "Phonemizer", "Transcription", "get_phonemizer", "ipa_segments",
           "register", "strip_tones"]
