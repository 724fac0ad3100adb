"""Learning rates of the input-side additions (LE, PE) and of the CRF, chosen on SOURCE dev (issue 20, items 3, 6).

A few short PhoneXL runs on PAN-X zh->vi (seed 1, cpu-v2's training settings, e5-small) that differ only
in ``input_lr`` / ``crf_lr`` or in LE (``phonexl-no-le``: ``use_le=False``). From each run's record
and its best (source-dev-selected) weights, on the run's source dev sample:

* Viterbi F1 (the run's decoder) and emission-argmax F1 (seqeval's default chunking of the argmax tags);
* at gold chunk starts, the share where the emission argmax is ``B-X`` of the gold type ("does the
  emission layer rank B-X first?");
* how far the CRF scores moved from their (zero) initialisation (``results.json`` ``crf``);
* the norm of LE[source] and LE[target] (LE[target] is trained only through L_XMLM).

Only source dev decides; target F1 is in the runs' results.json and is not read here.

Rule (written before the runs): the variant with the highest mean source-dev Viterbi F1 over the seeds run
(1 and 2) sets ``input_lr`` and ``crf_lr`` for later grids; the source-dev sample is 1,000 sentences (the
selection sample of the full preset), and the runs use the arithmetic those grids use (``--precision``,
default auto: bf16 on this CPU). Test sets are cut to 200 sentences: nothing here reads them.

    nice -n 5 flock -s /tmp/cjkv-train.lock python benchmarks/lr_choice.py \
        --data /work/baseline/release/data --dictionaries build/dictionaries --variant NAME [...]

Writes benchmarks/results/lr_choice/<variant>.json per variant and prints a table of all present.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import torch
import yaml

from cjkv_phon.atomic import atomic_path
from cjkv_phon.training import trainer
from cjkv_phon.training.batches import LANG_IDS
from cjkv_phon.training.config import TrainConfig
from cjkv_phon.training.evaluation import decode_tag_ids
from cjkv_phon.training.results import load_tag_ids
from cjkv_phon.training.run_data import load_run_data

ROOT = Path(__file__).resolve().parent.parent
BACKBONE = Path.home() / ".cache" / "cjkv" / "backbones" / "multilingual-e5-small"
OUT = ROOT / "benchmarks" / "results" / "lr_choice"
PRESET = ROOT / "benchmarks" / "presets" / "cpu-v2.yaml"
# name -> overrides of the PhoneXL config (lr 5e-5, head_lr 1e-3 from the preset)
VARIANTS = {
    "input-head-crf-head": {"input_lr": 1e-3, "crf_lr": 1e-3},      # every addition at head_lr (before)
    "input-head-crf-5e-2": {"input_lr": 1e-3, "crf_lr": 5e-2},
    "input-lr-crf-5e-2": {"input_lr": 5e-5, "crf_lr": 5e-2},        # LE/PE at the encoder's rate (the paper's one rate)
    "no-le-input-lr-crf-5e-2": {"input_lr": 5e-5, "crf_lr": 5e-2, "use_le": False},
    "no-le-input-head-crf-5e-2": {"input_lr": 1e-3, "crf_lr": 5e-2, "use_le": False},
}


# cpu-v2's training settings, except what this check needs: a 1,000-sentence source-dev sample (as the full
# preset selects on), small test samples (never read here), and the grids' arithmetic (set from --precision).
SETTINGS = {"max_eval_sentences": 1000, "max_test_sentences": 200, "max_source_test_sentences": 200}


def config(variant: str, data: str, dictionaries: str, backbone: str, seed: int = 1,
           precision: str = "auto") -> TrainConfig:
    """The PAN-X zh->vi PhoneXL run of ``variant`` with cpu-v2's training settings."""
    train = {**yaml.safe_load(PRESET.read_text(encoding="utf-8"))["train"], **SETTINGS, "precision": precision}
    return TrainConfig(task="panx", source_lang="zh", target_lang="vi", system="phonexl", seed=seed,
                       backbone=backbone, data_dir=data, dictionary_dir=dictionaries,
                       out_dir=str(ROOT / "runs" / "lr_choice" / variant), **train, **VARIANTS[variant]).resolved()


