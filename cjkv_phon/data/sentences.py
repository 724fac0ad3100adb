"""The unit every reader yields: one sentence of tokens with optional tags and its provenance."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sentence:
    """A tokenised sentence as read from a source file.

    Attributes:
        id: stable id ``<task>.<lang>.<split>.<index>`` (index 0-based in file order).
        lang, task, split: XTREME language code, task name, split name.
        tokens: the tokens exactly as in the source (no spaces inside a token).
        tags: one tag per token, or None for unlabelled data.
        source: ``path:line`` of the sentence's first token, for error messages.
    """

    id: str
    lang: str
    task: str
    split: str
    tokens: tuple[str, ...]
    tags: tuple[str, ...] | None
    source: str = ""
