"""Typed, frozen config dataclasses <-> YAML recipe files (``pipelines/``, ``benchmarks/``).

File first, flags override: ``load_config(Cls, path, overrides)`` reads the recipe, applies the
non-None overrides and constructs the dataclass, whose ``__post_init__`` validates values.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Mapping, TypeVar

import yaml

C = TypeVar("C")


def read_recipe(path: str | Path) -> dict[str, Any]:
    """Read a YAML recipe into a dict; an unreadable or non-mapping file raises ``ValueError``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"recipe not found: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise ValueError(f"{where}: not valid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a recipe must be a mapping, got {type(data).__name__}")
    return data


def load_config(cls: type[C], path: str | Path | None = None,
                overrides: Mapping[str, Any] | None = None) -> C:
    """Build ``cls`` from a recipe file (optional) and overrides (``None`` values are ignored).

    Unknown keys raise ``ValueError`` listing the valid fields, so typos in recipes are caught.
    Lists in YAML become tuples where the field default is a tuple (frozen dataclasses stay hashable).
    """
    values: dict[str, Any] = read_recipe(path) if path is not None else {}
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown settings {unknown}; valid: {sorted(fields)}")
    for key, val in list(values.items()):
        if isinstance(val, list):
            values[key] = tuple(val)
    return cls(**values)  # type: ignore[call-arg]


def config_to_dict(config: Any) -> dict[str, Any]:
    """A dataclass as a plain dict (tuples become lists) for JSON/YAML output."""
    def plain(v: Any) -> Any:
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        if isinstance(v, Path):
            return str(v)
        return v
    return {k: plain(v) for k, v in dataclasses.asdict(config).items()}


def write_recipe(config: Any, path: str | Path) -> Path:
    """Write a config as a YAML recipe (round-trips through ``load_config``)."""
    from cjkv_phon.atomic import write_text
    return write_text(path, yaml.safe_dump(config_to_dict(config), sort_keys=False, allow_unicode=True))
