"""``train(cfg)``: one training run, from built parquet to ``<out_dir>/<run_id>/results.json``.

The loop is written out in ``train`` top to bottom: load data (``run_data.py``) -> backbone (+ IPA
vocabulary extension) -> system and model -> AdamW (``optimizer.py``) + linear schedule -> stages ->
epochs -> steps (system ``prepare`` + ``losses``, gradient accumulation, clipping) -> evaluation on
source dev, checkpoint (``checkpoints.py``), early stopping (``evaluation.py``) -> final evaluation of
the best model on source and target dev/test -> results JSON.

Steps: long sentences are split to ``max_subwords`` (``batches.split_examples``) before batching, and
an epoch is ``ceil(chunks / (batch_size x grad_accum x processes))`` optimizer steps, whose batches
group chunks of similar length (``bucketing.epoch_batches``, ``cfg.length_bucket``). The run's
vocabulary is trimmed to its data's subwords before the optimizer is built (``trim.py``, exact;
``cfg.trim_vocab``). Every stage of a multi-stage system has that many steps per epoch, so the linear
schedule's length is known up front even when ``begin_stage`` changes a stage's examples (a stage with
more examples sees a fresh subset each epoch). Source dev is evaluated as ``evaluation.py`` describes.

Devices: Hugging Face Accelerate places the model: CUDA when present, else CPU (``device="cpu"``
forces it); no tensor is moved with a hard-coded CUDA call. ``cfg.precision`` (resolved per device,
``precision.py``) puts training and evaluation forwards under bf16 autocast or not; weights, gradients
and AdamW state stay fp32. The same entry point runs on several GPUs or nodes (``accelerate launch
--multi_gpu --num_processes 4 -m cjkv_phon.cli train ...``), and as several CPU processes over gloo (the
same command on a machine without CUDA; ``--cpu --num_processes N`` starts only one process without MPI):
each process takes every P-th micro-batch of a step (the effective batch is batch_size x grad_accum x
P), every micro-batch's loss is divided by the step's micro-batch count and gradients are summed across
processes before the optimizer step, so P processes compute what one process with grad_accum x P does
(tested); every process evaluates (identical results) and only the main process writes files.
(Accelerate's own DDP is not used: systems call the model's methods, not its ``forward``, which DDP's
reducer hooks into, and a step whose last micro-batches leave a process idle would stall DDP and weight
the others' gradients by 1/P instead of 1/micro-batches.)

Determinism and resume: every random draw of step ``s`` is seeded from ``(cfg.seed, s)``: the epoch's
batches from ``(seed, stage, epoch)``, ``prepare``'s ``random.Random`` and the dropout / mask generators
from ``(seed, s, slot)``, the micro-batch's index among the step's micro-batches (its process when
grad_accum is 1); so a resumed run reproduces the uninterrupted one on the CPU (resuming in a
later stage of a multi-stage system re-runs its ``begin_stage`` with the checkpointed model).
"""

from __future__ import annotations

import logging
import math
import random
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from accelerate import Accelerator
from tqdm.auto import tqdm
from transformers import get_linear_schedule_with_warmup

from cjkv_phon.schema import LABELS, run_id
from cjkv_phon.training.backbone import TINY_BACKBONES, load_backbone
from cjkv_phon.training.batches import Collator, Example, split_examples
from cjkv_phon.training.bucketing import epoch_batches, padding_stats, subword_length
from cjkv_phon.training.checkpoints import load_best, load_checkpoint, save_checkpoint
from cjkv_phon.training.config import TrainConfig
from cjkv_phon.training.crf import crf_record
from cjkv_phon.training.evaluation import (EVAL_SETS, decode_ids, evaluate_all, evaluate_and_select,
                                          extra_tests_record, predict_tags, selection_record)
