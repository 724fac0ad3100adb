"""Training and evaluation throughput in fp32 and bf16 autocast, finetune and PhoneXL (a script, not a test).

Usage (from the project root; data from ``cjkv build-data --tasks panx --langs zh,vi``, the dictionary
from ``cjkv build-dict --pair zh-vi``)::

    .venv/bin/python benchmarks/bench_train.py [--backbone multilingual-e5-small] [--threads 1]
        [--pool 256] [--eval-sentences 2000] [--data-dir D] [--dictionary-dir D]
        [--eval-batch-sizes 64] [--out benchmarks/results/bench_train.json]

Everything runs in ONE process and is interleaved, so that whatever else loads the machine hits every
variant alike (a loaded machine lowers all figures, not their ratios):

* matmul peaks: ``torch.mm`` at the encoder's shapes (2048 x 384 by 384 x 384, 384 x 1536, 1536 x 384)
  in fp32 and bf16, alternating, best of ``--peak-rounds`` rounds; measured at the start and the end of
  the run, the higher kept: this core's attainable GFLOP/s in each precision;
* training: four variants, (finetune, phonexl) x (fp32, bf16), on the SAME real batches (a fixed sample
  of PAN-X zh training sentences split into chunks, ``--pool`` chunks, seed 1's length-bucketed batches of
  16, the trainer's own order). Each batch is stepped by all four variants, the order rotating from
  batch to batch. A step is exactly the trainer's (``trainer.train_step`` with the run's precision:
  prepare, losses under autocast, backward, clipping) + fused AdamW; the two precisions of a system
  share one model (its weights are fp32 in both; timing does not depend on their values). One untimed
  warm-up step per variant first (oneDNN builds its bf16/AMX kernels on first use);
* evaluation: ``--eval-sentences`` PAN-X vi test sentences (the trainer's fixed subsample), in slices
  of 250, each slice predicted by every variant (and every ``--eval-batch-sizes`` entry) in rotating
  order, through ``predict_tags``. The fraction of tags on which bf16 and fp32 agree (same weights) is
  reported beside the speed.

Reported per variant: sentences/s (wall and CPU), s/step, the encoder's achieved GFLOP/s (6 x N_enc x
padded positions entering the encoder for training, 2 x for evaluation; N_enc = the parameters of the
transformer layers, embeddings excluded; over the whole step's wall time, so an upper bound on nothing)
and its fraction of the same-precision matmul peak, and peak RSS during the variant's steps (Linux
VmHWM, reset before each step; every model of the run is resident, so differences between variants are
their activations and autocast's bf16 weight copies). The summary has the bf16/fp32 ratios, the
PhoneXL/finetune step ratio per precision and the issue's targets.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import resource
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SYSTEMS = ("finetune", "phonexl")
PRECISIONS = ("fp32", "bf16")
CPU_PRESET = dict(lr=5e-5, head_lr=1e-3, batch_size=16, max_subwords=128, warmup_ratio=0.1, device="cpu")
MATMUL_SHAPES = ((2048, 384, 384), (2048, 384, 1536), (2048, 1536, 384))   # (m, k, n) of the encoder
TARGETS = {"train_speedup": 1.5, "eval_speedup": 1.8, "encoder_share_of_bf16_peak": 0.6,
           "phonexl_over_finetune_step": 1.6}
STATUS = Path("/proc/self/status")


def reset_peak_rss() -> bool:
    """Reset this process's peak RSS (Linux ``clear_refs`` 5); False where that is not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_rss_mib() -> float:
    """Peak RSS since the last reset (VmHWM), else since the process started (``ru_maxrss``)."""
    if STATUS.is_file():
        found = re.search(r"VmHWM:\s+(\d+) kB", STATUS.read_text())
        if found:
            return int(found.group(1)) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def matmul_peaks(rounds: int, reps: int) -> dict[str, Any]:
    """GFLOP/s of ``torch.mm`` at the encoder's shapes, fp32 and bf16 alternating; best round per cell."""
    best: dict[tuple[str, tuple[int, int, int]], float] = {}
    operands = {(p, s): (torch.randn(s[0], s[1]).to(dt), torch.randn(s[1], s[2]).to(dt))
                for p, dt in (("fp32", torch.float32), ("bf16", torch.bfloat16)) for s in MATMUL_SHAPES}
    for a, b in operands.values():                                        # warm-up (kernel creation)
        torch.mm(a, b)
    for _ in range(rounds):
        for (p, s), (a, b) in operands.items():
            start = time.perf_counter()
            for _ in range(reps):
                torch.mm(a, b)
            gflops = 2 * s[0] * s[1] * s[2] * reps / (time.perf_counter() - start) / 1e9
            best[(p, s)] = max(best.get((p, s), 0.0), gflops)
    out: dict[str, Any] = {}
    for p in PRECISIONS:
        cells = {"x".join(map(str, s)): round(best[(p, s)], 1) for s in MATMUL_SHAPES}
        out[p] = {"by_shape": cells, "peak_gflop_per_s": max(cells.values())}
    return out


