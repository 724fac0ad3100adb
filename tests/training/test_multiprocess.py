"""Two CPU processes (Accelerate, gloo) train like one process with the same global batch.

``accelerate launch --multi_gpu --num_processes 2`` starts two processes through torch's elastic launcher;
the trainer's ``Accelerator(cpu=True)`` then joins them as MULTI_CPU over gloo. (``accelerate launch
--cpu --num_processes 2`` starts ONE process in accelerate 1.15: its CPU launcher needs MPI for more.)
The comparison is one process with ``grad_accum=2``: the same micro-batches in the same steps, each
drawing its randomness from its index in the step, gradients summed over the step's micro-batches.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from cjkv_phon.training.config import TrainConfig
from cjkv_phon.training.trainer import train

# With two processes the sums are a + b either way (gloo's all-reduce, autograd's accumulation), so the
# runs are equal to the bit; more processes could differ in summation order.
LOSS_RTOL, WEIGHT_ATOL = 0.0, 0.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _accelerate() -> list[str]:
    script = Path(sys.executable).parent / "accelerate"
    return [str(script), "launch"] if script.is_file() else [sys.executable, "-m", "accelerate.commands.launch"]


def _weights(run_dir: Path) -> dict[str, torch.Tensor]:
    return torch.load(run_dir / "checkpoint" / "state.pt", weights_only=False)["model"]


def test_two_processes_equal_one_process_with_the_same_global_batch(tmp_path, tiny_cache, built_data,
                                                                     dictionary_dir, monkeypatch):
    monkeypatch.setenv("CJKV_CACHE_DIR", str(tiny_cache))
    # PhoneXL: every source of randomness (dropout, masking, code-switching) and an alternating loss.
    # 14 sentences -> 7 micro-batches of 2: the last step has one micro-batch, on process 0 only.
    settings = dict(task="panx", source_lang="zh", target_lang="vi", system="phonexl", backbone="tiny-bert",
                    data_dir=str(built_data), dictionary_dir=str(dictionary_dir), max_train_sentences=14,
                    max_eval_sentences=8, max_test_sentences=8, epochs=1, batch_size=2, lr=3e-3, device="cpu",
                    precision="fp32", alpha=0.1, beta=0.1, gamma=0.1, save_predictions=False)
    one = train(TrainConfig(**settings, grad_accum=2, out_dir=str(tmp_path / "one")))

    recipe = tmp_path / "two.yaml"
    recipe.write_text(yaml.safe_dump({**settings, "grad_accum": 1, "out_dir": str(tmp_path / "two")}))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CJKV_CACHE_DIR": str(tiny_cache),
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[2]), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([*_accelerate(), "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
                           "--mixed_precision", "no", "--dynamo_backend", "no",
                           "--main_process_port", str(_free_port()),
                           "-m", "cjkv_phon.cli", "train", "--recipe", str(recipe)],
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    two = json.loads((tmp_path / "two" / one["run_id"] / "results.json").read_text(encoding="utf-8"))

    assert two["timings"]["steps"] == one["timings"]["steps"] == 4       # ceil(7 micro-batches / 2)
    a, b = one["loss_curve"], two["loss_curve"]
    assert [x["step"] for x in a] == [x["step"] for x in b] == [1, 2, 3, 4]
    for x, y in zip(a, b):
        assert x.keys() == y.keys()
        for key in x.keys() - {"step"}:
            assert y[key] == pytest.approx(x[key], rel=LOSS_RTOL), (x["step"], key)
    w1, w2 = _weights(tmp_path / "one" / one["run_id"]), _weights(tmp_path / "two" / one["run_id"])
    assert w1.keys() == w2.keys()
    worst = max((w1[k].float() - w2[k].float()).abs().max().item() for k in w1)
    assert worst <= WEIGHT_ATOL
    # and they did train: the weights moved from the shared initialisation by far more than the tolerance
    assert one["loss_curve"][0]["loss"] != one["loss_curve"][-1]["loss"]