from cjkv_phon.training.model import PhoneXLModel
from cjkv_phon.training.optimizer import make_optimizer
from cjkv_phon.training.results import LOSS_NORMALISATION, build_record, write_results
from cjkv_phon.training.run_data import RunData, load_dictionary, load_run_data, repair_iob, symbol_sources
from cjkv_phon.training.system import Stage, System
from cjkv_phon.training.systems import SYSTEMS  # importing the package registers every system
from cjkv_phon.training.phoneme_symbols import SegmentEncoder, segment_inventory
from cjkv_phon.training.phonemic_embedding import build_encoder, pe_record, unknown_share
from cjkv_phon.training.precision import autocast, precision_record
from cjkv_phon.training.trim import trim_run_vocabulary
from cjkv_phon.training.vocab import extend_vocab, phoneme_symbols
from cjkv_phon.training.vocab_sources import zero_shot_transcriptions

log = logging.getLogger(__name__)


def train(cfg: TrainConfig, deadline: float | None = None) -> dict[str, Any]:
    """Train and evaluate one run; returns the results record (also written as ``results.json``).

    A run stopped by ``cfg.max_steps`` returns ``{"run_id", "status": "stopped", "step"}`` and writes
    only its checkpoint; rerun without ``max_steps`` (or with a larger one) to resume.

    ``deadline`` (a ``time.time()`` value; None = none) is a wall-clock guard for time-boxed runs
    (benchmarks/gpu/): once passed, training stops after the current step, source dev is evaluated,
    and the best weights are scored as usual; the record's ``time_budget`` block says whether the
    guard fired and after how many of the planned steps. It is an argument, not a ``TrainConfig``
    field, so it changes no run's config hash; a record whose guard fired is a truncated schedule.

    Raises:
        InputError: missing transcriptions, labels outside the task's label set (source and target
            must share it), a missing backbone folder or dictionary file.
    """
    cfg = cfg.resolved()
    rid = run_id(cfg.task, cfg.source_lang, cfg.target_lang, cfg.system, cfg.seed)
    run_dir = Path(cfg.out_dir) / rid
    _seed_everything(cfg.seed)
    accelerator = _accelerator(cfg)

    # ---- data, backbone (+ IPA vocabulary), system, model ------------------------------------------
    data, collator, system, backbone_model = build_run(cfg)
    # A chunk of a split sentence may start inside an entity (I-X): it is read as B-X, as seqeval would.
    train_examples = [replace(c, tags=repair_iob(c.tags)) for c in split_examples(data.train, collator)]
    # Not wrapped by accelerator.prepare: systems call the model's methods (embed, encode, ...), which
    # a DDP wrapper would not see; gradients are averaged across processes by hand instead.
    model = system.build_model(backbone_model)
    vocabulary = trim_run_vocabulary(cfg, data, collator, system, model)   # exact; a no-op when off
    if cfg.freeze_word_embeddings:
        model.word_embeddings.weight.requires_grad_(False)
    model = model.to(accelerator.device)

    # ---- optimisation ---------------------------------------------------------------------------
    stages = system.stages()
    per_step = cfg.batch_size * cfg.grad_accum * accelerator.num_processes
    steps_per_epoch = math.ceil(len(train_examples) / per_step)
    total_steps = steps_per_epoch * sum(stage.epochs for stage in stages)
    optimizer = make_optimizer(model, cfg, accelerator.device)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(cfg.warmup_ratio * total_steps), total_steps)
    state = load_checkpoint(run_dir, cfg, model, optimizer, scheduler)

    def predict(examples: Sequence[Example]) -> list[list[str]]:
        return predict_tags(model, collator, examples, cfg.eval_batch_size, accelerator, cfg.precision)

    # ---- training loop --------------------------------------------------------------------------
    t_train, sentences_seen = time.perf_counter(), 0
    padding = {"real": 0, "slots": 0}       # subwords vs padded positions of the training batches
    bar = tqdm(total=total_steps, initial=state.step, desc=rid, disable=not accelerator.is_main_process)
    step, stopped, out_of_time = 0, False, False
    for stage_no, stage in enumerate(stages):
        if state.stopped_early or stopped or out_of_time:
            break
        stage_end = step + stage.epochs * steps_per_epoch
        if state.step >= stage_end:                      # finished before the interruption
            step = stage_end
            continue
        examples = system.begin_stage(stage, model, train_examples, predict)
        lengths = [subword_length(collator, ex) for ex in examples]
        for epoch in range(stage.epochs):
            batches = epoch_batches(lengths, cfg.batch_size, (cfg.seed, stage_no, epoch), cfg.length_bucket)
            for i in range(steps_per_epoch):
                if step < state.step:                    # resume: replay nothing, just skip ahead
                    step += 1
                    continue
                slots, indices, in_step = _micro_batches(batches, i, cfg, accelerator)
                micro = [[examples[j] for j in idx] for idx in indices]
                logged = train_step(system, model, micro, stage, step, cfg, accelerator, padding, slots, in_step)
                state.losses.append({"step": step + 1, **logged})
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                sentences_seen += sum(len(m) for m in micro)
                step += 1
                state.step = step
                bar.update(1)
                bar.set_postfix({k: f"{v:.3f}" for k, v in logged.items()})
                end_of_epoch = i == steps_per_epoch - 1
                out_of_time = deadline is not None and time.time() >= deadline and step < total_steps
                if ((cfg.eval_every and step % cfg.eval_every == 0) or step == total_steps
                        or (not cfg.eval_every and end_of_epoch) or out_of_time):
                    evaluate_and_select(cfg, model, data, predict, state, run_dir, accelerator, stage.name)
                    save_checkpoint(run_dir, cfg, model, optimizer, scheduler, state, accelerator)
                if out_of_time:
                    log.warning("%s: deadline reached at step %d of %d; scoring the best weights so far",
                                rid, step, total_steps)
                    break
                if state.stopped_early:
                    break
                if cfg.max_steps is not None and step >= cfg.max_steps and step < total_steps:
                    save_checkpoint(run_dir, cfg, model, optimizer, scheduler, state, accelerator)
                    stopped = True
                    break
            if state.stopped_early or stopped or out_of_time:
                break
    bar.close()
    train_s = time.perf_counter() - t_train
    if stopped:
        log.info("%s: stopped at step %d of %d (max_steps); rerun to resume", rid, step, total_steps)
        return {"run_id": rid, "status": "stopped", "step": step}

    # ---- final evaluation of the best model ------------------------------------------------------
    load_best(run_dir, model)
    t_eval = time.perf_counter()
    def decode(examples: Sequence[Example]) -> list[tuple[list[int], list[int]]]:
        return decode_ids(model, collator, examples, cfg.eval_batch_size, accelerator, cfg.precision)

    metrics, n_eval, counts, decoders = evaluate_all(cfg, data, decode, run_dir, accelerator, collator.labels)
    eval_s = time.perf_counter() - t_eval
    timings = {"train_s": round(train_s, 3), "eval_s": round(eval_s, 3), "steps": step,
               "train_sentences_per_s": round(sentences_seen / max(train_s, 1e-9), 2),
               "eval_sentences_per_s": round(n_eval / max(eval_s, 1e-9), 2),
               "train_real_subword_ratio": round(padding["real"] / padding["slots"], 4) if padding["slots"] else None}
    record = build_record(cfg, metrics, timings, accelerator.device)
    record["sentence_counts"] = counts
    if cfg.extra_target_tests:
        record["extra_target_tests"] = extra_tests_record(cfg, data)
    record["decoders"] = decoders
    record["tokenisation"] = collator.tokenisation
    if model.crf is not None:
        record["crf"] = crf_record(model.crf, collator.labels)
    record["history"] = state.history
    record["loss_curve"] = state.losses
    record["precision"] = precision_record(cfg.precision, accelerator.device)
    record["selection"] = selection_record(cfg, state, steps_per_epoch, total_steps)
    record["loss_normalisation"] = LOSS_NORMALISATION[cfg.task_loss_norm if cfg.use_crf else "ce"]
    if system.uses_phonemes and cfg.use_pe:
        record["phoneme_vocabulary"] = {"units": cfg.phoneme_units, "extend_vocab": cfg.extend_vocab,
                                        "symbols_from": symbol_sources(cfg), **pe_record(cfg.pe_design, model),
                                        "unknown_share": {f"{side}-{split}": unknown_share(collator, exs)
                                                          for (side, split), exs in data.evals.items()}}
    record["vocabulary"] = vocabulary
    if deadline is not None:
        record["time_budget"] = {"deadline_reached": out_of_time, "steps": step, "planned_steps": total_steps,
                                 "deadline_unix": round(deadline, 3)}
    if accelerator.is_main_process:
        write_results(run_dir, record)
    accelerator.wait_for_everyone()
    return record


