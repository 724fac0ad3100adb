"""The results record of one training run, its atomic JSON file, and the saved predictions.

One ``results.json`` per run at ``<out_dir>/<run_id>/results.json`` with exactly the keys of
``schema.RESULT_KEYS`` plus ``device`` and ``metric_labels`` (what each metric key means for the task,
``metrics.METRIC_LABELS``; for UDPOS ``f1`` is token accuracy and ``seqeval_raw_f1`` the paper's metric):

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

import gzip
import json
import resource
from pathlib import Path
from typing import Any, Sequence

import torch

from cjkv_phon.atomic import write_bytes, write_json, write_text
from cjkv_phon.provenance import config_hash, git_commit, package_versions
from cjkv_phon.recipes import config_to_dict
from cjkv_phon.schema import RESULT_KEYS, run_id
from cjkv_phon.training.config import TrainConfig
from cjkv_phon.training.metrics import METRIC_LABELS
from cjkv_phon.training.precision import resolve_precision, run_device

TAG_IDS_FILE = "tag_ids.json.gz"     # beside results.json (write_results)

# Fields added in issue 20 and the value that gives the behaviour before them (absent from old records).
LEGACY_DEFAULTS: dict[str, Any] = {"tokenisation": "per-token", "input_lr": None, "crf_lr": None}

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
    uninterrupted one.

    ``precision`` (resolved: bf16 or fp32; ``cfg.resolved()`` turns "auto" into one of them) replaced the
    flag ``bf16: true`` (bf16 autocast on CUDA only, ignored on the CPU) in issue 19. An fp32 run hashes
    exactly as its settings did before, with that flag, so every recorded fp32 run (all CPU runs so far)
    keeps its hash and the bench does not retrain it; a bf16 run hashes with its precision, so it can never
    pass for an fp32 run (and ``precision: auto`` on a bf16 machine retrains what was fp32).
    """
    settings = config_to_dict(cfg)
    for key in ("max_steps", "out_dir", "eval_batch_size"):
        settings.pop(key, None)
    precision = resolve_precision(settings.pop("precision"), run_device(cfg.device))   # as train() resolves it
    if precision == "fp32":
        settings["bf16"] = True          # the settings' form before issue 19
    else:
        settings["precision"] = precision
    if not settings.get("extra_target_tests"):      # added in issue 20: absent = the hashes of runs before it
        settings.pop("extra_target_tests", None)
    # Also added in issue 20, each absent at the value that reproduces the settings before it: no separate
    # rate for the input-side additions or the CRF (both at head_lr), one tokenisation per token.
    for key, before in LEGACY_DEFAULTS.items():
        if settings.get(key) == before:
            settings.pop(key)
    return config_hash(settings)


def legacy_settings(config: dict[str, Any], device: str) -> dict[str, Any]:
    """A recorded config from before issues 19/20 in today's fields: its ``bf16`` flag becomes the
    precision the run computed in (bf16 only on a CUDA device, fp32 on the CPU, whatever the flag); a
    field added later takes the value that reproduces the run's settings (``LEGACY_DEFAULTS``).

    Code changes that no setting names (issue 20's zero-initialised CRF, for one) are not undone here:
    the record's ``git_commit`` says which code a run used."""
    out = dict(config)
    if "bf16" in out:
        flag = out.pop("bf16")
        out.setdefault("precision", "bf16" if flag and device.startswith("cuda") else "fp32")
    for key, before in LEGACY_DEFAULTS.items():
        out.setdefault(key, before)
    return out


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
        "metrics": metrics, "metric_labels": METRIC_LABELS[cfg.task],
        "timings": timings, "peak_memory": peak_memory(),
        "versions": package_versions(VERSIONED_PACKAGES), "git_commit": git_commit(),
        "device": device_name(device),
    }
    missing = [k for k in RESULT_KEYS if k not in record]
    if missing:
        raise ValueError(f"results record lacks {missing}")
    return record


def write_results(run_dir: str | Path, record: dict[str, Any]) -> Path:
    """Atomically write ``record`` to ``<run_dir>/results.json``, its per-sentence tag ids beside it.

    ``decoders.tag_ids`` (every evaluated sentence's decoded and argmax tag ids) is most of a record: 2.6 of
    3.1 MB for a full-data PAN-X ja->ko run. It goes to ``TAG_IDS_FILE`` (gzip, fixed header: stable bytes),
    written first, so a ``results.json`` -- the mark of a finished run -- never lacks it; the file's record
    names it (``decoders.tag_ids_file``) and ``load_tag_ids`` reads it. Records without tag ids are written
    as they are.
    """
    run_dir = Path(run_dir)
    decoders = record.get("decoders")
    if isinstance(decoders, dict) and "tag_ids" in decoders:
        blob = json.dumps(decoders["tag_ids"], sort_keys=True).encode()
        write_bytes(run_dir / TAG_IDS_FILE, gzip.compress(blob, mtime=0))
        kept = {k: v for k, v in decoders.items() if k != "tag_ids"}
        record = {**record, "decoders": {**kept, "tag_ids_file": TAG_IDS_FILE}}
    return write_json(run_dir / "results.json", record)


def load_tag_ids(run_dir: str | Path) -> dict[str, Any]:
    """A finished run's ``{side: {split: {"decoded": ..., "argmax": ...}}}`` (``evaluation.encode_tag_ids``
    strings) from ``TAG_IDS_FILE``."""
    return json.loads(gzip.decompress((Path(run_dir) / TAG_IDS_FILE).read_bytes()))


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
