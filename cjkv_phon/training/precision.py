"""Which arithmetic a run computes in: ``precision = auto | bf16 | fp32`` resolved for its device.

``bf16`` is autocast to bfloat16 around the forward pass (training and evaluation); weights, gradients
and the AdamW state stay float32, so only the matmul-class ops (linear, matmul, bmm, SDPA) see bf16
inputs. ``auto`` picks bf16 where the device computes it natively and fp32 elsewhere:

* a CUDA device whose compute capability supports bf16 (``torch.cuda.is_bf16_supported``);
* a CPU with AVX512-BF16 or AMX-BF16 units (asked of torch's bundled cpuinfo, with /proc/cpuinfo as
  a fallback). Without them oneDNN emulates bf16 by converting to fp32, which is slower than fp32 and
  still rounds, so such CPUs stay fp32.

Parts that stay fp32 under autocast (``fp32 islands``) are written out where they are computed, each
with ``torch.autocast(enabled=False)`` and ``.float()``: the CRF (crf.py: a forward algorithm over
hundreds of log-sum-exps would lose the 8-bit-mantissa inputs' remaining precision), every loss and
softmax statistic (losses.py, model.task_loss: cross-entropies, log-softmax, the alignment logits),
and subword-to-word mean pooling (pooling.py: sums of many bf16 vectors drift). The transformer's own
softmax runs in SDPA, whose CPU and CUDA kernels keep the running max and sum in fp32; its LayerNorms
receive the fp32 residual stream (bf16 linear output + fp32 residual promotes to fp32).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:   # torch is imported where it is used: TrainConfig (and the CLI's startup) import this module
    import torch

PRECISIONS = ("auto", "bf16", "fp32")
CPUINFO = Path("/proc/cpuinfo")
NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


@lru_cache(maxsize=1)
def cpu_has_native_bf16() -> bool:
    """Whether this CPU has bf16 arithmetic units (AVX512-BF16 or AMX-BF16).

    torch's own cpuinfo (``torch.cpu._is_avx512_bf16_supported`` / ``_is_amx_tile_supported``) is the
    source oneDNN itself dispatches on; those helpers are private, so a torch without them falls back
    to the kernel's flags in /proc/cpuinfo (Linux), and to "no" where neither answers.
    """
    import torch
    probes = [getattr(torch.cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
    if all(callable(p) for p in probes):
        try:
            return any(bool(p()) for p in probes)
        except RuntimeError:
            pass
    return cpuinfo_has_native_bf16(CPUINFO.read_text() if CPUINFO.is_file() else "")


def cpuinfo_has_native_bf16(cpuinfo: str) -> bool:
    """Whether a /proc/cpuinfo text lists a native bf16 flag on its ``flags`` lines."""
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flags = set(line.partition(":")[2].split())
            if flags & set(NATIVE_BF16_FLAGS):
                return True
    return False


def device_has_native_bf16(device: torch.device | str) -> bool:
    """Whether ``device`` (``cpu``, ``cuda``, ``cuda:N``) computes bf16 natively."""
    import torch
    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        return cpu_has_native_bf16()
    return False


def resolve_precision(precision: str, device: torch.device | str) -> str:
    """``bf16`` or ``fp32`` for a run on ``device``: ``auto`` becomes bf16 where the device has bf16
    units, else fp32; an explicit choice is kept (bf16 without units runs, slowly, as asked).

    Raises:
        ValueError: an unknown precision name.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; valid: {', '.join(PRECISIONS)}")
    if precision != "auto":
        return precision
    return "bf16" if device_has_native_bf16(device) else "fp32"


def run_device(device: str) -> torch.device:
    """The device a run with ``TrainConfig.device`` uses: ``auto`` = CUDA when present, else the CPU
    (as ``trainer``'s Accelerator places it: a ``cuda`` request without CUDA runs on the CPU)."""
    import torch
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        return torch.device("cpu")
    return torch.device(device)


def autocast(precision: str, device: torch.device | str):
    """The autocast context of a resolved precision on ``device`` (disabled for fp32)."""
    import torch
    device = torch.device(device)
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=precision == "bf16")


FP32_ISLANDS = ("CRF forward algorithm and Viterbi (crf.py)", "every loss and softmax statistic (losses.py, "
                "model.task_loss)", "subword-to-word mean pooling (pooling.py)")


def precision_record(precision: str, device: torch.device | str) -> dict[str, object]:
    """What results.json says about a run's arithmetic."""
    return {"compute": precision, "autocast": "bf16" if precision == "bf16" else None,
            "weights_and_optimizer": "fp32", "device_native_bf16": device_has_native_bf16(device),
            "fp32_islands": list(FP32_ISLANDS) if precision == "bf16" else []}
