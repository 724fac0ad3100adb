"""``train(cfg)``: one training run, from built parquet to ``<out_dir>/<run_id>/results.json``.

The loop is written out in ``train`` top to bottom: load data -> backbone (+ IPA vocabulary
extension) -> system and model -> AdamW + linear schedule -> stages -> epochs -> steps (system
``prepare`` + ``losses``, gradient accumulation, clipping) -> evaluation on source dev, checkpoint,
early stopping -> final evaluation of the best model on source and target dev/test -> results JSON.

Steps: long sentences are split to ``max_subwords`` (``batches.split_examples``) before batching, and
an epoch is ``ceil(chunks / (batch_size x grad_accum x processes))`` optimizer steps, whose batches
group chunks of similar length (``bucketing.epoch_batches``, ``cfg.length_bucket``). The run's
vocabulary is trimmed to its data's subwords before the optimizer is built (``trim.py``, exact;
``cfg.trim_vocab``). Every stage of a
multi-stage system has that many steps per epoch, so the linear schedule's length is known up front
even when ``begin_stage`` changes a stage's examples (a stage with more examples sees a fresh subset
each epoch). Evaluation on source dev runs at the end of each epoch (or every ``eval_every`` steps) and
after the last step; the best source-dev F1 selects the final weights (early stopping after
``patience`` evaluations without improvement).

Devices: Hugging Face Accelerate places the model: CUDA when present (bf16 autocast if ``cfg.bf16``),
else CPU; ``device="cpu"`` forces the CPU. No tensor is moved with a hard-coded CUDA call. The same
entry point runs on several GPUs or nodes:

    accelerate launch -m cjkv_phon.cli train --task panx --pair zh-vi --model phonexl
    accelerate launch --multi_gpu --num_processes 4 $(which cjkv) train ...

Each process then takes every P-th micro-batch of a step (the effective batch is batch_size x
grad_accum x P) and gradients are averaged across processes before the optimizer step; every process
evaluates (identical results) and only the main process writes files.

Determinism and resume: every random draw of step ``s`` comes from seeds derived from
``(cfg.seed, s)``: the epoch's batches from ``(seed, stage, epoch)``, ``prepare``'s ``random.Random`` and the
dropout / mask generators from ``(seed, s, process)``. A checkpoint (model, optimizer, scheduler, step,
early-stopping state, RNG states) is written under ``<run_dir>/checkpoint`` at every evaluation and when
``max_steps`` stops a run; rerunning the same command resumes there and reproduces the uninterrupted
run on the CPU. (Resuming inside a later stage of a multi-stage system re-runs that stage's
``begin_stage`` with the checkpointed model.)
"""

from __future__ import annotations

import logging
import math
import random
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from accelerate import Accelerator
from tqdm.auto import tqdm
from transformers import get_linear_schedule_with_warmup

from cjkv_phon.atomic import atomic_path
from cjkv_phon.errors import InputError
from cjkv_phon.schema import LABELS, run_id
from cjkv_phon.training.backbone import TINY_BACKBONES, load_backbone
from cjkv_phon.training.batches import Collator, Example, examples_from_table, rejoin, split_examples
from cjkv_phon.training.bucketing import epoch_batches, eval_batches, padding_stats, subword_length
from cjkv_phon.training.config import TrainConfig
from cjkv_phon.training.metrics import evaluate_tags
from cjkv_phon.training.model import PhoneXLModel
from cjkv_phon.training.results import build_record, run_config_hash, write_predictions, write_results
from cjkv_phon.training.sentence_scores import encode as encode_counts, sentence_counts
from cjkv_phon.training.system import Stage, System
from cjkv_phon.training.systems import SYSTEMS  # importing the package registers every system
from cjkv_phon.training.phoneme_symbols import SegmentEncoder, segment_inventory
from cjkv_phon.training.phonemic_embedding import build_encoder, pe_record
from cjkv_phon.training.trim import trim_run_vocabulary
from cjkv_phon.training.vocab import extend_vocab, phoneme_symbols
from cjkv_phon.training.vocab_sources import zero_shot_transcriptions

log = logging.getLogger(__name__)

EVAL_SETS = (("source", "dev"), ("source", "test"), ("target", "dev"), ("target", "test"))
NO_DECAY = ("bias", "LayerNorm.weight", "norm.weight", "layer_norm.weight", "language_embeddings", "pe_gate",
            "log_scale")


@dataclass
class RunData:
    """The run's sentences: source training examples and the four evaluation sets."""

    train: list[Example]
    evals: dict[tuple[str, str], list[Example]]


