"""The benchmark grid: expand a ``BenchConfig`` into runs, then train each one that is not done yet.

Every run goes through the same trainer (``train(cfg) -> results record``). The runner adds what the
leaderboard needs (variant name, resources, preset) under the record's ``bench`` key and rewrites the
record atomically. Layout::

    <results>/<backbone>/<variant>/<trainer run id>/results.json   a finished run
    <results>/<backbone>/<variant>/<trainer run id>/error.json     the last failure of a run
    <results>/bench_summary.json                                   the last bench call: config, run statuses

The variant level keeps ablations apart: ``phonexl-mlm-only`` and ``phonexl`` both train the ``phonexl``
system, so the trainer gives them the same run id.

Re-running the same grid is cheap and safe: a run whose ``results.json`` carries the same config hash is
skipped, a failed run is tried again (``retries`` extra attempts each time), and an interrupted run
resumes from the trainer's own checkpoints in its run folder. Several bench processes may work on the
same grid at once: each run is claimed with a lock file (``lock.py``), and a run claimed by another live
process is skipped with status ``busy``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from rich.progress import Progress

from cjkv_phon.atomic import write_json
from cjkv_phon.bench.code_record import RecordingCode, grid_code
from cjkv_phon.bench.lock import LOCK_NAME, read_holder, run_lock
from cjkv_phon.bench.presets import BenchConfig
from cjkv_phon.bench.variants import Variant, get_variant
from cjkv_phon.provenance import git_commit
from cjkv_phon.recipes import config_to_dict
from cjkv_phon.schema import run_id
from cjkv_phon.training.config import TrainConfig
from cjkv_phon.training.results import run_config_hash

log = logging.getLogger(__name__)
TrainFn = Callable[[TrainConfig], dict]


@dataclass(frozen=True)
class RunSpec:
    """One grid cell, ready to train.

    Attributes:
        variant: the named grid entry (system + overrides).
        config: the complete training config (its ``out_dir`` is this variant's folder).
        bench_id: ``<task>_<src>-<tgt>_<variant>_s<seed>``, the id shown in tables and logs.
    """

    variant: Variant
    config: TrainConfig
    bench_id: str

    @property
    def run_dir(self) -> Path:
        """The trainer's folder for this run: ``<out_dir>/<run id of the trainer>``."""
        c = self.config
        return Path(c.out_dir) / run_id(c.task, c.source_lang, c.target_lang, c.system, c.seed)

    @property
    def config_hash(self) -> str:
        """The trainer's own hash of the resolved config (``results.run_config_hash``): the record of
        a finished run carries it, so equal hashes mean the run is done with these exact settings."""
        return run_config_hash(self.config.resolved())


def _is_local_folder(backbone: str) -> bool:
    """Whether ``backbone`` names a folder on disk rather than a hub id or a named backbone."""
    return backbone.startswith(("/", ".", "~")) or Path(backbone).expanduser().is_dir()


def backbone_slug(backbone: str) -> str:
    """A folder name for a backbone, one path part, unique per backbone.

    A named backbone (``tiny-bert``, ``multilingual-e5-small``) keeps its name and a hub ``org/name``
    becomes ``org--name``. A local folder is its last path part plus a short hash of its absolute
    path: two folders both called ``tiny`` (``/x/A/tiny``, ``/x/B/tiny``) must not share a results
    folder, where the second grid would overwrite the first one's results.
    """
    if _is_local_folder(backbone):
        folder = Path(backbone).expanduser().resolve()
        digest = hashlib.sha256(str(folder).encode("utf-8")).hexdigest()[:8]
        return f"{folder.name or 'root'}-{digest}"
    slug = backbone.replace("/", "--")
    if slug in ("", ".", "..") or "\\" in slug or "\0" in slug:
        raise ValueError(f"backbone {backbone!r} cannot name a results folder")
    return slug


def inside(folder: Path, path: Path) -> Path:
    """``path`` if it lies inside ``folder`` (both resolved), else ``ValueError``: nothing a preset
    or a flag says may make the bench write outside its results folder."""
    if not path.resolve().is_relative_to(folder.resolve()):
        raise ValueError(f"{path} is outside the results folder {folder}")
    return path


def expand_grid(cfg: BenchConfig) -> list[RunSpec]:
    """Every run of the grid, in the order the bench takes them (``cfg.order``).

    ``cell``: backbone, task, pair, seed, model (a cell's seeds together); ``seed``: backbone, seed,
    task, pair, model, so seed 1 of every cell runs before any seed 2 (a grid longer than a session
    has every cell at the same number of seeds when it stops).
    """
    specs = []
    cells = [(task, pair) for task in cfg.tasks for pair in cfg.pairs]
    for backbone in cfg.backbones:
        seeds = range(1, cfg.seeds + 1)
        if cfg.order == "seed":
            keys = [(task, pair, seed) for seed in seeds for task, pair in cells]
        else:
            keys = [(task, pair, seed) for task, pair in cells for seed in seeds]
        for task, pair, seed in keys:
            src, tgt = pair.split("-")
            for model in cfg.models:
                variant = get_variant(model)
                out_dir = inside(cfg.results_path, cfg.results_path / backbone_slug(backbone) / variant.name)
                settings = {**cfg.train, **cfg.task_train.get(task, {}), **cfg.cell_train.get(f"{task}/{pair}", {}),
                            **cfg.backbone_train.get(backbone, {}), **variant.overrides}
                train_cfg = TrainConfig(**settings, task=task, source_lang=src, target_lang=tgt,
                                        system=variant.system, seed=seed, backbone=backbone,
                                        out_dir=str(out_dir))
                specs.append(RunSpec(variant, train_cfg, run_id(task, src, tgt, model, seed)))
    return specs


def finished_record(spec: RunSpec) -> dict | None:
    """The run's results record if it finished with this exact config, else None."""
    path = spec.run_dir / "results.json"
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        log.warning("%s: unreadable results, the run will be redone", path)
        return None
    return record if isinstance(record, dict) and record.get("config_hash") == spec.config_hash else None


def _bench_block(spec: RunSpec, preset: str, status: str, attempts: int) -> dict[str, Any]:
    """What the runner adds to a record: the grid entry, resources and how the run went."""
    return {"bench_id": spec.bench_id, "variant": spec.variant.name, "label": spec.variant.label,
            "resources": spec.variant.resources, "preset": preset, "config_hash": spec.config_hash,
            "status": status, "attempts": attempts}


def run_one(spec: RunSpec, train_fn: TrainFn, preset: str, retries: int) -> dict:
    """Train one run, retrying up to ``retries`` times; the failure is recorded, never raised.

    Returns:
        The results record with a ``bench`` block whose ``status`` is ``done``, ``failed``, or
        ``stopped`` (the trainer hit ``max_steps`` and checkpointed; the next bench resumes it).
    """
    error = ""
    for attempt in range(1, retries + 2):
        try:
            record = dict(train_fn(spec.config))
        except Exception as exc:  # noqa: BLE001 - any training failure is recorded and retried
            error = f"{type(exc).__name__}: {exc}"
            log.warning("%s: attempt %d/%d failed: %s", spec.bench_id, attempt, retries + 1, error)
            write_json(spec.run_dir / "error.json", {
                **_bench_block(spec, preset, "failed", attempt), "error": error,
                "traceback": traceback.format_exc(), "config": config_to_dict(spec.config),
                "git_commit": git_commit()})
            continue
        if record.get("status") == "stopped":      # max_steps reached: checkpointed, not finished
            record["bench"] = _bench_block(spec, preset, "stopped", attempt)
            return record
        record["bench"] = _bench_block(spec, preset, "done", attempt)
        write_json(spec.run_dir / "results.json", record)
        (spec.run_dir / "error.json").unlink(missing_ok=True)  # a stale failure would mislead readers
        return record
    return {"bench": {**_bench_block(spec, preset, "failed", retries + 1), "error": error}}


def _reuse_finished(spec: RunSpec, preset: str) -> dict | None:
    """The record of a run finished earlier with the same config, marked ``skipped``; else None."""
    record = finished_record(spec)
    if record is None:
        return None
    if "bench" not in record:       # the trainer finished but the bench was stopped before its block
        record["bench"] = _bench_block(spec, preset, "done", 1)
        write_json(spec.run_dir / "results.json", record)
    log.info("%s: finished earlier with the same config, skipped", spec.bench_id)
    return {**record, "bench": {**record["bench"], "status": "skipped"}}


def _busy(spec: RunSpec, preset: str) -> dict:
    """The record of a run another live process is training (its lock exists): skipped, status ``busy``."""
    lock = spec.run_dir / LOCK_NAME
    holder = read_holder(lock) or {}
    log.info("%s: being trained by pid %s on %s (%s), skipped; delete that file if no such process runs",
             spec.bench_id, holder.get("pid"), holder.get("host"), lock)
    return {"bench": {**_bench_block(spec, preset, "busy", 0), "error": f"locked by {lock}"}}


def _default_train() -> TrainFn:
    """The project's trainer, imported when first needed: the leaderboard imports this module and
    should not pay for loading the training stack (accelerate, transformers)."""
    from cjkv_phon.training.trainer import train
    return train


def set_torch_threads(threads: int) -> None:
    """Use ``threads`` intra-op torch threads in this process (0 = leave torch's default)."""
    if threads > 0:
        import torch                  # imported here: the leaderboard imports this module
        torch.set_num_threads(threads)


def _worker(cfg: BenchConfig, train_fn: TrainFn | None) -> list[dict]:
    """One of ``cfg.workers`` bench processes: the whole grid, sharing it through the run locks."""
    logging.basicConfig(level=logging.INFO, format="%(processName)s %(message)s")
    return run_bench(dataclasses.replace(cfg, workers=1), train_fn, write=False)


_PREFERENCE = ("done", "failed", "stopped", "skipped", "busy")


def run_parallel(cfg: BenchConfig, train_fn: TrainFn | None = None) -> list[dict]:
    """Run the grid in ``cfg.workers`` processes at once (``cfg.threads`` torch threads each).

    Every process walks the whole grid; a run is trained by whichever claims its lock first and is
    ``busy`` for the others, so each run is trained once. The records are merged per run (the one
    that trained it wins over ``busy``) and one summary is written. ``train_fn`` must be picklable
    (the processes are spawned); None is the project's trainer.
    """
    import multiprocessing
    ctx = multiprocessing.get_context("spawn")      # no fork of a process that may hold torch threads
    with ctx.Pool(cfg.workers) as pool:
        per_worker = pool.starmap(_worker, [(cfg, train_fn)] * cfg.workers)
    merged = [min(records, key=lambda r: _PREFERENCE.index(r["bench"]["status"]))
              for records in zip(*per_worker)]
    write_summary(cfg, merged)
    return merged


def run_bench(cfg: BenchConfig, train_fn: TrainFn | None = None, show_progress: bool = False,
              write: bool = True) -> list[dict]:
    """Run the grid: skip finished runs, train the others with retries, write a summary.

    With ``cfg.workers > 1`` the grid is shared by that many processes (``run_parallel``); each
    process uses ``cfg.threads`` torch threads (benchmarks/bench_threads.py measures which layout
    trains more runs per hour).

    Args:
        cfg: the grid.
        train_fn: ``TrainConfig -> results record`` (default: ``cjkv_phon.training.trainer.train``),
            which must write ``<out_dir>/<run id>/results.json``; the runner rewrites it with its block.
        show_progress: draw a rich progress bar for the grid (the CLI turns it on).

        write: write ``bench_summary.json`` (the processes of ``run_parallel`` leave it to their parent).

    Raises:
        DirtyTree: the code differs from its commit and ``cfg.allow_dirty`` is off (``code_record.py``).

    Returns:
        One record per grid run, in grid order; ``record["bench"]["status"]`` is ``done``,
        ``skipped`` (finished earlier with the same config), ``busy`` (another process holds its lock),
        ``stopped`` (``max_steps``) or ``failed`` (with ``error``).
    """
    code = grid_code(cfg.results_path, cfg.allow_dirty)       # DirtyTree before anything is trained
    if cfg.workers > 1:
        return run_parallel(cfg, train_fn)
    set_torch_threads(cfg.threads)
    train_fn = RecordingCode(train_fn or _default_train(), code)     # every trained run records the code
    specs = expand_grid(cfg)
    records: list[dict] = []
    with Progress(disable=not show_progress) as progress:
        bar = progress.add_task(f"bench {cfg.preset}", total=len(specs))
        for spec in specs:
            progress.update(bar, description=spec.bench_id)
            start = time.perf_counter()
            record = _reuse_finished(spec, cfg.preset)
            if record is None:
                with run_lock(spec.run_dir) as lock:
                    # Checked again under the lock: another process may have finished it meanwhile.
                    record = _reuse_finished(spec, cfg.preset) if lock is not None else _busy(spec, cfg.preset)
                    if record is None:
                        record = run_one(spec, train_fn, cfg.preset, cfg.retries)
                        log.info("%s: %s in %.1f s", spec.bench_id, record["bench"]["status"],
                                 time.perf_counter() - start)
            records.append(record)
            progress.advance(bar)
    if write:
        write_summary(cfg, records)
    return records


def write_summary(cfg: BenchConfig, records: list[dict]) -> Path:
    """Write ``<results>/bench_summary.json``: the grid's config and each run's status."""
    runs = [{k: r["bench"].get(k) for k in ("bench_id", "variant", "status", "attempts", "error")}
            for r in records]
    return write_json(cfg.results_path / "bench_summary.json",
                      {"config": config_to_dict(cfg), "git_commit": git_commit(), "runs": runs})