def build_run(cfg: TrainConfig) -> tuple[RunData, Collator, System, torch.nn.Module]:
    """Data, the backbone (vocabulary extended with the transcriptions' IPA symbols when PE is on and
    ``extend_vocab``), the collator and the system; returns ``(data, collator, system, backbone)``."""
    system_cls = SYSTEMS[cfg.system]
    data = load_run_data(cfg, require_phonemes=system_cls.uses_phonemes)
    # The four standard sets only: an extra target test must not change a tiny backbone's vocabulary.
    every = [ex for exs in (data.train, *(data.evals[k] for k in EVAL_SETS)) for ex in exs]
    corpus = [" ".join(ex.tokens) for ex in every] if cfg.backbone in TINY_BACKBONES else []
    backbone = load_backbone(cfg.backbone, corpus)
    encoder = None
    if system_cls.uses_phonemes and cfg.use_pe:
        # Symbols come only from what a zero-shot run may see, never from a test split (vocab_sources).
        seen, _ = zero_shot_transcriptions(cfg.data_dir, cfg.task, cfg.target_lang, cfg.phonemes,
                                           data.train, data.evals[("source", "dev")],
                                           source_lang=cfg.source_lang, dictionary_dir=cfg.dictionary_dir)
        if cfg.pe_design != "shared":        # PE's own table (phonemic_embedding.py)
            if cfg.pe_design == "table" and cfg.extend_vocab:
                extend_vocab(backbone.tokenizer, backbone.model, phoneme_symbols(p for p, _ in seen), seed=cfg.seed)
            encoder = build_encoder(cfg.pe_design, backbone.tokenizer, seen, cfg.phoneme_units)
        elif cfg.phoneme_units == "segments":
            encoder = SegmentEncoder.build(backbone.tokenizer, backbone.model, segment_inventory(seen),
                                           seed=cfg.seed, extend=cfg.extend_vocab)
        elif cfg.extend_vocab:
            extend_vocab(backbone.tokenizer, backbone.model, phoneme_symbols(p for p, _ in seen), seed=cfg.seed)
    collator = Collator(backbone.tokenizer, LABELS[cfg.task], cfg.max_subwords, phoneme_encoder=encoder,
                        tokenisation=cfg.tokenisation)
    dictionary = load_dictionary(cfg) if system_cls.needs_dictionary(cfg) else None
    return data, collator, system_cls(cfg, collator, dictionary), backbone.model