@dataclass
class TrainState:
    """What early stopping and resume need besides the weights."""

    step: int = 0
    best_f1: float = -1.0
    bad_evals: int = 0
    stopped_early: bool = False
    history: list[dict[str, Any]] = field(default_factory=list)


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
                    _evaluate_and_select(cfg, model, data, predict, state, run_dir, accelerator, stage.name)
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


LOSS_NORMALISATION = {
    "token": "task: CRF NLL per token (summed over the batch / its tokens; the scale of token-mean CE, "
             "for which Table 5's alpha/beta/gamma were tuned)",
    "sentence": "task: CRF NLL per sentence (mean over the batch's sentences; ~20x the token-mean scale)",
    "ce": "task: token-mean softmax cross-entropy (no CRF)",
}


def symbol_sources(cfg: TrainConfig) -> list[str]:
    """The splits the run's phoneme symbols were chosen from (``vocab_sources``), for results.json."""
    target_train = Path(cfg.data_dir) / cfg.task / cfg.target_lang / "train.parquet"
    return ["source-train", "source-dev"] + (["target-train (unlabelled)"] if target_train.is_file() else [])


def evaluation_steps(cfg: TrainConfig, steps_per_epoch: int, total_steps: int) -> list[int]:
    """The steps after which source dev is evaluated (the same rule as the training loop)."""
    out = []
    for step in range(1, total_steps + 1):
        end_of_epoch = step % steps_per_epoch == 0
        if (cfg.eval_every and step % cfg.eval_every == 0) or step == total_steps or (
                not cfg.eval_every and end_of_epoch):
            out.append(step)
    return out


def selection_record(cfg: TrainConfig, state: TrainState, steps_per_epoch: int,
                     total_steps: int) -> dict[str, Any]:
    """What model selection did: the final weights are those of the best source-dev evaluation.

    Early stopping can only fire when the schedule has more than ``patience`` evaluations; with fewer
    (e.g. one per epoch, 2 epochs, patience 2) selection is just "best of the evaluations".
    """
    planned = evaluation_steps(cfg, steps_per_epoch, total_steps)
    best = max(state.history, key=lambda h: h["source_dev_f1"]) if state.history else None
    return {"rule": "best source-dev F1 over the evaluations; the target side never selects",
            "planned_evaluations": len(planned), "evaluations": len(state.history),
            "patience": cfg.patience, "early_stopping_possible": len(planned) > cfg.patience,
            # "stopped early" = training steps were skipped (patience running out at the last
            # evaluation skips nothing)
            "stopped_early": state.stopped_early and state.step < total_steps,
            "best_step": best["step"] if best else None}


def make_optimizer(model: torch.nn.Module, cfg: TrainConfig, device: torch.device) -> torch.optim.Optimizer:
    """AdamW over ``param_groups`` with the fused kernel on CPU and CUDA.

    The default (for-loop) kernel is the slow one on the CPU: one step over e5-small's 250k x 384 table
    takes 0.85 s there against 0.05 s fused (``benchmarks/bench_optimizer.py``, one thread).
    """
    fused = torch.device(device).type in ("cpu", "cuda")
    return torch.optim.AdamW(param_groups(model, cfg.weight_decay, cfg.head_lr), lr=cfg.lr,
                             fused=fused or None)


def param_groups(model: torch.nn.Module, weight_decay: float,
                 head_lr: float | None = None) -> list[dict[str, Any]]:
    """AdamW groups: no weight decay on biases, LayerNorm weights, the language embeddings, the PE gate
    (decay would pull them back towards their zero initialisation, i.e. towards switching them off)
    and the L_align temperature ``log_scale`` (decay would pull log(1/T) to 0, i.e. T towards 1).

    With ``head_lr``, the parameters added on top of the pretrained backbone (classifier, CRF transitions,
    language embeddings, PE gate, MLM head, temperature) get their own learning rate: at 2e-5 a freshly initialised
    CRF barely moves in the few hundred steps of a CPU budget, so short runs predict only ``O``.
    """
    groups: dict[tuple[bool, bool], list[torch.nn.Parameter]] = {}
    for name, param in model.named_parameters():
        if param.requires_grad:
            is_head = head_lr is not None and not name.startswith("backbone.")
            no_decay = any(key in name for key in NO_DECAY)
            groups.setdefault((is_head, no_decay), []).append(param)
    out = []
    for (is_head, no_decay), params in sorted(groups.items()):
        group: dict[str, Any] = {"params": params, "weight_decay": 0.0 if no_decay else weight_decay}
        if is_head:
            group["lr"] = head_lr
        out.append(group)
    return out


