"""The names a command line may use, checked before any heavy import (torch, transformers, datasets).

``cjkv train --model nope`` must answer at once with the valid names, not with a traceback after the
15 s it takes to load torch. Each list comes from where the names are defined, read cheaply:

* systems: the ``@SYSTEMS.register("name")`` lines of ``training/systems/*.py`` (read as text, so the
  modules -- which import torch -- are not loaded; a test checks this equals the real registry);
* variants: the packaged ``bench_variants.yaml`` table; presets: ``benchmarks/presets/*.yaml``;
* tasks, languages, pairs: :mod:`cjkv_phon.schema`;
* backbones: the named ones, an existing local folder, or a hub id (``org/name`` or one of the
  multilingual models the project documents), which online users may download.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

_REGISTER = re.compile(r"""^@SYSTEMS\.register\(\s*["']([^"']+)["']\s*\)""", re.M)
# Mirrors cjkv_phon.training.backbone (which imports torch); tests check the two agree.
DEFAULT_BACKBONE = "multilingual-e5-small"
TINY_BACKBONES = ("tiny-bert", "tiny-xlmr")
HUB_BACKBONES = ("bert-base-multilingual-cased", "xlm-roberta-base", "intfloat/multilingual-e5-small")


class UnknownName(ValueError):
    """A name that is not one of the valid ones (the message lists them)."""


def _unknown(kind: str, value: str, valid: list[str] | tuple[str, ...]) -> UnknownName:
    return UnknownName(f"unknown {kind} {value!r}; valid: {', '.join(valid)}")


def system_names() -> list[str]:
    """Registered training systems, read from the ``@SYSTEMS.register`` lines without importing."""
    folder = resources.files("cjkv_phon.training") / "systems"
    names = set()
    for entry in folder.iterdir():
        if entry.name.endswith(".py"):
            names.update(_REGISTER.findall(entry.read_text(encoding="utf-8")))
    return sorted(names)


def variant_names() -> list[str]:
    """Names ``cjkv bench --model`` accepts (the variants table, in file order)."""
    from cjkv_phon.bench.variants import load_variants  # yaml and dataclasses only

    return list(load_variants())


def preset_names() -> list[str]:
    """Packaged preset names (``benchmarks/presets/*.yaml``)."""
    from cjkv_phon.bench.presets import PRESETS_DIR

    return sorted(p.stem for p in PRESETS_DIR.glob("*.yaml"))


def pair_names() -> list[str]:
    """Every ``<src>-<tgt>`` of two different languages."""
    from cjkv_phon.schema import LANGS  # imports pyarrow: not at --help time

    return [f"{a}-{b}" for a in LANGS for b in LANGS if a != b]


def check(kind: str, value: str, valid: list[str] | tuple[str, ...]) -> str:
    """``value`` if valid, else :class:`UnknownName` listing the valid ones."""
    if value not in valid:
        raise _unknown(kind, value, valid)
    return value


def check_task(task: str) -> str:
    from cjkv_phon.schema import TASKS

    return check("task", task, TASKS)


def check_pair(pair: str) -> str:
    return check("pair", pair, pair_names())


def check_system(name: str) -> str:
    return check("model", name, system_names())


def check_variant(name: str) -> str:
    return check("model", name, variant_names())


def check_preset(name: str) -> str:
    """A packaged preset name, or an existing ``.yaml`` file."""
    path = Path(name)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        return name
    return check("preset", name, [*preset_names(), "<a preset .yaml file>"])


def check_backbone(name: str) -> str:
    """A named backbone, an existing model folder, or a hub id; anything else lists the valid ones."""
    if name in (DEFAULT_BACKBONE, *TINY_BACKBONES, *HUB_BACKBONES) or Path(name).expanduser().is_dir():
        return name
    if re.fullmatch(r"[\w.-]+/[\w.-]+", name) and not Path(name).exists():
        return name  # org/name: a hub id (downloads when online)
    raise _unknown("backbone", name, [DEFAULT_BACKBONE, *TINY_BACKBONES, *HUB_BACKBONES,
                                      "a local model folder", "a hub id org/name"])