def train_step(system: System, model: PhoneXLModel, micro: list[list[Example]], stage: Stage, step: int,
               cfg: TrainConfig, accelerator: Accelerator, padding: dict[str, int] | None = None,
               slots: Sequence[int] | None = None, in_step: int | None = None) -> dict[str, float]:
    """Forward and backward of one optimizer step's micro-batches (gradients summed over processes,
    clipped), the forwards under ``cfg.precision``'s autocast.

    Micro-batch ``micro[j]`` has index ``slots[j]`` among the step's ``in_step`` micro-batches over all
    processes (default: this process alone has them all). All its randomness is re-seeded from
    ``(cfg.seed, step, slot)``: dropout (torch's global RNG), the system's ``prepare`` (a
    ``random.Random``) and its device-side masks (a ``torch.Generator``), so which process or
    accumulation round runs a micro-batch does not change it; its loss is divided by ``in_step``.

    Returns:
        The step's loss components, averaged over all its micro-batches (every process gets the same),
        as floats for logging. ``padding`` (if given) accumulates the real subwords (``"real"``) and
        padded positions (``"slots"``) of every view this process encodes.
    """
    model.train()
    slots = range(len(micro)) if slots is None else slots
    in_step = in_step or len(micro)
    logged: dict[str, float] = {}
    for slot, examples in zip(slots, micro, strict=True):
        seed = _step_seed(cfg.seed, step, slot)
        torch.manual_seed(seed)
        generator = torch.Generator(accelerator.device).manual_seed(seed)
        batch = system.prepare(examples, random.Random(seed), stage)
        if padding is not None:
            for view in batch.views.values():
                real, padded = padding_stats(view.attention_mask)
                padding["real"] += real
                padding["slots"] += padded
        batch = batch.to(accelerator.device)
        with autocast(cfg.precision, accelerator.device):
            losses = system.losses(model, batch, step, generator)
        accelerator.backward(losses["loss"] / in_step)
        for name, value in losses.items():
            logged[name] = logged.get(name, 0.0) + float(value.detach()) / in_step
    logged = _sum_over_processes(model, logged, accelerator)
    torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
    return logged