@dataclass
class Variant:
    """One (system, precision) pair's counters."""

    system: str
    precision: str
    step_s: list[float] = field(default_factory=list)
    cpu_s: float = 0.0
    sentences: int = 0
    positions: int = 0
    peak_rss_mib: float = 0.0
    eval: dict[int, dict[str, float]] = field(default_factory=dict)    # eval batch size -> counters

    @property
    def name(self) -> str:
        return f"{self.system}-{self.precision}"


class SystemRun:
    """One system built as the trainer builds it, with its chunks, batches and optimizer."""

    def __init__(self, system_name: str, args: argparse.Namespace) -> None:
        from cjkv_phon.training.batches import split_examples
        from cjkv_phon.training.bucketing import epoch_batches, subword_length
        from cjkv_phon.training.config import TrainConfig
        from cjkv_phon.training.system import Stage
        from cjkv_phon.training.optimizer import make_optimizer
        from cjkv_phon.training.run_data import repair_iob
        from cjkv_phon.training.trainer import _accelerator, build_run
        from cjkv_phon.training.trim import trim_run_vocabulary

        self.cfg = TrainConfig(system=system_name, backbone=args.backbone, data_dir=args.data_dir,
                               dictionary_dir=args.dictionary_dir, max_train_sentences=args.pool,
                               max_eval_sentences=16, max_test_sentences=args.eval_sentences,
                               precision="fp32", **CPU_PRESET).resolved()
        torch.manual_seed(0)
        data, self.collator, self.system, backbone = build_run(self.cfg)
        self.model = self.system.build_model(backbone)
        self.vocabulary = trim_run_vocabulary(self.cfg, data, self.collator, self.system, self.model)
        self.accelerator = _accelerator(self.cfg)
        self.optimizer = make_optimizer(self.model, self.cfg, self.accelerator.device)
        chunks = [replace(c, tags=repair_iob(c.tags)) for c in split_examples(data.train, self.collator)]
        self.chunks = chunks[:args.pool]
        self.stage = Stage("train", 1)
        self.system.begin_stage(self.stage, self.model, self.chunks, lambda exs: [])
        lengths = [subword_length(self.collator, c) for c in self.chunks]
        self.batches = epoch_batches(lengths, self.cfg.batch_size, (self.cfg.seed, 0, 0), self.cfg.length_bucket)
        self.test = data.evals[("target", "test")]
        self.encoder_params = sum(p.numel() for p in self.model.layers.parameters())
        self.positions = 0
        self.model.layers[0].register_forward_pre_hook(self._count)

    def _count(self, _module, inputs) -> None:
        self.positions += inputs[0].shape[0] * inputs[0].shape[1]

    def step(self, k: int, idx: list[int], precision: str) -> None:
        """One optimizer step as the trainer takes it, in ``precision``."""
        from cjkv_phon.training.trainer import train_step
        cfg = replace(self.cfg, precision=precision)
        train_step(self.system, self.model, [[self.chunks[j] for j in idx]], self.stage, k, cfg, self.accelerator)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)

    def predict(self, examples, precision: str, batch_size: int) -> list[list[str]]:
        from cjkv_phon.training.evaluation import predict_tags
        return predict_tags(self.model, self.collator, examples, batch_size, self.accelerator, precision)


def time_training(runs: dict[str, SystemRun], variants: list[Variant]) -> None:
    """Every batch stepped by every variant, the order rotating; fills the variants' counters."""
    for v in variants:                                                        # warm-up, untimed
        runs[v.system].step(0, runs[v.system].batches[-1], v.precision)
    n = min(len(r.batches) for r in runs.values())
    for k in range(n):
        for v in variants[k % len(variants):] + variants[:k % len(variants)]:
            run = runs[v.system]
            idx = run.batches[k]
            run.positions = 0
            reset_peak_rss()
            wall, cpu = time.perf_counter(), time.process_time()
            run.step(k + 1, idx, v.precision)
            v.step_s.append(time.perf_counter() - wall)
            v.cpu_s += time.process_time() - cpu
            v.peak_rss_mib = max(v.peak_rss_mib, peak_rss_mib())
            v.sentences += len(idx)
            v.positions += run.positions
        logging.info("batch %d/%d: %s", k + 1, n, ", ".join(f"{v.name} {v.step_s[-1]:.2f}s" for v in variants))


