"""Training and evaluation throughput before/after trimming and length-aware batching (a script, not a test).

Usage (from the project root, after ``cjkv build-data --tasks panx --langs zh,vi`` and
``cjkv build-dict --pair zh-vi``; timed, so hold the machine exclusively)::

    .venv/bin/python benchmarks/bench_train.py [--backbone multilingual-e5-small] [--threads 1]
        [--pool 256] [--before-steps 4] [--eval-sentences 2000] [--lock /tmp/cjkv-cpu.lock]
        [--out benchmarks/results/bench_train.json]

Four variants, each in its own subprocess (its peak RSS is its own; with ``--lock`` each child holds
that file exclusively through ``flock -x``, so one hold lasts one variant):

* ``before-finetune`` / ``before-phonexl``: today's path before this change: the full vocabulary
  (``trim_vocab: false``), random batches (``length_bucket: 1``, plain shuffled slices), evaluation by
  the previous ``predict_tags`` (copied below as ``legacy_predict``: ``no_grad``, token-count order,
  batches of 2 x batch_size = 32);
* ``after-finetune`` / ``after-phonexl``: the new defaults (trimmed vocabulary, length-bucketed batches,
  ``predict_tags`` with ``eval_batch_size`` 64 under ``inference_mode``).

All use the cpu preset's settings (e5-small, batch 16, max 128 subwords, lr 5e-5, head_lr 1e-3) and
PhoneXL's defaults (Table 5 weights, MLM/XMLM on alternating steps, data-vocabulary softmax). The model
is built exactly as ``train`` builds it (``trainer.build_run``, vocabulary extension, trimming) and each
step is ``trainer.train_step`` (prepare, losses, backward, clipping) + AdamW.

The fixed stream: a fixed sample of PAN-X zh training sentences split into chunks, the pool (``--pool``
chunks, one length bucket of 16 batches of 16). ``after`` variants train on ALL of the pool's batches
(one epoch of seed 1's bucketed batches, the trainer's own order); ``before`` variants, ~4x slower per
step, train on the first ``--before-steps`` of seed 1's random batches of the same pool (random
batches are exchangeable, so their sentences/s estimates the pool's; the padding ratio of all the
pool's random batches is reported beside that of the timed ones). One untimed warm-up step first.

Reported per variant: sentences/s (wall and CPU), the optimizer's share of step time (AdamW step +
zero_grad), the real/padded subword ratio of the encoded views, peak RSS, the encoder's achieved
GFLOP/s against the FLOP count 6 x N_enc x (padded positions entering the encoder, summed over passes),
N_enc = the parameters of ``backbone.encoder`` (the transformer layers; embeddings excluded), the size
of a training checkpoint (model + AdamW state, as ``state.pt``) and of the weights alone
(``best_model.pt``), and evaluation sentences/s on ``--eval-sentences`` PAN-X vi test sentences (the
trainer's fixed subsample). Ratios after/before, and PhoneXL/finetune step time, go to the summary.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import torch

VARIANTS = ("before-finetune", "after-finetune", "before-phonexl", "after-phonexl")
CPU_PRESET = dict(lr=5e-5, head_lr=1e-3, batch_size=16, max_subwords=128, warmup_ratio=0.1, device="cpu")


def legacy_predict(model, collator, examples, batch_size: int) -> list[list[str]]:
    """``evaluation.predict_tags`` as it was before length-aware evaluation (the "before" path)."""
    from cjkv_phon.training.batches import rejoin, split_examples
    chunks = split_examples(examples, collator)
    order = sorted(range(len(chunks)), key=lambda k: len(chunks[k].tokens))
    preds: list[list[str]] = [[] for _ in chunks]
    model.eval()
    with torch.no_grad():
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            ids = model.predict(collator.collate([chunks[k] for k in idx]))
            for k, row in zip(idx, ids):
                preds[k] = [collator.labels[t] for t in row]
    joined = rejoin(chunks, preds)
    return [joined[ex.id] for ex in examples]


def file_mib(obj) -> float:
    """Size in MiB of ``obj`` written with ``torch.save`` (to a temporary file, then deleted)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.pt"
        torch.save(obj, path)
        return round(path.stat().st_size / 2**20, 1)