def load_run_data(cfg: TrainConfig, require_phonemes: bool) -> RunData:
    """Source train + source/target dev/test as examples, with their label sets checked.

    Raises:
        InputError: a tag outside the task's label set, which the source and target must share.
    """
    from cjkv_phon.data.release_reader import load_split   # the data stage, imported where it is used

    def read(lang: str, split: str, limit: int | None) -> list[Example]:
        where = str(Path(cfg.data_dir) / cfg.task / lang / f"{split}.parquet")   # load_split's layout
        examples = examples_from_table(load_split(cfg.data_dir, cfg.task, lang, split),
                                       cfg.phonemes, where, require_phonemes)
        examples = [ex for ex in examples if ex.tokens]          # a CRF needs at least one token
        check_labels(examples, LABELS[cfg.task], where)
        return subsample(examples, limit)

    train = read(cfg.source_lang, "train", cfg.max_train_sentences)
    source_test = cfg.max_test_sentences if cfg.max_source_test_sentences is None else cfg.max_source_test_sentences
    limits = {("source", "dev"): cfg.max_eval_sentences, ("target", "dev"): cfg.max_eval_sentences,
              ("source", "test"): source_test, ("target", "test"): cfg.max_test_sentences}
    evals = {(side, split): read(lang, split, limits[(side, split)])
             for side, lang in (("source", cfg.source_lang), ("target", cfg.target_lang))
             for split in ("dev", "test")}
    log.info("data: %d training sentences; eval %s", len(train),
             {f"{s}-{p}": len(v) for (s, p), v in evals.items()})
    return RunData(train, evals)


def check_labels(examples: Sequence[Example], labels: Sequence[str], where: str) -> None:
    """Raise ``InputError`` (file, row, tag) for a tag outside ``labels`` or a sentence without tags."""
    known = set(labels)
    for row, ex in enumerate(examples, start=1):
        if ex.tags is None:
            raise InputError(f"sentence {ex.id!r} has no tags; training and evaluation need gold tags",
                             path=where, line=row)
        bad = sorted(set(ex.tags) - known)
        if bad:
            raise InputError(f"sentence {ex.id!r}: label sets differ: tags not in the source label set "
                             f"{list(labels)}", path=where, line=row, value=bad)


def repair_iob(tags: Sequence[str]) -> tuple[str, ...]:
    """Gold training tags with ill-formed ``I-X`` (after ``O`` or another type) read as ``B-X``.

    PAN-X has such tags (``O I-PER`` in ``panx.zh.train.9``), and so does a chunk of a split sentence
    that starts inside an entity. seqeval's default mode, our metric, reads them the same way; the
    constrained CRF forbids them, so left as they are each would add a constant 10^4 to the logged loss
    without changing any gradient. Tag sets without ``I-`` are unchanged.
    """
    out, prev = [], "O"
    for tag in tags:
        if tag.startswith("I-") and prev[2:] != tag[2:]:
            tag = "B-" + tag[2:]
        out.append(tag)
        prev = tag if tag.startswith(("B-", "I-")) else "O"
    return tuple(out)


def subsample(examples: list[Example], limit: int | None) -> list[Example]:
    """At most ``limit`` examples, the same ones every run (a fixed-seed sample kept in file order)."""
    if limit is None or len(examples) <= limit:
        return examples
    keep = sorted(random.Random(0).sample(range(len(examples)), limit))
    return [examples[i] for i in keep]


def load_dictionary(cfg: TrainConfig):
    """The pivot dictionary ``<dictionary_dir>/<src>-<tgt>.parquet`` (or the reverse file)."""
    from cjkv_phon.dictionary.lexicon import PivotDictionary
    folder = Path(cfg.dictionary_dir)
    for name in (f"{cfg.source_lang}-{cfg.target_lang}", f"{cfg.target_lang}-{cfg.source_lang}"):
        if (folder / f"{name}.parquet").is_file():
            return PivotDictionary.load(folder / f"{name}.parquet")
    raise InputError(f"no pivot dictionary for {cfg.pair}: looked for {cfg.pair}.parquet; build it with "
                     f"`cjkv build-dict --pair {cfg.pair}` or set --dictionary-dir", path=folder)


# ---- evaluation ---------------------------------------------------------------------------------
def predict_tags(model: PhoneXLModel, collator: Collator, examples: Sequence[Example], batch_size: int,
                 accelerator: Accelerator | None = None) -> list[list[str]]:
    """Tag strings for each example: long sentences are split, predicted, and re-joined.

    Chunks are batched in order of subword length (each batch padded only to its own longest,
    ``bucketing.eval_batches``) under ``torch.inference_mode`` and put back in input order.
    """
    device = accelerator.device if accelerator is not None else next(model.parameters()).device
    chunks = split_examples(examples, collator)
    preds: list[list[str] | None] = [None] * len(chunks)
    was_training = model.training
    model.eval()
    with torch.inference_mode():
        for idx in eval_batches([subword_length(collator, c) for c in chunks], batch_size):
            batch = collator.collate([chunks[k] for k in idx]).to(device)
            with (accelerator.autocast() if accelerator is not None else torch.autocast("cpu", enabled=False)):
                ids = model.predict(batch)
            for k, row in zip(idx, ids):
                preds[k] = [collator.labels[t] for t in row]
    model.train(was_training)
    if any(p is None for p in preds):
        raise RuntimeError(f"{sum(p is None for p in preds)} of {len(chunks)} chunks got no prediction")
    joined = rejoin(chunks, preds)
    return [joined[ex.id] for ex in examples]


