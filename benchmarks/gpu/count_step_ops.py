"""How many aten operations one training step issues (finetune vs phonexl): the basis of run.sh's time estimate.

At e5-small's size and PAN-X's ~25 subwords per sentence, a batch of 32 is ~0.1 TFLOP per step, well under
a millisecond of H200 matrix time, so a step on the GPU costs what launching its operations costs (eager
PyTorch: several microseconds each). This counts, with torch.profiler on the CPU, the leaf ``aten::`` ops
inside the trainer's ``train_step`` (forward, losses, backward; the optimizer step is outside it) and
prints them per step. Batch size does not change the count; the backbone's depth does (tiny-bert has 2
layers, e5-small 12), so the README extrapolates.

Usage: python benchmarks/gpu/count_step_ops.py --data-dir D --dictionary-dir D [--backbone tiny-bert]
       [--out benchmarks/results/gpu/step_ops_cpu.json]
(D: a small build, e.g. paper_zh_vi.py --max-sentences 24 --work W leaves W/release/data, W/dictionaries.)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import torch  # noqa: E402
from torch.profiler import ProfilerActivity, profile, record_function  # noqa: E402

import cjkv_phon.training.trainer as trainer  # noqa: E402
from cjkv_phon.atomic import write_json  # noqa: E402
from cjkv_phon.provenance import git_commit  # noqa: E402
from cjkv_phon.training.config import TrainConfig  # noqa: E402

MARK = "TRAIN_STEP"


def leaf_ops_in_steps(prof: profile) -> tuple[int, int]:
    """(steps, leaf aten ops whose ancestors include a step marker)."""
    events = prof.events()
    steps, ops = sum(e.name == MARK for e in events), 0
    for e in events:
        if e.name.startswith("aten::") and not e.cpu_children:
            parent = e.cpu_parent
            while parent is not None and parent.name != MARK:
                parent = parent.cpu_parent
            ops += parent is not None
    return steps, ops


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", required=True)
    p.add_argument("--dictionary-dir", required=True)
    p.add_argument("--backbone", default="tiny-bert")
    p.add_argument("--runs", default="build/gpu/step-ops")
    p.add_argument("--out", type=Path, default=REPO / "benchmarks/results/gpu/step_ops_cpu.json")
    args = p.parse_args()
    torch.set_num_threads(1)
    step = trainer.train_step

    def marked(*a, **k):
        with record_function(MARK):
            return step(*a, **k)

    trainer.train_step = marked
    result = {"command": " ".join(sys.argv), "git_commit": git_commit(REPO), "backbone": args.backbone,
              "torch": torch.__version__, "systems": {}}
    for system in ("finetune", "phonexl"):
        cfg = TrainConfig(system=system, backbone=args.backbone, data_dir=args.data_dir,
                          dictionary_dir=args.dictionary_dir, out_dir=args.runs, epochs=3, batch_size=8,
                          device="cpu", save_predictions=False)
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            trainer.train(cfg)
        steps, ops = leaf_ops_in_steps(prof)
        result["systems"][system] = {"steps": steps, "leaf_aten_ops_per_step": round(ops / max(steps, 1))}
        print(f"{system}: {steps} steps, {ops / max(steps, 1):.0f} leaf aten ops per step")
    s = result["systems"]
    result["phonexl_over_finetune"] = round(s["phonexl"]["leaf_aten_ops_per_step"]
                                            / s["finetune"]["leaf_aten_ops_per_step"], 2)
    write_json(args.out, result)
    print(f"phonexl/finetune {result['phonexl_over_finetune']}x -> {args.out}")


if __name__ == "__main__":
    main()
