"""The `paper` preset on PAN-X zh->vi (finetune vs phonexl, one seed, full data) inside a wall-clock budget.

Usage (benchmarks/gpu/run.sh calls it after installing and writing the backbone):

    python benchmarks/gpu/paper_zh_vi.py --backbone ~/.cache/cjkv/backbones/multilingual-e5-small \
        --budget-s 480 --started-at <unix time the whole job started>

Stages, each timed: build only the data the runs read (PAN-X zh and vi, all splits, ``build_data``),
the zh-vi pivot dictionary (``build_dict``), then the grid through ``load_preset("paper", ...)`` and
``run_bench`` with the project's trainer. Nothing here re-implements training or evaluation.

Time guard: the budget (default 480 s = 8 min) counts from ``--started-at`` (the install and backbone
steps of run.sh included). Before each run, what is left, minus ``--tail-s`` per remaining run (model
load, the last source-dev evaluation and the final evaluation of four full sets), is shared between
the remaining systems in proportion to their cost per step (``STEP_COST``: phonexl ~1.9x finetune,
benchmarks/results/bench_train.json); the run gets that share as the trainer's ``deadline``. Past it
the trainer stops after the current step, evaluates source dev, scores the best weights and records
``time_budget.deadline_reached``. A run whose share is below ``--min-train-s`` is not started (status
``failed`` with the reason). The results JSON is rewritten after every run, so even a killed job
leaves what finished. ``guard`` in the JSON says whether any of this fired.

Output: ``$OUT/paper_zh_vi.json`` if ``$OUT`` is set, else ``benchmarks/results/gpu/paper_zh_vi.json``
(``--out`` overrides), plus each run's full ``results.json`` beside it as ``<run id>.json``. Bulky
outputs (built parquet, checkpoints, predictions) stay under ``--work`` (default ``build/gpu``).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any, Callable, Sequence

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))           # run as a script from a checkout without installing too

from cjkv_phon.atomic import write_json  # noqa: E402
from cjkv_phon.bench.presets import load_preset  # noqa: E402
from cjkv_phon.bench.runner import expand_grid, run_bench  # noqa: E402
from cjkv_phon.provenance import git_commit  # noqa: E402
from cjkv_phon.training.config import TrainConfig  # noqa: E402

SYSTEMS = ("finetune", "phonexl")
TASK, PAIR, LANGS = "panx", "zh-vi", ("zh", "vi")
# Relative cost of one training step (bench_train.json on the CPU: phonexl_over_finetune_step_after
# 1.87); used only to share the remaining budget, never to report anything.
STEP_COST = {"finetune": 1.0, "phonexl": 1.9}
RESULT_NAME = "paper_zh_vi.json"
# Kept from each run's record in the summary (the full record is written beside it).
RUN_KEYS = ("run_id", "device", "metrics", "timings", "time_budget", "selection", "peak_memory", "versions")


class OutOfTime(RuntimeError):
    """Too little of the budget is left to start a run."""


@dataclasses.dataclass
class TimeGuard:
    """The ``train_fn`` given to ``run_bench``: the project's trainer with a per-run deadline.

    Attributes:
        deadline: the whole job's end (``time.time()`` value).
        tail_s: seconds kept back per remaining run for what follows the training deadline.
        min_train_s: a run whose training share is shorter is not started (0: always started).
        order: the systems in grid order (the remaining ones share the budget).
        train: the trainer, ``(cfg, deadline=...) -> record``.
        on_run: called after each run with (system, entry) so the caller can write progress.
    """

    deadline: float
    tail_s: float
    min_train_s: float
    order: tuple[str, ...]
    train: Callable[..., dict]
    on_run: Callable[[str, dict], None]
    runs: dict[str, dict] = dataclasses.field(default_factory=dict)

    def share(self, system: str, now: float) -> float:
        """Seconds of training this run may use: its cost share of what is left after the tails."""
        remaining = self.order[self.order.index(system):]
        left = self.deadline - now - self.tail_s * len(remaining)
        return left * STEP_COST[system] / sum(STEP_COST[s] for s in remaining)

    def __call__(self, cfg: TrainConfig) -> dict:
        start = time.time()
        share = self.share(cfg.system, start)
        entry: dict[str, Any] = {"train_share_s": round(share, 1), "started_unix": round(start, 3)}
        self.runs[cfg.system] = entry
        if self.min_train_s > 0 and share < self.min_train_s:
            entry.update(status="not started", wall_s=0.0,
                         reason=f"time guard: {share:.0f} s of training left, under --min-train-s "
                                f"{self.min_train_s:.0f}")
            self.on_run(cfg.system, entry)
            raise OutOfTime(entry["reason"])
        try:
            record = self.train(cfg, deadline=start + max(share, 0.0))
        except Exception as exc:
            entry.update(status="failed", wall_s=round(time.time() - start, 2), reason=f"{type(exc).__name__}: {exc}")
            self.on_run(cfg.system, entry)
            raise
        entry.update(status="done", wall_s=round(time.time() - start, 2),
                     **{k: record.get(k) for k in RUN_KEYS})
        self.on_run(cfg.system, entry)
        return record


def device_info() -> dict[str, Any]:
    """torch, CUDA and the device name: what the run's ``device: auto`` picks (CUDA when present)."""
    import torch
    cuda = torch.cuda.is_available()
    return {"name": torch.cuda.get_device_name(0) if cuda else "cpu",
            "cuda_available": cuda, "device_count": torch.cuda.device_count() if cuda else 0,
            "torch": torch.__version__, "torch_cuda": torch.version.cuda,
            "cudnn": torch.backends.cudnn.version() if cuda else None,
            "bf16_supported": bool(cuda and torch.cuda.is_bf16_supported()),
            "python": platform.python_version(), "cpus": os.cpu_count()}


