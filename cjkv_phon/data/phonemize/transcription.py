"""The result of transcribing one sentence: per token an IPA string, a Romanized string and a status.

Its own module because everything on both sides of the phonemizer contract uses it: the phonemizers
(``base``, the language modules), script routing (which re-reads failed tokens and builds a new one)
and the aligner downstream; none of them should have to import the others to get it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Transcription:
    """Per-token transcriptions of one sentence; all three lists are aligned 1:1 with its tokens."""

    ipa: tuple[str, ...]
    romanized: tuple[str, ...]
    status: tuple[str, ...]
    # Per token, the language a run of another script was read as (``"ja"`` for kana in Chinese
    # text, ``"ko-hanja"`` for Hanja), ``""`` for the sentence's own language; empty if none was.
    read_as: tuple[str, ...] = ()
