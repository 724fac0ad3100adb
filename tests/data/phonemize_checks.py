"""Helpers for the phonemizer tests: read real PAN-X sentences, check a transcription's shape."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from cjkv_phon.data.phonemize import Phonemizer, Transcription
from cjkv_phon.schema import STATUSES


def panx_head(xtreme_dir: Path, lang: str, n: int, split: str = "train") -> list[list[str]]:
    """The first ``n`` sentences (token lists) of ``panx/<split>-<lang>.tsv``."""
    sentences, tokens = [], []
    with open(xtreme_dir / "panx" / f"{split}-{lang}.tsv", encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line:
                tokens.append(line.split("\t")[0])
                continue
            if tokens:
                sentences.append(tokens)
                tokens = []
            if len(sentences) == n:
                return sentences
    if tokens:  # the file's last sentence may lack a trailing blank line
        sentences.append(tokens)
    return sentences[:n]


def check_shape(tokens: Sequence[str], result: Transcription) -> None:
    """One non-empty ipa/romanized string and one valid status per token; failed keeps the spelling."""
    assert len(result.ipa) == len(result.romanized) == len(result.status) == len(tokens), tokens
    for token, ipa, rom, status in zip(tokens, result.ipa, result.romanized, result.status):
        assert ipa and rom, (tokens, token)
        assert status in STATUSES, status
        if status in ("failed", "passthrough"):
            assert ipa == token or rom == token, (token, ipa, rom, status)


def check_panx(phonemizer: Phonemizer, sentences: list[list[str]]) -> dict[str, int]:
    """Transcribe ``sentences``, check each, and count statuses (for sanity bounds in the tests)."""
    counts = dict.fromkeys(STATUSES, 0)
    for tokens in sentences:
        result = phonemizer.transcribe(tokens)
        check_shape(tokens, result)
        for status in result.status:
            counts[status] += 1
    return counts