def build_inputs(args: argparse.Namespace, work: Path) -> tuple[Path, Path, dict[str, float]]:
    """Build PAN-X zh+vi and the zh-vi dictionary under ``work``; returns (data dir, dict dir, seconds)."""
    from cjkv_phon.data.build import build_data
    from cjkv_phon.data.build_plan import BuildDataConfig
    from cjkv_phon.dictionary.build import BuildDictConfig, build_dict

    seconds = {}
    t = time.time()
    release = work / "release"
    def done(f: Any) -> None:
        state = "up to date" if f.up_to_date else f"{f.seconds:.1f} s"
        print(f"  built {f.task}/{f.lang}/{f.split}: {f.sentences} sentences ({state})", flush=True)

    print(f"build-data: {TASK} {','.join(LANGS)} -> {release}", flush=True)
    build_data(BuildDataConfig(source=str(args.shared / "data" / "xtreme"), tasks=(TASK,), langs=LANGS,
                               out=str(release), workers=args.workers, max_sentences=args.max_sentences),
               on_file_done=done)
    seconds["build_data_s"] = round(time.time() - t, 2)
    t = time.time()
    dictionaries = work / "dictionaries"
    print(f"build-dict: {PAIR} -> {dictionaries}", flush=True)
    report = build_dict(BuildDictConfig(muse_dir=str(args.shared / "data" / "muse"), out_dir=str(dictionaries),
                                        pairs=(PAIR,), max_entries=args.max_dict_entries))
    seconds["build_dict_s"] = round(time.time() - t, 2)
    print(f"  {', '.join(f'{p.pair}: {p.entries} entries' for p in report.pairs)} ({seconds['build_dict_s']} s)",
          flush=True)
    return release / "data", dictionaries, seconds


