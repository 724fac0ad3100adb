"""Errors for bad input: they name the file, the line and the offending value."""

from __future__ import annotations

from pathlib import Path


class InputError(ValueError):
    """A malformed input line or value.

    Attributes:
        path: the file that holds the bad input (None for in-memory input).
        line: 1-based line number, or None when the problem is not tied to one line.
        value: the offending content, shown with ``repr`` so invisible characters are visible.
    """

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None,
                 value: object = None) -> None:
        self.path = str(path) if path is not None else None
        self.line = line
        self.value = value
        where = ""
        if self.path is not None:
            where = f"{self.path}:{line}: " if line is not None else f"{self.path}: "
        shown = f" (got {value!r})" if value is not None else ""
        super().__init__(f"{where}{message}{shown}")


class NothingToBuild(ValueError):
    """A request that selects no work at all (e.g. only combinations the recipe excludes)."""


def check_choice(kind: str, value: str, valid: list[str] | tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``valid``; else raise ``ValueError`` listing the valid ones."""
    if value not in valid:
        raise ValueError(f"unknown {kind} {value!r}; valid: {', '.join(valid)}")
    return value
