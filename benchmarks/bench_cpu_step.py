"""Time one training step per system and the evaluation cost per sentence: the numbers behind cpu.yaml.

For each system: a few optimizer steps (prepare + losses + backward + AdamW) on batches of real
PAN-X zh training sentences with the e5-small backbone, reporting wall and CPU seconds per step;
then the evaluation cost (forward + Viterbi, ``evaluation.predict_tags``) per PAN-X zh test sentence.
Transcriptions are the tokens themselves (the cost of PE hardly depends on them) and the dictionary
is the MUSE zh-en-vi pivot with tokens as transcriptions, so no build step is needed.
CPU seconds are what an idle core would take; wall seconds depend on what else the machine runs.

    .venv/bin/python benchmarks/bench_cpu_step.py [--threads 1] [--batch-size 16] [--steps 3]

Writes ``benchmarks/results/cpu_step.json``.
"""

from __future__ import annotations

import argparse
import copy
import platform
import random
import time
from pathlib import Path

import torch
from rich.console import Console

from cjkv_phon.atomic import write_json
from cjkv_phon.data.xtreme import read_xtreme_tsv
from cjkv_phon.dictionary.lexicon import DictEntry, PivotDictionary, Side
from cjkv_phon.dictionary.pivot import pivot_pair
from cjkv_phon.dictionary.script import convention
from cjkv_phon.provenance import git_commit
from cjkv_phon.schema import PANX_LABELS
from cjkv_phon.training.backbone import load_backbone
from cjkv_phon.training.batches import Collator, Example, split_examples
from cjkv_phon.training.config import TrainConfig
from cjkv_phon.training.model import ModelSettings, PhoneXLModel
from cjkv_phon.training.system import SYSTEMS
from cjkv_phon.training.evaluation import predict_tags
from cjkv_phon.training.optimizer import param_groups

import cjkv_phon.training.systems  # noqa: F401  (registers the systems)

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def examples(split: str, n: int) -> list[Example]:
    """The first ``n`` PAN-X zh sentences of ``split``; the tokens stand in for their transcriptions."""
    path = SHARED / "xtreme" / "panx" / f"{split}-zh.tsv"
    sents = read_xtreme_tsv(path, task="panx", lang="zh", split=split, max_sentences=n).sentences
    return [Example(s.id, s.tokens, s.tokens, ("zh",) * len(s.tokens), s.tags) for s in sents]


def dictionary(text: str) -> PivotDictionary:
    """The MUSE zh-vi pivot entries whose zh word occurs in ``text``."""
    def side(lang: str, word: str) -> Side:
        toks = convention(lang).tokens(word)
        return Side(word, toks, toks, toks)
    entries, _ = pivot_pair(SHARED / "muse", "zh-vi")
    return PivotDictionary("zh", "vi", [DictEntry(side("zh", e.source), side("vi", e.target), e.pivots, e.support)
                                        for e in entries if e.source in text and e.target.strip()])


def time_steps(name: str, backbone, collator: Collator, data: list[Example], pivot, bs: int, steps: int) -> list[tuple[float, float]]:
    """(wall s, CPU s) of each of ``steps`` optimizer steps of system ``name``."""
    system = SYSTEMS[name](TrainConfig(system=name, batch_size=bs).resolved(), collator, pivot)
    model = system.build_model(copy.deepcopy(backbone.model))
    optimizer = torch.optim.AdamW(param_groups(model, 0.01), lr=2e-5)
    out = []
    for step in range(steps):
        batch = system.prepare(data[step * bs:(step + 1) * bs], random.Random(step), system.stages()[0])
        wall, cpu = time.perf_counter(), time.process_time()
        losses = system.losses(model, batch, step, torch.Generator().manual_seed(step))
        losses["loss"].backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        out.append((round(time.perf_counter() - wall, 2), round(time.process_time() - cpu, 2)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--systems", default="finetune,phonexl,cosda-ml")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    backbone = load_backbone("multilingual-e5-small")
    collator = Collator(backbone.tokenizer, PANX_LABELS, 128)
    train = split_examples(examples("train", args.batch_size * args.steps), collator)
    pivot = dictionary("".join("".join(ex.tokens) for ex in train))
    report = {"steps": {}, "threads": args.threads, "batch_size": args.batch_size,
              "machine": platform.processor() or platform.machine(), "git_commit": git_commit()}
    for name in args.systems.split(","):
        report["steps"][name] = time_steps(name, backbone, collator, train, pivot, args.batch_size, args.steps)
        Console().print(f"{name}: (wall s, CPU s) per step {report['steps'][name]}")
    test = split_examples(examples("test", 96), collator)
    model = PhoneXLModel(backbone.model, PANX_LABELS, ModelSettings(use_pe=False, use_le=False,
                                                                    with_mlm_head=False)).eval()
    cpu = time.process_time()
    predict_tags(model, collator, test, 32)
    report["eval_cpu_s_per_sentence"] = round((time.process_time() - cpu) / 96, 4)
    Console().print(f"evaluation: {report['eval_cpu_s_per_sentence']} CPU s per sentence")
    write_json(Path(__file__).resolve().parent / "results" / "cpu_step.json", report)


if __name__ == "__main__":
    main()