def comparison(records: Sequence[dict]) -> dict[str, Any]:
    """phonexl - finetune target-test F1 with a paired bootstrap 95% interval over test sentences
    (one seed: no ASO); ``n/a`` with the reason when a run is missing or lacks counts."""
    from cjkv_phon.bench.significance import PairingError, paired_bootstrap
    from cjkv_phon.training.sentence_scores import read_counts

    done = {r.get("system"): r for r in records if r.get("bench", {}).get("status") in ("done", "skipped")}
    if set(SYSTEMS) - set(done):
        return {"status": f"n/a: finished runs {sorted(done)}; both of {list(SYSTEMS)} are needed"}
    counts = [read_counts(done[s], "target", "test") for s in ("phonexl", "finetune")]
    if any(c is None for c in counts):
        return {"status": "n/a: a run has no per-sentence counts"}
    try:
        boot = paired_bootstrap({1: counts[0]}, {1: counts[1]}, names=("phonexl", "finetune"))
    except PairingError as err:
        return {"status": f"n/a: {err}"}
    return {"status": "ok", "metric": "target test F1, phonexl - finetune (seed 1)",
            "delta": round(boot.delta, 3), "ci95": [round(boot.low, 3), round(boot.high, 3)],
            "p_value": boot.p_value, "n_resamples": boot.n_resamples, "test_sentences": boot.sentences,
            "note": "one seed: the interval is over test sentences only, not over seeds"}


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backbone", default=str(Path.home() / ".cache/cjkv/backbones/multilingual-e5-small"),
                   help="backbone folder or name (tests: tiny-bert)")
    p.add_argument("--preset", default="paper", help="preset name or YAML (default: paper)")
    p.add_argument("--epochs", type=int, default=3,
                   help="epochs per run (the paper preset says 10; 3 is what the 8-minute budget is "
                        "planned for, README); 0 = the preset's")
    p.add_argument("--budget-s", type=float, default=480.0, help="whole-job budget in seconds")
    p.add_argument("--started-at", type=float, default=None,
                   help="unix time the budget counts from (run.sh passes its own start); default: now")
    p.add_argument("--tail-s", type=float, default=45.0,
                   help="seconds kept per remaining run for model load and final evaluation")
    p.add_argument("--min-train-s", type=float, default=20.0, help="do not start a run with less training time; 0 = start whatever is left (tests)")
    p.add_argument("--shared", type=Path, default=Path(os.environ.get("CJKV_SHARED", REPO.parent / "shared")),
                   help="the shared/ folder (data/xtreme, data/muse); default $CJKV_SHARED or ../shared")
    p.add_argument("--work", type=Path, default=REPO / "build" / "gpu",
                   help="built data, dictionaries and run folders (checkpoints): not copied to --out")
    p.add_argument("--runs", type=Path, default=None,
                   help="the grid's run folders (default <work>/runs); finished runs there are reused")
    p.add_argument("--out", type=Path, default=None,
                   help="results folder; default $OUT if set, else benchmarks/results/gpu")
    p.add_argument("--workers", type=int, default=min(6, os.cpu_count() or 1), help="build-data processes")
    p.add_argument("--max-sentences", type=int, default=None, help="first N sentences per file (tests only)")
    p.add_argument("--max-dict-entries", type=int, default=None, help="dictionary size cap (tests only)")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None, train_fn: Callable[..., dict] | None = None) -> dict[str, Any]:
    """Run everything and return the summary (also written as JSON). ``train_fn`` defaults to the trainer."""
    args = parse_args(argv)
    started = args.started_at if args.started_at is not None else time.time()
    deadline = started + args.budget_s
    out = args.out or Path(os.environ["OUT"] if os.environ.get("OUT") else REPO / "benchmarks/results/gpu")
    summary: dict[str, Any] = {
        "benchmark": "benchmarks/gpu/paper_zh_vi.py", "argv": list(sys.argv[1:] if argv is None else argv),
        "git_commit": git_commit(REPO), "device": device_info(), "complete": False,
        "budget": {"budget_s": args.budget_s, "started_unix": round(started, 3), "deadline_unix": round(deadline, 3),
                   "tail_s": args.tail_s, "min_train_s": args.min_train_s, "step_cost": STEP_COST},
        "stages": {}, "runs": {}}
    path = out / RESULT_NAME

    def save() -> None:
        summary["wall_s"] = round(time.time() - started, 2)
        write_json(path, summary)

    data_dir, dict_dir, seconds = build_inputs(args, args.work)
    summary["stages"].update(seconds)
    save()
    train = {"data_dir": str(data_dir), "dictionary_dir": str(dict_dir)}
    if args.epochs:
        train["epochs"] = args.epochs
    cfg = load_preset(args.preset, {"models": SYSTEMS, "tasks": (TASK,), "pairs": (PAIR,), "seeds": 1,
                                    "backbones": (args.backbone,), "retries": 0, "workers": 1,
                                    "results_dir": str(args.runs or args.work / "runs")}, train=train)
    spec = expand_grid(cfg)[0].config
    summary["preset"] = {"name": args.preset, "epochs": spec.epochs, "batch_size": spec.batch_size, "lr": spec.lr,
                         "device": spec.device, "bf16": spec.bf16, "max_train_sentences": spec.max_train_sentences,
                         "epochs_note": "the paper preset's 10 epochs, cut to fit the budget" if args.epochs else ""}

    def on_run(system: str, entry: dict) -> None:
        summary["runs"][system] = entry
        save()

    from cjkv_phon.training.trainer import train as project_train
    guard = TimeGuard(deadline, args.tail_s, args.min_train_s, SYSTEMS, train_fn or project_train, on_run)
    t = time.time()
    records = run_bench(cfg, guard)
    summary["stages"]["train_s"] = round(time.time() - t, 2)
    for record in records:
        status = record["bench"]["status"]
        system = record.get("system") or record["bench"]["variant"]
        if status in ("done", "skipped"):
            write_json(out / f"{record['run_id']}.json", record)
        if status == "skipped":           # finished by an earlier call with the same --work: reused
            summary["runs"][system] = {"status": "done", "reused": True, **{k: record.get(k) for k in RUN_KEYS}}
        summary["runs"].setdefault(system, {})["bench_status"] = status
    fired = {s: r.get("reason") if r.get("status") == "not started" else "deadline reached during training"
             for s, r in summary["runs"].items()
             if r.get("status") == "not started" or (r.get("time_budget") or {}).get("deadline_reached")}
    summary["guard"] = {"fired": bool(fired), "runs": fired,
                        "over_budget_s": round(max(0.0, time.time() - deadline), 2)}
    summary["failed"] = {s: r.get("reason") for s, r in summary["runs"].items() if r.get("status") == "failed"}
    summary["comparison"] = comparison(records)
    summary["complete"] = (all(r["bench"]["status"] in ("done", "skipped") for r in records)
                           and not fired and not summary["failed"])
    save()
    print(f"{path}: complete={summary['complete']} guard_fired={bool(fired)} wall {summary['wall_s']} s on "
          f"{summary['device']['name']}")
    for system, run in summary["runs"].items():
        f1 = ((run.get("metrics") or {}).get("target") or {}).get("test", {}).get("f1")
        steps = run.get("time_budget") or {}
        print(f"  {system}: {run.get('status')} in {run.get('wall_s')} s, steps {steps.get('steps')}/"
              f"{steps.get('planned_steps')}, target test F1 {f1}")
    return summary


if __name__ == "__main__":
    main()
