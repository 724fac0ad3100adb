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
from dataclasses import replace
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
from cjkv_phon.training.precision import autocast
from cjkv_phon.training.results import write_predictions
from cjkv_phon.training.run_data import RunData
from cjkv_phon.training.sentence_scores import encode as encode_counts, sentence_counts

log = logging.getLogger(__name__)

EVAL_SETS = (("source", "dev"), ("source", "test"), ("target", "dev"), ("target", "test"))


def extra_sets(data: RunData) -> list[tuple[str, str]]:
    """The run's extra target test sets (``("target", "test@<name>")``, ``TrainConfig.extra_target_tests``):
    scored once with the selected model, like the four sets, and never read by selection."""
    return sorted(key for key in data.evals if key not in EVAL_SETS)


def extra_tests_record(cfg: TrainConfig, data: RunData) -> dict[str, Any]:
    """What results.json says of each extra test set: its folder, its token layout (from the release
    manifest, when there is one) and whether it holds the same sentence ids as the main target test."""
    from cjkv_phon.data.integrity import read_manifest   # the data stage, imported where it is used

    main_ids = [ex.id for ex in data.evals[("target", "test")]]
    out = {}
    for name, data_dir in cfg.extra_target_tests.items():
        try:
            layout = read_manifest(Path(data_dir).parent).get("layout", "xtreme")
        except (FileNotFoundError, ValueError):          # InputError is a ValueError
            layout = "unknown (no release manifest)"
        ids = [ex.id for ex in data.evals[("target", f"test@{name}")]]
        out[name] = {"data_dir": data_dir, "split": f"test@{name}", "layout": layout, "sentences": len(ids),
                     "same_sentence_ids": ids == main_ids}
    return out


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


def decode_ids(model: PhoneXLModel, collator: Collator, examples: Sequence[Example], batch_size: int,
               accelerator: Accelerator | None = None,
               precision: str = "fp32") -> list[tuple[list[int], list[int]]]:
    """Per example, ``(decoded tag ids, emission-argmax tag ids)``: long sentences are split, predicted,
    and re-joined. "Decoded" is the model's decoder (constrained Viterbi with a CRF, argmax without).

    Chunks are batched in order of subword length (each batch padded only to its own longest,
    ``bucketing.eval_batches``) under ``torch.inference_mode`` and the run's resolved ``precision``
    (``bf16``: autocast, the CRF's Viterbi stays fp32), and put back in input order.
    """
    device = accelerator.device if accelerator is not None else next(model.parameters()).device
    # Each input is keyed by its position: inputs may themselves be chunks of one sentence (xtune labels
    # its dict-MT views of chunked training examples), which share an id and start at chunk 1, 2, ...
    chunks = split_examples([replace(ex, id=str(i), chunk=0) for i, ex in enumerate(examples)], collator)
    preds: list[list[int] | None] = [None] * len(chunks)
    tops: list[list[int] | None] = [None] * len(chunks)
    was_training = model.training
    model.eval()
    with torch.inference_mode():
        for idx in eval_batches([subword_length(collator, c) for c in chunks], batch_size):
            batch = collator.collate([chunks[k] for k in idx]).to(device)
            with autocast(precision, device):
                emissions = model.emissions(model.word_vectors(model(batch), batch))     # [B, W, K]
            emissions = emissions.float()           # Viterbi and argmax in fp32 (an fp32 island)
            ids = model.decode(emissions, batch.word_mask)
            top = emissions.argmax(-1).tolist()
            for k, row, best in zip(idx, ids, top):
                preds[k], tops[k] = row, best[: len(row)]
    model.train(was_training)
    if any(p is None for p in preds):
        raise RuntimeError(f"{sum(p is None for p in preds)} of {len(chunks)} chunks got no prediction")
    decoded, argmax = rejoin(chunks, preds), rejoin(chunks, tops)
    return [(decoded[str(i)], argmax[str(i)]) for i in range(len(examples))]


def predict_tags(model: PhoneXLModel, collator: Collator, examples: Sequence[Example], batch_size: int,
                 accelerator: Accelerator | None = None, precision: str = "fp32") -> list[list[str]]:
    """Tag strings of the model's decoder for each example (``decode_ids``)."""
    return [[collator.labels[t] for t in decoded]
            for decoded, _ in decode_ids(model, collator, examples, batch_size, accelerator, precision)]


def encode_tag_ids(rows: Sequence[Sequence[int]]) -> str:
    """Tag ids of many sentences in one compact string: ids comma-separated, sentences space-separated.

    Example: ``[[0, 0, 5, 6], [1]]`` -> ``"0,0,5,6 1"`` (the record is pretty-printed one value per
    line, so a list of lists would take one line per token).
    """
    return " ".join(",".join(str(t) for t in row) for row in rows)


def decode_tag_ids(text: str) -> list[list[int]]:
    """Inverse of ``encode_tag_ids``."""
    return [[int(t) for t in sent.split(",")] for sent in text.split(" ")] if text else []


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


def evaluate_all(cfg: TrainConfig, data: RunData, decode, run_dir: Path, accelerator: Accelerator,
                 labels: Sequence[str]) -> tuple[dict, int, dict, dict]:
    """Metrics on source/target dev/test (and predictions saved).

    Args:
        decode: ``examples -> [(decoded ids, argmax ids)]`` (``decode_ids`` on the run's model).
        labels: tag names in id order.

    Returns:
        ``(metrics, sentences, counts, decoders)``: the decoder's metrics (Viterbi with a CRF: the primary
        figures), the number of sentences scored, per-sentence chunk counts (``sentence_scores.encode``),
        and ``{"argmax_metrics": ..., "tag_ids": ...}``: the emission-argmax metrics (seqeval's default
        chunking, issue 20) and each sentence's decoded and argmax tag ids (``encode_tag_ids``, in the
        order of ``counts``' ids; no text) so decoders and per-label errors can be studied without
        retraining.
    """
    metrics: dict[str, dict[str, dict[str, float]]] = {"source": {}, "target": {}}
    counts: dict[str, dict[str, dict[str, str]]] = {"source": {}, "target": {}}
    argmax_metrics: dict[str, dict[str, dict[str, float]]] = {"source": {}, "target": {}}
    tag_ids: dict[str, dict[str, dict[str, str]]] = {"source": {}, "target": {}}
    n = 0
    for side, split in [*EVAL_SETS, *extra_sets(data)]:
        examples = data.evals[(side, split)]
        both = decode(examples)
        pred = [[labels[t] for t in decoded] for decoded, _ in both]
        top = [[labels[t] for t in best] for _, best in both]
        gold = [list(ex.tags) for ex in examples]
        metrics[side][split] = evaluate_tags(gold, pred, cfg.task)
        argmax_metrics[side][split] = evaluate_tags(gold, top, cfg.task)
        counts[side][split] = encode_counts(sentence_counts([ex.id for ex in examples], gold, pred, cfg.task))
        tag_ids[side][split] = {"decoded": encode_tag_ids([d for d, _ in both]),
                                "argmax": encode_tag_ids([a for _, a in both])}
        n += len(examples)
        if cfg.save_predictions and accelerator.is_main_process:
            write_predictions(run_dir / "predictions" / f"{side}-{split}.jsonl", [ex.id for ex in examples],
                              [ex.tokens for ex in examples], gold, pred)
    decoders = {"decoder": "viterbi" if cfg.use_crf else "argmax", "labels": list(labels),
                "argmax_metrics": argmax_metrics, "tag_ids": tag_ids}
    return metrics, n, counts, decoders