def measure(cfg: TrainConfig, record: dict) -> dict:
    """Source-dev figures of the selected weights from the run's record and best checkpoint."""
    data = load_run_data(cfg, require_phonemes=True)
    dev = data.evals[("source", "dev")]
    labels = record["decoders"]["labels"]
    run_dir = Path(cfg.out_dir) / record["run_id"]
    argmax = decode_tag_ids(load_tag_ids(run_dir)["source"]["dev"]["argmax"])
    starts = [(tag, labels[a[j]]) for ex, a in zip(dev, argmax, strict=True)
              for j, tag in enumerate(ex.tags) if tag.startswith("B-")]
    state = torch.load(run_dir / "checkpoint" / "best_model.pt", map_location="cpu", weights_only=True)
    le = state["language_embeddings.weight"]
    return {
        "source_dev_viterbi_f1": record["metrics"]["source"]["dev"]["f1"],
        "source_dev_argmax_f1": record["decoders"]["argmax_metrics"]["source"]["dev"]["f1"],
        "gold_chunk_starts": len(starts),
        "emission_argmax_is_gold_B": round(sum(g == a for g, a in starts) / max(len(starts), 1), 4),
        "crf": record["crf"],
        "le_norm": {lang: round(float(le[LANG_IDS[lang]].norm()), 4) for lang in ("zh", "vi")},
        "unknown_share": record.get("phoneme_vocabulary", {}).get("unknown_share"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(ROOT / "releases" / "xtreme-cjkv-phonemic" / "data"))
    parser.add_argument("--dictionaries", default=str(ROOT / "build" / "dictionaries"))
    parser.add_argument("--backbone", default=str(BACKBONE))
    parser.add_argument("--variant", action="append", choices=sorted(VARIANTS), default=[])
    parser.add_argument("--seed", type=int, action="append", default=[])
    parser.add_argument("--precision", default="auto", choices=["auto", "bf16", "fp32"])
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(1)
    runs = [(variant, seed) for variant in args.variant for seed in args.seed or [1]]
    for variant, seed in runs:
        cfg = config(variant, args.data, args.dictionaries, args.backbone, seed, args.precision)
        t0 = time.perf_counter()
        record = trainer.train(cfg)
        row = {"variant": variant, "seed": seed, "overrides": VARIANTS[variant],
               "precision": record["precision"], "config_hash": record["config_hash"],
               "git_commit": record["git_commit"], "best_step": record["selection"]["best_step"],
               "history_source_dev_f1": [h["source_dev_f1"] for h in record["history"]],
               **measure(cfg, record), "wall_s": round(time.perf_counter() - t0, 1)}
        with atomic_path(OUT / f"{variant}_s{seed}.json") as tmp:
            Path(tmp).write_text(json.dumps(row, indent=2) + "\n", encoding="utf-8")
    print_table()


def print_table() -> None:
    """Every recorded run, then each variant's mean source-dev Viterbi F1 over its seeds (the rule)."""
    rows = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(OUT.glob("*_s*.json"))]
    print("| variant | seed | source dev Viterbi F1 | argmax F1 | argmax=B at starts | CRF max |Δ| trans | LE zh / vi |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['variant']} | {r['seed']} | {r['source_dev_viterbi_f1']:.2f} | {r['source_dev_argmax_f1']:.2f} | "
              f"{r['emission_argmax_is_gold_B']:.3f} | {r['crf']['max_abs']['transitions']:.3f} | "
              f"{r['le_norm']['zh']:.3f} / {r['le_norm']['vi']:.3f} |")
    by_variant: dict[str, list[float]] = {}
    for r in rows:
        by_variant.setdefault(r["variant"], []).append(r["source_dev_viterbi_f1"])
    means = {v: sum(f) / len(f) for v, f in by_variant.items()}
    for v, m in sorted(means.items(), key=lambda kv: -kv[1]):
        print(f"{v}: mean source-dev Viterbi F1 {m:.2f} over seeds {len(by_variant[v])}")


if __name__ == "__main__":
    main()