def _evaluate_and_select(cfg: TrainConfig, model: PhoneXLModel, data: RunData, predict, state: TrainState,
                         run_dir: Path, accelerator: Accelerator, stage: str) -> None:
    """Score source dev; keep the best weights; count evaluations without improvement."""
    dev = data.evals[("source", "dev")]
    f1 = evaluate_tags([list(ex.tags) for ex in dev], predict(dev), cfg.task)["f1"]
    state.history.append({"step": state.step, "stage": stage, "source_dev_f1": f1})
    if f1 > state.best_f1:
        state.best_f1, state.bad_evals = f1, 0
        if accelerator.is_main_process:
            _save_torch(run_dir / "checkpoint" / "best_model.pt", model.state_dict())
    else:
        state.bad_evals += 1
        state.stopped_early = state.bad_evals >= cfg.patience
    log.info("step %d: source dev F1 %.2f (best %.2f, %d without improvement)", state.step, f1,
             state.best_f1, state.bad_evals)


def evaluate_all(cfg: TrainConfig, data: RunData, predict, run_dir: Path,
                 accelerator: Accelerator) -> tuple[dict[str, dict[str, dict[str, float]]], int, dict]:
    """Metrics on source/target dev/test (and predictions saved); returns (metrics, sentences,
    per-sentence chunk counts in their compact JSON form, ``sentence_scores.encode``)."""
    metrics: dict[str, dict[str, dict[str, float]]] = {"source": {}, "target": {}}
    counts: dict[str, dict[str, dict[str, str]]] = {"source": {}, "target": {}}
    n = 0
    for side, split in EVAL_SETS:
        examples = data.evals[(side, split)]
        pred = predict(examples)
        gold = [list(ex.tags) for ex in examples]
        metrics[side][split] = evaluate_tags(gold, pred, cfg.task)
        counts[side][split] = encode_counts(sentence_counts([ex.id for ex in examples], gold, pred, cfg.task))
        n += len(examples)
        if cfg.save_predictions and accelerator.is_main_process:
            write_predictions(run_dir / "predictions" / f"{side}-{split}.jsonl", [ex.id for ex in examples],
                              [ex.tokens for ex in examples], gold, pred)
    return metrics, n, counts


# ---- checkpoints ----------------------------------------------------------------------------------
def _save_torch(path: Path, obj: Any) -> None:
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def save_checkpoint(run_dir: Path, cfg: TrainConfig, model: PhoneXLModel, optimizer, scheduler,
                    state: TrainState, accelerator: Accelerator) -> None:
    """Write ``<run_dir>/checkpoint/state.pt``: weights, optimizer, scheduler, RNGs, loop state."""
    if accelerator.is_main_process:
        _save_torch(run_dir / "checkpoint" / "state.pt", {
            "config_hash": run_config_hash(cfg), "model": model.state_dict(),
            "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
            "state": vars(state).copy(),
            "rng": {"python": random.getstate(), "numpy": np.random.get_state(),
                    "torch": torch.get_rng_state(),
                    "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None}})
    accelerator.wait_for_everyone()


def load_checkpoint(run_dir: Path, cfg: TrainConfig, model: PhoneXLModel, optimizer,
                    scheduler) -> TrainState:
    """Resume from ``<run_dir>/checkpoint/state.pt`` if it exists, else a fresh state.

    Raises:
        ValueError: the checkpoint belongs to different settings (another config hash).
    """
    path = run_dir / "checkpoint" / "state.pt"
    if not path.is_file():
        return TrainState()
    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    if ckpt["config_hash"] != run_config_hash(cfg):
        raise ValueError(f"{path} was written by a run with other settings (config hash "
                         f"{ckpt['config_hash']} != {run_config_hash(cfg)}); use another --out folder")
    model.load_state_dict(ckpt["model"])
    optimizer.load_state_dict(ckpt["optimizer"])
    scheduler.load_state_dict(ckpt["scheduler"])
    random.setstate(ckpt["rng"]["python"])
    np.random.set_state(ckpt["rng"]["numpy"])
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
        model.load_state_dict(torch.load(path, map_location=next(model.parameters()).device))