# ---- setup helpers ------------------------------------------------------------------------------
def _accelerator(cfg: TrainConfig) -> Accelerator:
    """Accelerate on CUDA when present else CPU; ``cuda:N`` picks the card.

    Its ``mixed_precision`` stays "no": the autocast is ``precision.autocast(cfg.precision)`` in
    ``train_step`` and ``predict_tags``, because Accelerate's state is per process and refuses another
    precision once set, and one process may train runs of both (tests, a bench worker, bench_train.py).
    With bf16 there is no loss scaling for Accelerate to do."""
    if cfg.device.startswith("cuda:"):
        torch.cuda.set_device(int(cfg.device.split(":", 1)[1]))
    on_gpu = cfg.device != "cpu" and torch.cuda.is_available()
    return Accelerator(cpu=not on_gpu)


def _step_seed(seed: int, step: int, slot: int) -> int:
    """A seed for one micro-batch of a step, different for every (seed, step, slot)."""
    return (seed * 1_000_003 + step * 101 + slot) % (2**63)


def _seed_everything(seed: int) -> None:
    """Seed python, numpy and torch. The added head does NOT depend on this: each of its components
    is seeded from ``cfg.seed`` alone (``model.component_rng``), whatever ran since."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _sum_over_processes(model: torch.nn.Module, logged: dict[str, float],
                        accelerator: Accelerator) -> dict[str, float]:
    """Sum every gradient and the logged loss components over the processes (a no-op on one process).

    Each micro-batch's loss was divided by the step's micro-batch count over all processes, so the sums
    are the step's means; a process without a micro-batch this step adds zeros.
    """
    if accelerator.num_processes == 1:
        return logged
    for param in model.parameters():
        if param.requires_grad:
            if param.grad is None:                       # no micro-batch (or no use of it) this step
                param.grad = torch.zeros_like(param)
            torch.distributed.all_reduce(param.grad, op=torch.distributed.ReduceOp.SUM)
    every: list[dict[str, float]] = [{} for _ in range(accelerator.num_processes)]
    torch.distributed.all_gather_object(every, logged)
    return {name: sum(part.get(name, 0.0) for part in every) for name in sorted({k for part in every for k in part})}


def _micro_batches(batches: list[list[int]], i: int, cfg: TrainConfig,
                   accelerator: Accelerator) -> tuple[list[int], list[list[int]], int]:
    """This process's micro-batches of step ``i`` of an epoch (``bucketing.epoch_batches``' batches
    ``i * grad_accum * P`` onwards, every P-th one): ``(slots, indices into the stage's examples, the
    step's micro-batches over all processes)``; a slot is a micro-batch's index within its step."""
    procs = accelerator.num_processes
    first = i * cfg.grad_accum * procs
    step = [m for m in range(first, min(first + cfg.grad_accum * procs, len(batches))) if batches[m]]
    mine = [m for m in step if m % procs == accelerator.process_index]
    return [m - first for m in mine], [batches[m] for m in mine], len(step)
