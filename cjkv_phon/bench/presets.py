"""``BenchConfig``: one benchmark grid (systems × backbones × tasks × pairs × seeds) and its presets.

Presets are recipes in ``benchmarks/presets/{smoke,cpu,paper}.yaml``; ``load_preset("smoke",
{"models": ("xtune",)})`` reads one and applies command-line overrides (file first, flags override).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from cjkv_phon.bench.paper import BENCHMARKS_DIR
from cjkv_phon.bench.variants import GRID_FIELDS, get_variant
from cjkv_phon.recipes import load_config
from cjkv_phon.schema import LANGS, TASKS
from cjkv_phon.training.config import TrainConfig

PRESETS_DIR = BENCHMARKS_DIR / "presets"
PRESET_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")   # one folder name, never "." or ".."
RESULTS_DIR = BENCHMARKS_DIR / "results"
ORDERS = ("cell", "seed")   # BenchConfig.order


def _check_train_overrides(where: str, values: Mapping[str, Any]) -> None:
    """Overrides must name TrainConfig fields the grid does not set itself, with valid values."""
    fields = {f.name for f in dataclasses.fields(TrainConfig)} - GRID_FIELDS
    bad = sorted(set(values) - fields)
    if bad:
        raise ValueError(f"{where}: unknown or grid-owned settings {bad}; valid: {sorted(fields)}")
    TrainConfig(**values)  # raises ValueError naming a bad value


@dataclass(frozen=True)
class BenchConfig:
    """A benchmark grid. Field comments are the CLI help.

    Each run is ``TrainConfig(**train, **task_train[task], **cell_train[f"{task}/{pair}"],
    **backbone_train[backbone], **variant.overrides)`` plus the grid's own fields (task, pair, seed,
    system, backbone, out_dir). ``cell_train`` is for what only one cell has, e.g. PAN-X ja->ko's
    second Korean test layout.
    """

    preset: str = "smoke"                     # name used for the default results folder
    models: tuple[str, ...] = ("finetune", "phonexl")   # variant names (resources/bench_variants.yaml)
    tasks: tuple[str, ...] = ("panx",)
    pairs: tuple[str, ...] = ("zh-vi",)       # <source>-<target>
    seeds: int = 1                            # runs seeds 1..N
    backbones: tuple[str, ...] = ("tiny-bert",)
    retries: int = 1                          # extra attempts for a run that raises
    workers: int = 1                          # bench processes sharing the grid (run locks)
    threads: int = 0                          # torch threads per process; 0 = torch's default
    results_dir: str = ""                     # "" = benchmarks/results/<preset>
    allow_dirty: bool = False                 # run on uncommitted code changes (recorded, with the patch)
    train: dict[str, Any] = field(default_factory=dict)          # TrainConfig settings for every run
    backbone_train: dict[str, dict[str, Any]] = field(default_factory=dict)  # per-backbone settings
    task_train: dict[str, dict[str, Any]] = field(default_factory=dict)      # per-task settings (panx, udpos)
    cell_train: dict[str, dict[str, Any]] = field(default_factory=dict)      # per-cell settings ("panx/ja-ko")
    order: str = "cell"                       # run order: cell (a cell's seeds together) | seed (seed 1 of every cell first)
    pe_design_rule: dict[str, Any] = field(default_factory=dict)  # how PhoneXL's PE design is chosen (pe_design.py)

    def __post_init__(self) -> None:
        if not isinstance(self.preset, str) or not PRESET_NAME.fullmatch(self.preset):
            raise ValueError(f"preset name {self.preset!r} must be a plain name (letters, digits, . _ -, "
                             "no path): it names the results folder benchmarks/results/<preset>")
        for name in ("models", "tasks", "pairs", "backbones"):
            value = getattr(self, name)
            if not isinstance(value, tuple) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"preset {self.preset!r}: {name} must be a list of names, got {value!r}")
            if not value:
                raise ValueError(f"{name} must not be empty")
        if self.order not in ORDERS:
            raise ValueError(f"preset {self.preset!r}: order must be one of {', '.join(ORDERS)}, got {self.order!r}")
        for name in ("train", "task_train", "cell_train", "backbone_train"):
            value = getattr(self, name)
            if not isinstance(value, dict) or (name != "train" and not all(
                    isinstance(v, dict) for v in value.values())):
                raise ValueError(f"preset {self.preset!r}: {name} must be a mapping of settings, got {value!r}")
        for name in ("seeds", "retries", "workers", "threads"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError(f"preset {self.preset!r}: {name} must be a whole number, got {value!r}")
        for model in self.models:
            get_variant(model)  # KeyError listing the valid names
        for task in self.tasks:
            if task not in TASKS:
                raise ValueError(f"unknown task {task!r}; valid: {', '.join(TASKS)}")
        for pair in self.pairs:
            src, _, tgt = pair.partition("-")
            if src not in LANGS or tgt not in LANGS or src == tgt:
                raise ValueError(f"pair must be <src>-<tgt> of two of {', '.join(LANGS)}; got {pair!r}")
        if self.workers < 1 or self.threads < 0:
            raise ValueError(f"workers must be >= 1 and threads >= 0; got workers={self.workers}, "
                             f"threads={self.threads}")
        if self.seeds < 1 or self.retries < 0:
            raise ValueError(f"seeds must be >= 1 and retries >= 0; got seeds={self.seeds}, "
                             f"retries={self.retries}")
        _check_train_overrides(f"preset {self.preset!r} train", self.train)
        for task, values in self.task_train.items():
            if task not in TASKS:
                raise ValueError(f"preset {self.preset!r} task_train: unknown task {task!r}; valid: "
                                 f"{', '.join(TASKS)}")
            _check_train_overrides(f"preset {self.preset!r} task_train[{task!r}]", {**self.train, **values})
        for cell, values in self.cell_train.items():
            task, _, pair = cell.partition("/")
            if task not in self.tasks or pair not in self.pairs:
                raise ValueError(f"preset {self.preset!r} cell_train: {cell!r} is not a cell of the grid "
                                 f"(<task>/<pair> of tasks {list(self.tasks)} and pairs {list(self.pairs)})")
            _check_train_overrides(f"preset {self.preset!r} cell_train[{cell!r}]",
                                   {**self.train, **self.task_train.get(task, {}), **values})
        if self.pe_design_rule:
            from cjkv_phon.bench.pe_design import PeDesignRule
            try:
                PeDesignRule.from_mapping(self.pe_design_rule)
            except TypeError as err:          # an unknown key
                raise ValueError(f"preset {self.preset!r} pe_design_rule: {err}") from None
        for backbone, values in self.backbone_train.items():
            _check_train_overrides(f"preset {self.preset!r} backbone_train[{backbone!r}]",
                                   {**self.train, **values})

    @property
    def results_path(self) -> Path:
        """Where the grid's results go: ``results_dir`` or ``benchmarks/results/<preset>``."""
        return Path(self.results_dir) if self.results_dir else RESULTS_DIR / self.preset


