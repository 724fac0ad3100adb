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

Devices: Hugging Face Accelerate places the model: CUDA when present (bf16 autocast if ``cfg.bf16``),
else CPU (``device="cpu"`` forces it); no tensor is moved with a hard-coded CUDA call. The same entry
point runs on several GPUs or nodes (``accelerate launch -m cjkv_phon.cli train ...``, or
``accelerate launch --multi_gpu --num_processes 4 $(which cjkv) train ...``): each process takes every
P-th micro-batch of a step (the effective batch is batch_size x grad_accum x P), gradients are averaged
across processes before the optimizer step, every process evaluates (identical results) and only the
main process writes files.

Determinism and resume: every random draw of step ``s`` is seeded from ``(cfg.seed, s)``: the epoch's
batches from ``(seed, stage, epoch)``, ``prepare``'s ``random.Random`` and the dropout / mask generators
from ``(seed, s, process)``; so a resumed run reproduces the uninterrupted one on the CPU (resuming in a
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
from cjkv_phon.training.evaluation import evaluate_all, evaluate_and_select, predict_tags, selection_record
from cjkv_phon.training.model import PhoneXLModel
from cjkv_phon.training.optimizer import make_optimizer
from cjkv_phon.training.results import LOSS_NORMALISATION, build_record, write_results
from cjkv_phon.training.run_data import RunData, load_dictionary, load_run_data, repair_iob, symbol_sources
from cjkv_phon.training.system import Stage, System
from cjkv_phon.training.systems import SYSTEMS  # importing the package registers every system
from cjkv_phon.training.phoneme_symbols import SegmentEncoder, segment_inventory
from cjkv_phon.training.phonemic_embedding import build_encoder, pe_record
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
        return predict_tags(model, collator, examples, cfg.eval_batch_size, accelerator)

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
                micro = [[examples[j] for j in idx] for idx in _micro_batches(batches, i, cfg, accelerator)]
                logged = train_step(system, model, micro, stage, step, cfg, accelerator, padding)
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
    metrics, n_eval, counts = evaluate_all(cfg, data, predict, run_dir, accelerator)
    eval_s = time.perf_counter() - t_eval
    timings = {"train_s": round(train_s, 3), "eval_s": round(eval_s, 3), "steps": step,
               "train_sentences_per_s": round(sentences_seen / max(train_s, 1e-9), 2),
               "eval_sentences_per_s": round(n_eval / max(eval_s, 1e-9), 2),
               "train_real_subword_ratio": round(padding["real"] / padding["slots"], 4) if padding["slots"] else None}
    record = build_record(cfg, metrics, timings, accelerator.device)
    record["sentence_counts"] = counts
    record["history"] = state.history
    record["selection"] = selection_record(cfg, state, steps_per_epoch, total_steps)
    record["loss_normalisation"] = LOSS_NORMALISATION[cfg.task_loss_norm if cfg.use_crf else "ce"]
    if system.uses_phonemes and cfg.use_pe:
        record["phoneme_vocabulary"] = {"units": cfg.phoneme_units, "extend_vocab": cfg.extend_vocab,
                                        "symbols_from": symbol_sources(cfg), **pe_record(cfg.pe_design, model)}
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
    every = [ex for exs in (data.train, *data.evals.values()) for ex in exs]
    corpus = [" ".join(ex.tokens) for ex in every] if cfg.backbone in TINY_BACKBONES else []
    backbone = load_backbone(cfg.backbone, corpus)
    encoder = None
    if system_cls.uses_phonemes and cfg.use_pe:
        # Symbols come only from what a zero-shot run may see, never from a test split (vocab_sources).
        seen, _ = zero_shot_transcriptions(cfg.data_dir, cfg.task, cfg.target_lang, cfg.phonemes,
                                           data.train, data.evals[("source", "dev")])
        if cfg.pe_design != "shared":        # PE's own table (phonemic_embedding.py)
            if cfg.pe_design == "table" and cfg.extend_vocab:
                extend_vocab(backbone.tokenizer, backbone.model, phoneme_symbols(p for p, _ in seen), seed=cfg.seed)
            encoder = build_encoder(cfg.pe_design, backbone.tokenizer, seen, cfg.phoneme_units)
        elif cfg.phoneme_units == "segments":
            encoder = SegmentEncoder.build(backbone.tokenizer, backbone.model, segment_inventory(seen),
                                           seed=cfg.seed, extend=cfg.extend_vocab)
        elif cfg.extend_vocab:
            extend_vocab(backbone.tokenizer, backbone.model, phoneme_symbols(p for p, _ in seen), seed=cfg.seed)
    collator = Collator(backbone.tokenizer, LABELS[cfg.task], cfg.max_subwords, phoneme_encoder=encoder)
    dictionary = load_dictionary(cfg) if system_cls.needs_dictionary(cfg) else None
    return data, collator, system_cls(cfg, collator, dictionary), backbone.model


def train_step(system: System, model: PhoneXLModel, micro: list[list[Example]], stage: Stage, step: int,
               cfg: TrainConfig, accelerator: Accelerator,
               padding: dict[str, int] | None = None) -> dict[str, float]:
    """Forward and backward of one optimizer step's micro-batches (gradients averaged and clipped).

    All randomness is re-seeded from ``(cfg.seed, step, process)``: dropout (torch's global RNG), the
    system's ``prepare`` (a ``random.Random``) and its device-side masks (a ``torch.Generator``).

    Returns:
        The step's loss components, averaged over the micro-batches, as floats for logging. ``padding``
        (if given) accumulates the real subwords (``"real"``) and padded positions (``"slots"``) of
        every view the step encodes.
    """
    model.train()
    seed = _step_seed(cfg.seed, step, accelerator.process_index)
    torch.manual_seed(seed)
    generator = torch.Generator(accelerator.device).manual_seed(seed)
    rng = random.Random(seed)
    logged: dict[str, float] = {}
    for examples in micro:
        batch = system.prepare(examples, rng, stage)
        if padding is not None:
            for view in batch.views.values():
                real, slots = padding_stats(view.attention_mask)
                padding["real"] += real
                padding["slots"] += slots
        batch = batch.to(accelerator.device)
        with accelerator.autocast():
            losses = system.losses(model, batch, step, generator)
        accelerator.backward(losses["loss"] / len(micro))
        for name, value in losses.items():
            logged[name] = logged.get(name, 0.0) + float(value.detach()) / len(micro)
    _average_gradients(model, accelerator)
    torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
    return logged


# ---- setup helpers ------------------------------------------------------------------------------
def _accelerator(cfg: TrainConfig) -> Accelerator:
    """Accelerate on CUDA when present (bf16 autocast if asked) else CPU; ``cuda:N`` picks the card."""
    if cfg.device.startswith("cuda:"):
        torch.cuda.set_device(int(cfg.device.split(":", 1)[1]))
    on_gpu = cfg.device != "cpu" and torch.cuda.is_available()
    return Accelerator(cpu=not on_gpu, mixed_precision="bf16" if (on_gpu and cfg.bf16) else "no")


def _step_seed(seed: int, step: int, process: int) -> int:
    """A seed for one step of one process, different for every (seed, step, process)."""
    return (seed * 1_000_003 + step * 101 + process) % (2**63)


def _seed_everything(seed: int) -> None:
    """Seed python, numpy and torch. The added head does NOT depend on this: each of its components
    is seeded from ``cfg.seed`` alone (``model.component_rng``), whatever ran since."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _average_gradients(model: torch.nn.Module, accelerator: Accelerator) -> None:
    """Mean of every gradient over the processes (a no-op on one process)."""
    if accelerator.num_processes == 1:
        return
    for param in model.parameters():
        if param.requires_grad:
            if param.grad is None:                       # this process had no micro-batch this step
                param.grad = torch.zeros_like(param)
            torch.distributed.all_reduce(param.grad, op=torch.distributed.ReduceOp.AVG)


def _micro_batches(batches: list[list[int]], i: int, cfg: TrainConfig,
                   accelerator: Accelerator) -> list[list[int]]:
    """This process's micro-batches of step ``i`` of an epoch (``bucketing.epoch_batches``' batches
    ``i * grad_accum * P`` onwards): indices into the stage's examples."""
    procs = accelerator.num_processes
    first = i * cfg.grad_accum * procs
    return [batches[m] for m in range(first, min(first + cfg.grad_accum * procs, len(batches)))
            if batches[m] and m % procs == accelerator.process_index]
