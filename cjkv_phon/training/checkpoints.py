"""Checkpoints: the resumable state of a run (``state.pt``) and the best weights selected on source dev.

Determinism and resume: a checkpoint (model, optimizer, scheduler, step, early-stopping state, RNG
states) is written under ``<run_dir>/checkpoint`` at every evaluation and when ``max_steps`` stops a run;
rerunning the same command resumes there and reproduces the uninterrupted run on the CPU, because every
random draw of a step is re-seeded from ``(cfg.seed, step)`` by the loop. A checkpoint is tied to its
run's config hash so that a changed setting never resumes someone else's weights.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from accelerate import Accelerator

from cjkv_phon.atomic import atomic_path, write_text
from cjkv_phon.training.config import TrainConfig
from cjkv_phon.training.model import PhoneXLModel
from cjkv_phon.training.results import run_config_hash

log = logging.getLogger(__name__)
HASH_NAME = "config_hash.txt"


@dataclass
class TrainState:
    """What early stopping and resume need besides the weights."""

    step: int = 0
    best_f1: float = -1.0
    bad_evals: int = 0
    stopped_early: bool = False
    history: list[dict[str, Any]] = field(default_factory=list)
    losses: list[dict[str, float]] = field(default_factory=list)   # per step: the logged loss components


def save_torch(path: Path, obj: Any) -> None:
    """Write ``obj`` with ``torch.save`` atomically: a killed run never leaves half a checkpoint."""
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def save_checkpoint(run_dir: Path, cfg: TrainConfig, model: PhoneXLModel, optimizer, scheduler,
                    state: TrainState, accelerator: Accelerator) -> None:
    """Write ``<run_dir>/checkpoint/state.pt``: weights, optimizer, scheduler, RNGs, loop state."""
    if accelerator.is_main_process:
        kind, keys, pos, has_gauss, cached = np.random.get_state()
        # Beside it, in plain text and first: checked before the checkpoint itself is read at all.
        write_text(run_dir / "checkpoint" / HASH_NAME, run_config_hash(cfg) + "\n")
        save_torch(run_dir / "checkpoint" / "state.pt", {
            "config_hash": run_config_hash(cfg), "model": model.state_dict(),
            "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
            "state": vars(state).copy(),
            "rng": {"python": random.getstate(),
                    # numpy's state as plain values and a tensor: weights_only=True loads it
                    "numpy": (str(kind), torch.from_numpy(keys.astype(np.int64)), int(pos),
                              int(has_gauss), float(cached)),
                    "torch": torch.get_rng_state(),
                    "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None}})
    accelerator.wait_for_everyone()


def load_checkpoint(run_dir: Path, cfg: TrainConfig, model: PhoneXLModel, optimizer,
                    scheduler) -> TrainState:
    """Resume from ``<run_dir>/checkpoint/state.pt`` if it exists, else a fresh state.

    A checkpoint is a file from elsewhere as far as this process knows: its config hash (a text file
    beside it) is checked before it is opened, and it is read with ``weights_only=True``, which
    unpickles tensors and plain containers only, never code (a planted ``state.pt`` cannot run
    anything).

    Raises:
        ValueError: the checkpoint belongs to different settings (another config hash), has no hash
            file, or is not a readable weights-only checkpoint (empty, truncated, foreign).
    """
    path = run_dir / "checkpoint" / "state.pt"
    if not path.is_file():
        return TrainState()
    hash_path = path.with_name(HASH_NAME)
    try:
        found = hash_path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        raise ValueError(f"{path}: no readable {hash_path.name} beside it, so it cannot be shown to "
                         "belong to this run; delete the checkpoint folder or use another --out folder") from None
    if found != run_config_hash(cfg):
        raise ValueError(f"{path} was written by a run with other settings (config hash "
                         f"{found[:80]} != {run_config_hash(cfg)}); use another --out folder")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        if ckpt["config_hash"] != found:
            raise ValueError("its config hash differs from the hash file's")
    except Exception as err:  # noqa: BLE001 - any unreadable checkpoint is one clear error
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(f"{path}: not a readable checkpoint of this run ({first[:200]}); delete "
                         "the checkpoint folder to start afresh") from None
    model.load_state_dict(ckpt["model"])
    optimizer.load_state_dict(ckpt["optimizer"])
    scheduler.load_state_dict(ckpt["scheduler"])
    random.setstate(ckpt["rng"]["python"])
    kind, keys, pos, has_gauss, cached = ckpt["rng"]["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(ckpt["rng"]["torch"])
    if ckpt["rng"]["cuda"] is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(ckpt["rng"]["cuda"])
    state = TrainState(**ckpt["state"])
    log.info("resuming %s at step %d (best source dev F1 %.2f)", run_dir.name, state.step, state.best_f1)
    return state


def load_best(run_dir: Path, model: PhoneXLModel) -> None:
    """Load the best weights selected on source dev (kept as they are if no evaluation ran)."""
    path = run_dir / "checkpoint" / "best_model.pt"
    if path.is_file():
        model.load_state_dict(torch.load(path, map_location=next(model.parameters()).device,
                                         weights_only=True))