def run_variant(args: argparse.Namespace) -> dict:
    """Time one variant in this process; returns its measurements."""
    from cjkv_phon.training.bucketing import epoch_batches, subword_length
    from cjkv_phon.training.config import TrainConfig
    from cjkv_phon.training.system import Stage
    from cjkv_phon.training.evaluation import predict_tags
    from cjkv_phon.training.optimizer import param_groups
    from cjkv_phon.training.run_data import repair_iob
    from cjkv_phon.training.trainer import _accelerator, build_run, train_step
    from cjkv_phon.training.batches import split_examples
    from cjkv_phon.training.trim import trim_run_vocabulary

    torch.set_num_threads(args.threads)
    when, system_name = args.variant.split("-", 1)
    before = when == "before"
    cfg = TrainConfig(system=system_name, backbone=args.backbone, data_dir=args.data_dir,
                      dictionary_dir=args.dictionary_dir, max_train_sentences=args.pool,
                      max_eval_sentences=16, max_test_sentences=args.eval_sentences,
                      trim_vocab=not before, length_bucket=1 if before else 16, **CPU_PRESET).resolved()
    torch.manual_seed(0)
    data, collator, system, backbone = build_run(cfg)
    model = system.build_model(backbone)
    t0 = time.perf_counter()
    vocabulary = trim_run_vocabulary(cfg, data, collator, system, model)
    trim_s = time.perf_counter() - t0
    accelerator = _accelerator(cfg)
    optimizer = torch.optim.AdamW(param_groups(model, cfg.weight_decay, cfg.head_lr), lr=cfg.lr)
    chunks = [replace(c, tags=repair_iob(c.tags)) for c in split_examples(data.train, collator)][:args.pool]
    stage = Stage("train", 1)
    system.begin_stage(stage, model, chunks, lambda exs: [])
    lengths = [subword_length(collator, c) for c in chunks]
    batches = epoch_batches(lengths, cfg.batch_size, (cfg.seed, 0, 0), cfg.length_bucket)
    all_batches = batches
    timed = batches[: args.before_steps] if before else batches
    positions = [0]
    hook = model.layers[0].register_forward_pre_hook(
        lambda _m, inputs: positions.__setitem__(0, positions[0] + inputs[0].shape[0] * inputs[0].shape[1]))

    def step(k: int, idx: list[int], padding: dict) -> tuple[float, float]:
        """One optimizer step on batch ``idx``; returns (step wall s, optimizer wall s)."""
        start = time.perf_counter()
        train_step(system, model, [[chunks[j] for j in idx]], stage, k, cfg, accelerator, padding)
        opt = time.perf_counter()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        end = time.perf_counter()
        return end - start, end - opt

    step(0, batches[-1], {"real": 0, "slots": 0})                           # warm-up, untimed
    positions[0] = 0
    padding = {"real": 0, "slots": 0}
    wall, cpu = time.perf_counter(), time.process_time()
    times = [step(k, idx, padding) for k, idx in enumerate(timed, start=1)]
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    hook.remove()
    sentences = sum(len(b) for b in timed)
    n_enc = sum(p.numel() for p in model.backbone.encoder.parameters())
    flop = 6 * n_enc * positions[0]
    pool_padding = {"real": 0, "slots": 0}
    for idx in all_batches:                                                   # padding of the whole pool
        mask = collator.collate([chunks[j] for j in idx]).attention_mask
        pool_padding["real"] += int(mask.sum())
        pool_padding["slots"] += int(mask.numel())
    checkpoint_mib = file_mib({"model": model.state_dict(), "optimizer": optimizer.state_dict()})
    weights_mib = file_mib(model.state_dict())
    test = data.evals[("target", "test")]
    eval_wall, eval_cpu = time.perf_counter(), time.process_time()
    if before:
        legacy_predict(model, collator, test, 2 * cfg.batch_size)
    else:
        predict_tags(model, collator, test, cfg.eval_batch_size)
    eval_wall, eval_cpu = time.perf_counter() - eval_wall, time.process_time() - eval_cpu
    return {"variant": args.variant, "system": cfg.system, "backbone": cfg.backbone,
            "trim_vocab": cfg.trim_vocab, "length_bucket": cfg.length_bucket, "vocabulary": vocabulary,
            "trim_s": round(trim_s, 2), "timed_steps": len(timed), "timed_sentences": sentences,
            "step_s": [round(t, 3) for t, _ in times],
            "train_sentences_per_s": round(sentences / wall, 3),
            "train_sentences_per_cpu_s": round(sentences / cpu, 3),
            "s_per_step": round(wall / len(timed), 3),
            "optimizer_share": round(sum(o for _, o in times) / sum(t for t, _ in times), 3),
            "real_subword_ratio_timed": round(padding["real"] / padding["slots"], 3),
            "real_subword_ratio_pool": round(pool_padding["real"] / pool_padding["slots"], 3),
            "encoder_params": n_enc, "encoder_positions": positions[0], "encoder_flop": flop,
            "encoder_gflop_per_s": round(flop / wall / 1e9, 2),
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "checkpoint_mib": checkpoint_mib, "weights_mib": weights_mib,
            "eval_sentences": len(test), "eval_sentences_per_s": round(len(test) / eval_wall, 2),
            "eval_sentences_per_cpu_s": round(len(test) / eval_cpu, 2),
            "eval_batch_size": 2 * cfg.batch_size if before else cfg.eval_batch_size,
            "torch_threads": torch.get_num_threads()}


