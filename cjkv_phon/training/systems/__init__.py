"""Training methods, one file each; importing this package registers every one of them in ``SYSTEMS``.

Every module in this folder is imported here, so adding a method is adding one file that decorates its
``System`` subclass with ``@SYSTEMS.register("name")`` (see ``cjkv_phon.training.system``).
"""

from __future__ import annotations

import importlib
import pkgutil

from cjkv_phon.training.system import SYSTEMS, System

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["SYSTEMS", "System"]