def preset_path(name_or_path: str | Path) -> Path:
    """A preset file: an existing path as given, else ``benchmarks/presets/<name>.yaml``."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        return path
    named = PRESETS_DIR / f"{name_or_path}.yaml"
    if not named.is_file():
        known = sorted(p.stem for p in PRESETS_DIR.glob("*.yaml"))
        raise FileNotFoundError(f"no preset {str(name_or_path)!r}; known: {', '.join(known)}")
    return named


def load_preset(name_or_path: str | Path, overrides: Mapping[str, Any] | None = None,
                train: Mapping[str, Any] | None = None) -> BenchConfig:
    """Read a preset and apply overrides (``None`` values are ignored).

    Args:
        name_or_path: ``smoke``, ``cpu``, ``paper`` or a YAML file.
        overrides: ``BenchConfig`` fields, e.g. ``{"seeds": 1, "models": ("xtune",)}``.
        train: ``TrainConfig`` settings merged INTO the preset's ``train`` (not replacing it), e.g.
            ``{"data_dir": "build/data"}``.
    """
    cfg = load_config(BenchConfig, preset_path(name_or_path), overrides)
    extra = {k: v for k, v in (train or {}).items() if v is not None}
    return dataclasses.replace(cfg, train={**cfg.train, **extra}) if extra else cfg