def time_evaluation(runs: dict[str, SystemRun], variants: list[Variant], batch_sizes: list[int],
                    slice_size: int = 250) -> dict[str, float]:
    """Every slice of the test sample predicted by every (variant, batch size), rotating; returns the
    fraction of tags on which bf16 and fp32 agree, per system."""
    cells = [(v, b) for v in variants for b in batch_sizes]
    tags: dict[tuple[str, str], list[str]] = {}
    test = runs[SYSTEMS[0]].test
    for s, start in enumerate(range(0, len(test), slice_size)):
        for v, b in cells[s % len(cells):] + cells[:s % len(cells)]:
            run = runs[v.system]
            examples = run.test[start:start + slice_size]
            run.positions = 0
            wall, cpu = time.perf_counter(), time.process_time()
            pred = run.predict(examples, v.precision, b)
            counters = v.eval.setdefault(b, {"wall_s": 0.0, "cpu_s": 0.0, "sentences": 0, "positions": 0})
            counters["wall_s"] += time.perf_counter() - wall
            counters["cpu_s"] += time.process_time() - cpu
            counters["sentences"] += len(examples)
            counters["positions"] += run.positions
            if b == batch_sizes[0]:
                tags.setdefault((v.system, v.precision), []).extend(t for row in pred for t in row)
        logging.info("evaluation: %d/%d sentences", min(start + slice_size, len(test)), len(test))
    agree = {}
    for system in SYSTEMS:
        a, b = tags.get((system, "fp32"), []), tags.get((system, "bf16"), [])
        if a and len(a) == len(b):
            agree[system] = round(sum(x == y for x, y in zip(a, b)) / len(a), 5)
    return agree


def interleaved_ab(run: SystemRun, arms: dict[str, Callable[[], None]], precision: str,
                   eval_sentences: int = 500) -> dict[str, Any]:
    """Two or more settings of one system as an interleaved A/B: every batch is stepped, and every slice
    of ``eval_sentences`` test sentences predicted, under each arm (``arms[name]()`` switches to it) in
    rotating order; reports s/step, evaluation seconds and each arm's tag agreement with the first arm.
    The first call of each arm (warm-up: kernel creation, compilation) is timed separately."""
    names = list(arms)
    out: dict[str, Any] = {name: {"step_s": [], "eval_s": 0.0} for name in names}
    tags: dict[str, list[str]] = {}
    for name in names:
        arms[name]()
        start = time.perf_counter()
        run.step(0, run.batches[-1], precision)
        out[name]["warmup_s"] = round(time.perf_counter() - start, 2)
    for k, idx in enumerate(run.batches):
        for name in names[k % len(names):] + names[:k % len(names)]:
            arms[name]()
            start = time.perf_counter()
            run.step(k + 1, idx, precision)
            out[name]["step_s"].append(time.perf_counter() - start)
    test = run.test[:eval_sentences]
    for s, lo in enumerate(range(0, len(test), 250)):
        for name in names[s % len(names):] + names[:s % len(names)]:
            arms[name]()
            start = time.perf_counter()
            pred = run.predict(test[lo:lo + 250], precision, 64)
            out[name]["eval_s"] += time.perf_counter() - start
            tags.setdefault(name, []).extend(t for row in pred for t in row)
    ref = tags[names[0]]
    for name in names:
        steps = out[name].pop("step_s")
        out[name].update(s_per_step=round(sum(steps) / len(steps), 3), eval_s=round(out[name]["eval_s"], 2),
                         tag_agreement=round(sum(a == b for a, b in zip(ref, tags[name])) / len(ref), 5))
    out["precision"], out["system"] = precision, run.cfg.system
    logging.info("A/B %s", out)
    return out


def attention_arms(run: SystemRun, implementations: list[str]) -> dict[str, Callable[[], None]]:
    """Arms that set the backbone's ``_attn_implementation`` (read at every forward: transformers'
    attention and mask functions dispatch on it)."""
    config = run.model.backbone.config
    return {name: (lambda name=name: setattr(config, "_attn_implementation", name)) for name in implementations}


