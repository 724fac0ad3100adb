"""Training and evaluation throughput of finetune vs PhoneXL on the same batches (a script, not a test).

Usage (from the project root, after ``cjkv build-data`` and ``cjkv build-dict``)::

    .venv/bin/python benchmarks/bench_train.py [--backbone multilingual-e5-small]
        [--data-dir releases/xtreme-cjkv-phonemic/data] [--dictionary-dir build/dictionaries]
        [--sentences 64] [--batch-size 16] [--steps 4] [--out benchmarks/results/bench_train.json]

Each variant runs in its own subprocess, so its peak RSS is its own: it loads the backbone, builds the
model exactly as ``train`` does (vocabulary extension included), takes the first N PAN-X zh training
sentences in batches, runs one warm-up step and then ``--steps`` timed optimizer steps (system
``prepare`` + ``losses`` + backward + AdamW), then times prediction on the same sentences. Variants:

* ``finetune``: the task loss only (one encoder pass per step);
* ``phonexl-exact``: the paper's objective with Table 5 weights for PAN-X zh-vi: task + MLM + XMLM
  passes every step, full-vocabulary softmax (``aux_schedule: every``, ``mlm_vocab: full``);
* ``phonexl``: PhoneXL's defaults, MLM and XMLM on alternating steps at double weight, softmax over
  the data's candidate subwords (see systems/phonexl.py).

The ratio finetune / PhoneXL sentences per second is the cost of PhoneXL's extra passes. Wall time and
CPU time are both recorded: on a shared machine the wall figures are noisy, CPU time is not.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import resource
import subprocess
import sys
import time

import torch

VARIANTS = {"finetune": ("finetune", {}),
            "phonexl-exact": ("phonexl", {"aux_schedule": "every", "mlm_vocab": "full"}),
            "phonexl": ("phonexl", {})}


def run_variant(args: argparse.Namespace) -> dict:
    """Time one variant in this process; returns its measurements."""
    from cjkv_phon.data.build import load_split
    from cjkv_phon.schema import LABELS
    from cjkv_phon.training.backbone import load_backbone
    from cjkv_phon.training.batches import Collator, examples_from_table, split_examples
    from cjkv_phon.training.config import TrainConfig
    from cjkv_phon.training.system import Stage
    from cjkv_phon.training.systems import SYSTEMS
    from cjkv_phon.training.trainer import load_dictionary, param_groups, predict_tags
    from cjkv_phon.training.vocab import extend_vocab, phoneme_symbols

    system_name, options = VARIANTS[args.variant]
    cfg = TrainConfig(system=system_name, backbone=args.backbone, data_dir=args.data_dir,
                      dictionary_dir=args.dictionary_dir, batch_size=args.batch_size, options=options).resolved()
    torch.manual_seed(0)
    table = load_split(cfg.data_dir, "panx", "zh", "train").slice(0, args.sentences)
    examples = examples_from_table(table, cfg.phonemes, "panx/zh/train")
    backbone = load_backbone(cfg.backbone)
    system_cls = SYSTEMS[cfg.system]
    if system_cls.uses_phonemes and cfg.extend_vocab:
        extend_vocab(backbone.tokenizer, backbone.model, phoneme_symbols(ex.phonemes for ex in examples))
    collator = Collator(backbone.tokenizer, LABELS["panx"], cfg.max_subwords)
    system = system_cls(cfg, collator, load_dictionary(cfg) if system_cls.needs_dictionary(cfg) else None)
    model = system.build_model(backbone.model)
    optimizer = torch.optim.AdamW(param_groups(model, cfg.weight_decay, cfg.head_lr), lr=cfg.lr)
    chunks = split_examples(examples, collator)
    batches = [chunks[i:i + args.batch_size] for i in range(0, len(chunks), args.batch_size)]
    stage = Stage("train", 1)
    system.begin_stage(stage, model, chunks, lambda exs: [])   # e.g. PhoneXL's MLM candidate vocabulary

    def step(k: int) -> int:
        model.train()
        batch = system.prepare(batches[k % len(batches)], random.Random(k), stage)
        losses = system.losses(model, batch, k, torch.Generator().manual_seed(k))
        losses["loss"].backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return len(batches[k % len(batches)])

    step(0)                                                   # warm-up: allocator, caches
    wall, cpu = time.perf_counter(), time.process_time()
    seen = sum(step(k) for k in range(1, args.steps + 1))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    eval_wall, eval_cpu = time.perf_counter(), time.process_time()
    predict_tags(model, collator, examples, args.batch_size * 2)
    eval_wall, eval_cpu = time.perf_counter() - eval_wall, time.process_time() - eval_cpu
    return {"variant": args.variant, "system": cfg.system, "options": options, "backbone": cfg.backbone,
            "sentences_per_step": args.batch_size, "timed_steps": args.steps,
            "train_sentences_per_s": round(seen / wall, 3), "train_sentences_per_cpu_s": round(seen / cpu, 3),
            "eval_sentences_per_s": round(len(examples) / eval_wall, 3),
            "eval_sentences_per_cpu_s": round(len(examples) / eval_cpu, 3),
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "torch_threads": torch.get_num_threads()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backbone", default="multilingual-e5-small")
    parser.add_argument("--data-dir", default="releases/xtreme-cjkv-phonemic/data")
    parser.add_argument("--dictionary-dir", default="build/dictionaries")
    parser.add_argument("--sentences", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--out", default="benchmarks/results/bench_train.json")
    parser.add_argument("--variant", choices=sorted(VARIANTS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:                                       # child process: one variant, JSON on stdout
        logging.basicConfig(level=logging.WARNING)
        print(json.dumps(run_variant(args)))
        return
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    rows = {}
    for variant in VARIANTS:
        cmd = [sys.executable, __file__, "--variant", variant, *sys.argv[1:]]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        rows[variant] = json.loads(out.strip().splitlines()[-1])
        logging.info("%s: %s", variant, rows[variant])
    base = rows["finetune"]
    ratios = {v: {"wall": round(base["train_sentences_per_s"] / r["train_sentences_per_s"], 2),
                  "cpu": round(base["train_sentences_per_cpu_s"] / r["train_sentences_per_cpu_s"], 2)}
              for v, r in rows.items() if v != "finetune"}
    from cjkv_phon.atomic import write_json
    from cjkv_phon.provenance import git_commit
    write_json(args.out, {"variants": rows, "slowdown_vs_finetune": ratios, "git_commit": git_commit(),
                          "device": "cpu", "settings": {k: v for k, v in vars(args).items() if k != "variant"}})
    logging.info("slowdown vs finetune: %s -> %s", ratios, args.out)


if __name__ == "__main__":
    main()
