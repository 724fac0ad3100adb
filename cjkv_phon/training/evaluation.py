"""Evaluation and model selection: predict tags, score source dev to keep the best weights, score all four sets.

One module so that the rule "only source dev selects; the target side never does" lives in one place:
``evaluate_and_select`` (during training), ``evaluate_all`` (once, on the selected weights) and
``selection_record`` (what results.json says selection did, with ``evaluation_steps`` the same schedule
as the loop's).

Evaluation on source dev runs at the end of each epoch (or every ``eval_every`` steps) and after the
last step; the best source-dev F1 selects the final weights (early stopping after ``patience``
evaluations without improvement).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Sequence

import torch
from accelerate import Accelerator

from cjkv_phon.training.batches import Collator, Example, rejoin, split_examples
from cjkv_phon.training.bucketing import eval_batches, subword_length
from cjkv_phon.training.checkpoints import TrainState, save_torch
from cjkv_phon.training.config import TrainConfig
from cjkv_phon.training.metrics import evaluate_tags
from cjkv_phon.training.model import PhoneXLModel
from cjkv_phon.training.results import write_predictions
from cjkv_phon.training.run_data import RunData
from cjkv_phon.training.sentence_scores import encode as encode_counts, sentence_counts

log = logging.getLogger(__name__)

EVAL_SETS = (("source", "dev"), ("source", "test"), ("target", "dev"), ("target", "test"))


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


def evaluate_and_select(cfg: TrainConfig, model: PhoneXLModel, data: RunData, predict, state: TrainState,
                        run_dir: Path, accelerator: Accelerator, stage: str) -> None:
    """Score source dev; keep the best weights; count evaluations without improvement."""
    dev = data.evals[("source", "dev")]
    f1 = evaluate_tags([list(ex.tags) for ex in dev], predict(dev), cfg.task)["f1"]
    state.history.append({"step": state.step, "stage": stage, "source_dev_f1": f1})
    if f1 > state.best_f1:
        state.best_f1, state.bad_evals = f1, 0
        if accelerator.is_main_process:
            save_torch(run_dir / "checkpoint" / "best_model.pt", model.state_dict())
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