def compile_arms(run: SystemRun) -> dict[str, Callable[[], None]]:
    """Arms ``eager`` and ``compiled``: the transformer layers with and without ``torch.compile``
    (inductor, dynamic shapes), switched by swapping each layer's compiled call."""
    layers = list(run.model.layers)
    for layer in layers:
        layer.compile(dynamic=True)
    compiled = [layer._compiled_call_impl for layer in layers]

    def use(on: bool) -> None:
        for layer, call in zip(layers, compiled):
            layer._compiled_call_impl = call if on else None
    return {"eager": lambda: use(False), "compiled": lambda: use(True)}


def variant_row(v: Variant, run: SystemRun, peaks: dict[str, Any], batch_sizes: list[int]) -> dict[str, Any]:
    """The figures of one variant."""
    wall = sum(v.step_s)
    flop = 6 * run.encoder_params * v.positions
    gflops = flop / wall / 1e9
    row: dict[str, Any] = {
        "system": v.system, "precision": v.precision, "timed_steps": len(v.step_s), "timed_sentences": v.sentences,
        "s_per_step": round(wall / len(v.step_s), 3), "step_s": [round(t, 3) for t in v.step_s],
        "train_sentences_per_s": round(v.sentences / wall, 3), "train_sentences_per_cpu_s": round(v.sentences / v.cpu_s, 3),
        "encoder_params": run.encoder_params, "encoder_positions": v.positions,
        "encoder_gflop_per_s": round(gflops, 2),
        "encoder_share_of_peak": round(gflops / peaks[v.precision]["peak_gflop_per_s"], 3),
        "encoder_share_of_bf16_peak": round(gflops / peaks["bf16"]["peak_gflop_per_s"], 3),
        "peak_rss_mib": round(v.peak_rss_mib, 1), "vocabulary": run.vocabulary,
        "torch_threads": torch.get_num_threads(), "eval": {}}
    for b in batch_sizes:
        e = v.eval[b]
        eval_gflops = 2 * run.encoder_params * e["positions"] / e["wall_s"] / 1e9
        row["eval"][str(b)] = {"sentences": e["sentences"], "sentences_per_s": round(e["sentences"] / e["wall_s"], 2),
                               "sentences_per_cpu_s": round(e["sentences"] / e["cpu_s"], 2),
                               "encoder_gflop_per_s": round(eval_gflops, 2),
                               "encoder_share_of_peak": round(eval_gflops / peaks[v.precision]["peak_gflop_per_s"], 3)}
    row["eval_sentences_per_s"] = row["eval"][str(batch_sizes[0])]["sentences_per_s"]
    return row


