"""Time one AdamW step on an e5-small-sized embedding table: default kernel vs foreach vs fused (CPU).

The word-embedding table dominates the parameters of multilingual-e5-small (250,037 x 384 of ~118M);
every step updates all of it (AdamW's decay and moments touch every row). Prints seconds per step
for each kernel and the ratio to the default one; one torch thread, as the CPU preset runs.

    OMP_NUM_THREADS=1 flock -x /tmp/cjkv-cpu.lock python benchmarks/bench_optimizer.py
"""

from __future__ import annotations

import argparse
import json
import time

import torch


def time_step(kind: str, rows: int, dim: int, steps: int) -> float:
    """Median seconds of one AdamW step of kind ``default`` / ``foreach`` / ``fused``."""
    torch.manual_seed(0)
    table = torch.nn.Parameter(torch.randn(rows, dim) * 0.02)
    small = [torch.nn.Parameter(torch.randn(384, 384)) for _ in range(4)]
    kwargs = {"default": {"foreach": False, "fused": False}, "foreach": {"foreach": True},
              "fused": {"fused": True}}[kind]
    opt = torch.optim.AdamW([table, *small], lr=5e-5, weight_decay=0.01, **kwargs)
    for p in (table, *small):
        p.grad = torch.randn_like(p) * 1e-3
    times = []
    for _ in range(steps + 1):
        t = time.perf_counter()
        opt.step()
        times.append(time.perf_counter() - t)
    times = sorted(times[1:])                      # the first step allocates the moments
    return times[len(times) // 2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=250_037)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--steps", type=int, default=5)
    args = ap.parse_args()
    torch.set_num_threads(1)
    out = {kind: time_step(kind, args.rows, args.dim, args.steps) for kind in ("default", "foreach", "fused")}
    for kind, s in out.items():
        print(f"{kind:8s} {s:.3f} s/step   x{out['default'] / s:.1f} vs default")
    print(json.dumps({"rows": args.rows, "dim": args.dim, "threads": 1, "s_per_step": out}))


if __name__ == "__main__":
    main()