def summarise(rows: dict[str, dict]) -> dict:
    """after/before ratios per system, and PhoneXL/finetune step time per path."""
    out = {}
    for system in ("finetune", "phonexl"):
        b, a = rows[f"before-{system}"], rows[f"after-{system}"]
        out[system] = {"train_speedup": round(a["train_sentences_per_s"] / b["train_sentences_per_s"], 2),
                       "train_speedup_cpu": round(a["train_sentences_per_cpu_s"] / b["train_sentences_per_cpu_s"], 2),
                       "eval_speedup": round(a["eval_sentences_per_s"] / b["eval_sentences_per_s"], 2),
                       "checkpoint_mib": [b["checkpoint_mib"], a["checkpoint_mib"]]}
    for when in ("before", "after"):
        ft, px = rows[f"{when}-finetune"], rows[f"{when}-phonexl"]
        out[f"phonexl_over_finetune_step_{when}"] = round(ft["train_sentences_per_s"] / px["train_sentences_per_s"], 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backbone", default="multilingual-e5-small")
    parser.add_argument("--data-dir", default="releases/xtreme-cjkv-phonemic/data")
    parser.add_argument("--dictionary-dir", default="build/dictionaries")
    parser.add_argument("--pool", type=int, default=256, help="training chunks in the fixed stream")
    parser.add_argument("--before-steps", type=int, default=4, help="timed steps of the before variants")
    parser.add_argument("--eval-sentences", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=1, help="torch threads per variant")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--lock", default="", help="run each variant under `flock -x LOCK`")
    parser.add_argument("--out", default="benchmarks/results/bench_train.json")
    parser.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:                                       # child process: one variant, JSON on stdout
        logging.basicConfig(level=logging.WARNING)
        print(json.dumps(run_variant(args)))
        return
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    rows = {}
    child_args = [a for a in sys.argv[1:]]
    for variant in args.variants.split(","):
        cmd = [sys.executable, __file__, "--variant", variant, *child_args]
        if args.lock:
            cmd = ["flock", "-x", args.lock, *cmd]
        env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if proc.returncode:
            sys.exit(f"{variant} failed:\n{proc.stderr[-3000:]}")
        rows[variant] = json.loads(proc.stdout.strip().splitlines()[-1])
        r = rows[variant]
        logging.info("%-16s train %6.3f sent/s (%5.2f s/step, optimizer %4.1f%%, real/padded %.2f), "
                     "encoder %5.1f GFLOP/s, eval %6.1f sent/s, peak RSS %6.0f MiB, checkpoint %6.0f MiB, "
                     "vocab %s/%s", variant, r["train_sentences_per_s"], r["s_per_step"],
                     100 * r["optimizer_share"], r["real_subword_ratio_timed"], r["encoder_gflop_per_s"],
                     r["eval_sentences_per_s"], r["peak_rss_mib"], r["checkpoint_mib"],
                     r["vocabulary"]["rows"], r["vocabulary"]["of"])
    from cjkv_phon.atomic import write_json
    from cjkv_phon.provenance import git_commit
    summary = summarise(rows) if set(VARIANTS) <= set(rows) else {}
    for system in ("finetune", "phonexl"):
        if system in summary:
            s = summary[system]
            logging.info("%s: training x%.2f (CPU time x%.2f), evaluation x%.2f, checkpoint %s -> %s MiB",
                         system, s["train_speedup"], s["train_speedup_cpu"], s["eval_speedup"], *s["checkpoint_mib"])
    if summary:
        logging.info("PhoneXL / finetune step time: before %.2f, after %.2f",
                     summary["phonexl_over_finetune_step_before"], summary["phonexl_over_finetune_step_after"])
    write_json(args.out, {"variants": rows, "summary": summary, "git_commit": git_commit(), "device": "cpu",
                          "command": " ".join([Path(sys.executable).name, *sys.argv]),
                          "settings": {k: v for k, v in vars(args).items() if k != "variant"}})
    logging.info("-> %s", args.out)


if __name__ == "__main__":
    main()