def summarise(rows: dict[str, dict[str, Any]], agreement: dict[str, float]) -> dict[str, Any]:
    """bf16/fp32 ratios per system, PhoneXL/finetune step time per precision, and the targets."""
    out: dict[str, Any] = {}
    for system in SYSTEMS:
        f, b = rows[f"{system}-fp32"], rows[f"{system}-bf16"]
        out[system] = {"train_speedup": round(b["train_sentences_per_s"] / f["train_sentences_per_s"], 2),
                       "train_speedup_cpu": round(b["train_sentences_per_cpu_s"] / f["train_sentences_per_cpu_s"], 2),
                       "eval_speedup": round(b["eval_sentences_per_s"] / f["eval_sentences_per_s"], 2),
                       "encoder_share_of_bf16_peak": b["encoder_share_of_bf16_peak"],
                       "eval_tag_agreement_bf16_fp32": agreement.get(system)}
    for p in PRECISIONS:
        out[f"phonexl_over_finetune_step_{p}"] = round(rows[f"phonexl-{p}"]["s_per_step"] / rows[f"finetune-{p}"]["s_per_step"], 2)
    out["targets"] = {
        "train_speedup >= 1.5": all(out[s]["train_speedup"] >= TARGETS["train_speedup"] for s in SYSTEMS),
        "eval_speedup >= 1.8": all(out[s]["eval_speedup"] >= TARGETS["eval_speedup"] for s in SYSTEMS),
        "encoder >= 60% of the bf16 peak": all(out[s]["encoder_share_of_bf16_peak"] >= TARGETS["encoder_share_of_bf16_peak"]
                                               for s in SYSTEMS),
        "phonexl/finetune step (bf16) <= 1.6": out["phonexl_over_finetune_step_bf16"] <= TARGETS["phonexl_over_finetune_step"]}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backbone", default="multilingual-e5-small")
    parser.add_argument("--data-dir", default="releases/xtreme-cjkv-phonemic/data")
    parser.add_argument("--dictionary-dir", default="build/dictionaries")
    parser.add_argument("--pool", type=int, default=256, help="training chunks in the fixed stream")
    parser.add_argument("--eval-sentences", type=int, default=2000)
    parser.add_argument("--eval-batch-sizes", default="64", help="comma-separated; the first is the trainer's")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--attention", default="", help="e.g. sdpa,eager: an interleaved A/B of the attention "
                        "implementation (finetune, bf16) after the main measurements")
    parser.add_argument("--compile", action="store_true", help="an interleaved A/B of torch.compile on the "
                        "transformer layers (finetune, bf16) after the main measurements")
    parser.add_argument("--peak-rounds", type=int, default=5)
    parser.add_argument("--load", default="", help="a note on the machine's load, stored with the figures")
    parser.add_argument("--out", default="benchmarks/results/bench_train.json")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    torch.set_num_threads(args.threads)
    batch_sizes = [int(b) for b in args.eval_batch_sizes.split(",")]
    peaks_start = matmul_peaks(args.peak_rounds, 20)
    logging.info("matmul peaks: fp32 %.1f, bf16 %.1f GFLOP/s", peaks_start["fp32"]["peak_gflop_per_s"],
                 peaks_start["bf16"]["peak_gflop_per_s"])
    runs = {s: SystemRun(s, args) for s in SYSTEMS}
    same_batches = runs["finetune"].batches == runs["phonexl"].batches
    variants = [Variant(s, p) for s in SYSTEMS for p in PRECISIONS]
    time_training(runs, variants)
    agreement = time_evaluation(runs, variants, batch_sizes)
    factors = {}
    if args.attention:
        factors["attention"] = interleaved_ab(runs["finetune"], attention_arms(runs["finetune"], args.attention.split(",")), "bf16")
    if args.compile:
        factors["compile"] = interleaved_ab(runs["finetune"], compile_arms(runs["finetune"]), "bf16")
    peaks_end = matmul_peaks(args.peak_rounds, 20)
    peaks = {p: max((peaks_start[p], peaks_end[p]), key=lambda x: x["peak_gflop_per_s"]) for p in PRECISIONS}
    rows = {v.name: variant_row(v, runs[v.system], peaks, batch_sizes) for v in variants}
    for name, r in rows.items():
        logging.info("%-14s train %6.2f sent/s (%5.2f s/step), encoder %6.1f GFLOP/s (%3.0f%% of its peak, %3.0f%% "
                     "of bf16's), eval %6.1f sent/s, peak RSS %6.0f MiB", name, r["train_sentences_per_s"],
                     r["s_per_step"], r["encoder_gflop_per_s"], 100 * r["encoder_share_of_peak"],
                     100 * r["encoder_share_of_bf16_peak"], r["eval_sentences_per_s"], r["peak_rss_mib"])
    summary = summarise(rows, agreement)
    for system in SYSTEMS:
        s = summary[system]
        logging.info("%s bf16/fp32: training x%.2f (CPU x%.2f), evaluation x%.2f; tag agreement %s", system,
                     s["train_speedup"], s["train_speedup_cpu"], s["eval_speedup"], s["eval_tag_agreement_bf16_fp32"])
    logging.info("PhoneXL / finetune step: fp32 %.2f, bf16 %.2f", summary["phonexl_over_finetune_step_fp32"],
                 summary["phonexl_over_finetune_step_bf16"])
    logging.info("targets: %s", summary["targets"])
    from cjkv_phon.atomic import write_json
    from cjkv_phon.provenance import git_commit
    from cjkv_phon.training.precision import cpu_has_native_bf16
    write_json(args.out, {
        "variants": rows, "summary": summary, "factors": factors, "matmul_peaks": {"start": peaks_start, "end": peaks_end, "used": peaks},
        "same_batches_for_both_systems": same_batches, "git_commit": git_commit(), "device": "cpu",
        "cpu_native_bf16": cpu_has_native_bf16(), "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "torch": torch.__version__, "process_peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "load": args.load, "command": " ".join(["python", *sys.argv]), "settings": vars(args)})
    logging.info("-> %s", args.out)


if __name__ == "__main__":
    main()
