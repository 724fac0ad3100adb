"""The results record of one training run, its atomic JSON file, and the saved predictions.

One ``results.json`` per run at ``<out_dir>/<run_id>/results.json`` with exactly the keys of
``schema.RESULT_KEYS`` plus ``device``:

    {"run_id": "panx_zh-vi_phonexl_s1", "task": "panx", "source_lang": "zh", "target_lang": "vi",
     "system": "phonexl", "seed": 1, "backbone": "multilingual-e5-small",
     "config": {... every TrainConfig field, resolved ...}, "config_hash": "3f2a...",
     "metrics": {"source": {"dev": {"f1": 80.1, "precision": ..., "recall": ..., "accuracy": ...},
                            "test": {...}},
                 "target": {"dev": {...}, "test": {...}}},
     "timings": {"train_s": ..., "eval_s": ..., "train_sentences_per_s": ...,
                 "eval_sentences_per_s": ..., "steps": ...},
     "peak_memory": {"rss_mib": ..., "cuda_max_allocated_mib": ...},
     "versions": {"torch": "2.13.0", ...}, "git_commit": "ae4f0c2...", "device": "cpu"}

Metrics are percentages (0..100) from ``metrics.evaluate_tags``. The trainer adds ``sentence_counts``:
per side and split, each sentence's id and (correct, predicted, gold) chunk counts, compact strings
(``sentence_scores``), which a paired bootstrap needs and which copy none of the text. Predictions go beside it as
``predictions/<side>-<split>.jsonl``, one ``{"id", "tokens", "gold", "pred"}`` object per sentence.
"""

from __future__ import annotations

import json
import resource
from pathlib import Path
from typing import Any, Sequence

import torch

from cjkv_phon.atomic import write_json, write_text
from cjkv_phon.provenance import config_hash, git_commit, package_versions
from cjkv_phon.recipes import config_to_dict
from cjkv_phon.schema import RESULT_KEYS, run_id
from cjkv_phon.training.config import TrainConfig

VERSIONED_PACKAGES = ("cjkv-phon", "torch", "transformers", "tokenizers", "accelerate", "numpy",
                      "seqeval", "pyarrow")

# What the task loss of a run was normalised by, as results.json states it (``loss_normalisation``).
LOSS_NORMALISATION = {
    "token": "task: CRF NLL per token (summed over the batch / its tokens; the scale of token-mean CE, "
             "for which Table 5's alpha/beta/gamma were tuned)",
    "sentence": "task: CRF NLL per sentence (mean over the batch's sentences; ~20x the token-mean scale)",
    "ce": "task: token-mean softmax cross-entropy (no CRF)",
}


def run_config_hash(cfg: TrainConfig) -> str:
    """The hash that identifies a run's settings: execution-only fields (``max_steps``, where the run
    writes, the evaluation batch size) are left out, so an interrupted-and-resumed run hashes like the
    uninterrupted one."""
    settings = config_to_dict(cfg)
    for key in ("max_steps", "out_dir", "eval_batch_size"):
        settings.pop(key, None)
    return config_hash(settings)


def peak_memory() -> dict[str, float | None]:
    """Peak resident memory of this process in MiB, and peak CUDA allocation when on a GPU."""
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024   # Linux reports KiB
    cuda = torch.cuda.max_memory_allocated() / 2**20 if torch.cuda.is_available() else None
    return {"rss_mib": round(rss_mib, 1), "cuda_max_allocated_mib": None if cuda is None else round(cuda, 1)}


def device_name(device: torch.device) -> str:
    """``cpu`` or the CUDA card's name, e.g. ``cuda:0 (NVIDIA H100 80GB HBM3)``."""
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    return str(device)


def build_record(cfg: TrainConfig, metrics: dict[str, Any], timings: dict[str, float],
                 device: torch.device) -> dict[str, Any]:
    """The results record of a finished run (``cfg`` resolved); checked against ``RESULT_KEYS``."""
    record = {
        "run_id": run_id(cfg.task, cfg.source_lang, cfg.target_lang, cfg.system, cfg.seed),
        "task": cfg.task, "source_lang": cfg.source_lang, "target_lang": cfg.target_lang,
        "system": cfg.system, "seed": cfg.seed, "backbone": cfg.backbone,
        "config": config_to_dict(cfg), "config_hash": run_config_hash(cfg),
        "metrics": metrics, "timings": timings, "peak_memory": peak_memory(),
        "versions": package_versions(VERSIONED_PACKAGES), "git_commit": git_commit(),
        "device": device_name(device),
    }
    missing = [k for k in RESULT_KEYS if k not in record]
    if missing:
        raise ValueError(f"results record lacks {missing}")
    return record


def write_results(run_dir: str | Path, record: dict[str, Any]) -> Path:
    """Atomically write ``record`` to ``<run_dir>/results.json``."""
    return write_json(Path(run_dir) / "results.json", record)


def write_predictions(path: str | Path, ids: Sequence[str], tokens: Sequence[Sequence[str]],
                      gold: Sequence[Sequence[str]], pred: Sequence[Sequence[str]]) -> Path:
    """Atomically write one JSON object per sentence: ``{"id", "tokens", "gold", "pred"}``."""
    lines = [json.dumps({"id": i, "tokens": list(t), "gold": list(g), "pred": list(p)}, ensure_ascii=False)
             for i, t, g, p in zip(ids, tokens, gold, pred, strict=True)]
    return write_text(path, "\n".join(lines) + "\n")


def read_results(path: str | Path) -> dict[str, Any]:
    """Read a results JSON and check it carries every ``RESULT_KEYS`` key."""
    record = json.loads(Path(path).read_text(encoding="utf-8"))
    missing = [k for k in RESULT_KEYS if k not in record]
    if missing:
        raise ValueError(f"{path}: results record lacks {missing}")
    return record
