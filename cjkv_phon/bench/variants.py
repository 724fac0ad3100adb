"""Named grid entries: a registered system plus ``TrainConfig`` overrides, read from a data table.

``cjkv bench --model phonexl-mlm-only`` runs the ``phonexl`` system with ``alpha = gamma = 0``; the
table (``resources/bench_variants.yaml``) holds every such name, so an ablation is one YAML row.
A sample entry::

    phonexl-mlm-only: {system: phonexl, label: "PhoneXL w L_MLM only", resources: "—",
                       overrides: {alpha: 0.0, gamma: 0.0}}
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from cjkv_phon.errors import InputError
from cjkv_phon.training.config import TrainConfig

VARIANTS_FILE = "bench_variants.yaml"
_ENTRY_KEYS = {"system", "label", "resources", "overrides"}
# Settings a variant may not change: they identify the run, and the grid sets them.
GRID_FIELDS = frozenset({"task", "source_lang", "target_lang", "system", "seed", "backbone", "out_dir"})


@dataclass(frozen=True)
class Variant:
    """One named grid entry.

    Attributes:
        name: the name used on the command line and in tables (e.g. ``phonexl-no-le``).
        system: the registered training system it runs.
        label: the paper's name for the row.
        resources: what it needs beyond source labels (``—``, ``Dict``, ``dict-MT``, ...).
        overrides: ``TrainConfig`` field values applied on top of the preset's settings.
    """

    name: str
    system: str
    label: str
    resources: str
    overrides: dict[str, Any] = field(default_factory=dict)


def _line_numbers(text: str) -> dict[str, int]:
    """1-based line of each top-level key, so errors can point into the table."""
    node = yaml.compose(text)
    return {k.value: k.start_mark.line + 1 for k, _ in node.value} if node is not None else {}


def _check_entry(name: str, entry: Any, line: int) -> Variant:
    """Validate one table entry: known keys, a system, and overrides that are real TrainConfig fields."""
    if not isinstance(entry, dict) or "system" not in entry:
        raise InputError(f"variant {name!r} must be a mapping with a system", VARIANTS_FILE, line, entry)
    unknown = set(entry) - _ENTRY_KEYS
    if unknown:
        raise InputError(f"unknown keys; valid: {sorted(_ENTRY_KEYS)}", VARIANTS_FILE, line, sorted(unknown))
    overrides = dict(entry.get("overrides") or {})
    fields = {f.name for f in dataclasses.fields(TrainConfig)} - GRID_FIELDS
    bad = sorted(set(overrides) - fields)
    if bad:
        raise InputError("overrides must be TrainConfig fields the grid does not set",
                         VARIANTS_FILE, line, bad)
    return Variant(name=name, system=str(entry["system"]), label=str(entry.get("label", name)),
                   resources=str(entry.get("resources", "—")), overrides=overrides)


def parse_variants(text: str) -> dict[str, Variant]:
    """Parse a variants table (the YAML text) into ``name -> Variant``, in file order."""
    data = yaml.safe_load(text) or {}
    if not isinstance(data, dict):
        raise InputError("the variants table must be a mapping", VARIANTS_FILE, 1, type(data).__name__)
    lines = _line_numbers(text)
    return {str(name): _check_entry(str(name), entry, lines.get(str(name), 0))
            for name, entry in data.items()}


@lru_cache(maxsize=1)
def load_variants() -> dict[str, Variant]:
    """The packaged variants table (cached: it is read once per process)."""
    text = resources.files("cjkv_phon.resources").joinpath(VARIANTS_FILE).read_text(encoding="utf-8")
    return parse_variants(text)


def get_variant(name: str) -> Variant:
    """The variant called ``name``; an unknown name raises ``KeyError`` listing the valid ones."""
    table = load_variants()
    if name not in table:
        raise KeyError(f"unknown model {name!r}; valid: {', '.join(table)}")
    return table[name]
