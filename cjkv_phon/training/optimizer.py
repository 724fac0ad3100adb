"""The optimizer: AdamW over parameter groups (weight decay and a learning rate per role).

Separate from the loop because the groups encode decisions a comparison depends on (what must not
decay towards zero, what learns at which rate) and benchmarks build the same optimizer without training.

Roles (``param_role``) and their rates:

* ``backbone``: the pretrained encoder, E_word included, at ``lr``;
* ``head``: classifier, MLM head, L_align temperature, at ``head_lr`` (None = ``lr``): at 2e-5 a freshly
  initialised head barely moves in the few hundred steps of a CPU budget;
* ``input``: what is ADDED to the encoder's input, the language embeddings, PE's own table and the PE
  gate, at ``input_lr`` (None = ``head_lr``, as before issue 20). Issue 20: at head_lr (20x the encoder)
  LE[target], trained only through L_XMLM, grew to LE[source]'s norm and shifted every target input at
  test time; the rate is chosen on source dev (``benchmarks/lr_choice.py``, README);
* ``crf``: start / end / transition scores, at ``crf_lr`` (None = ``head_lr``), never decayed. Issue 20:
  at head_lr they moved <= 0.05 in a 150-step cpu-v2 run, so the decoder read its initialisation.
"""

from __future__ import annotations

from typing import Any

import torch

from cjkv_phon.training.config import TrainConfig

NO_DECAY = ("bias", "LayerNorm.weight", "norm.weight", "layer_norm.weight", "language_embeddings", "pe_gate",
            "log_scale")
ROLES = ("backbone", "head", "input", "crf")
INPUT_PREFIXES = ("language_embeddings", "pe_table", "pe_gate")


def param_role(name: str) -> str:
    """The role of a ``PhoneXLModel`` parameter by name (see the module docstring)."""
    if name.startswith("backbone."):
        return "backbone"
    if name.startswith("crf."):
        return "crf"
    if name.split(".")[0] in INPUT_PREFIXES:
        return "input"
    return "head"


def make_optimizer(model: torch.nn.Module, cfg: TrainConfig, device: torch.device) -> torch.optim.Optimizer:
    """AdamW over ``param_groups`` with the fused kernel on CPU and CUDA.

    The default (for-loop) kernel is the slow one on the CPU: one step over e5-small's 250k x 384 table
    takes 0.85 s there against 0.05 s fused (``benchmarks/bench_optimizer.py``, one thread).
    """
    fused = torch.device(device).type in ("cpu", "cuda")
    groups = param_groups(model, cfg.weight_decay, cfg.head_lr, cfg.input_lr, cfg.crf_lr)
    return torch.optim.AdamW(groups, lr=cfg.lr, fused=fused or None)


def param_groups(model: torch.nn.Module, weight_decay: float, head_lr: float | None = None,
                 input_lr: float | None = None, crf_lr: float | None = None,
                 lr: float | None = None) -> list[dict[str, Any]]:
    """AdamW groups by (role, decay): no weight decay on biases, LayerNorm weights, the language
    embeddings, the PE gate (decay would pull them back towards their zero initialisation, i.e. towards
    switching them off), the L_align temperature ``log_scale`` (decay would pull log(1/T) to 0, i.e. T
    towards 1) and the CRF (decay would pull its scores back to "no preference").

    A group whose rate is None takes the optimizer's default (``lr``). Each group carries its ``role``
    (AdamW ignores extra keys).
    """
    fallback = head_lr                  # input and CRF follow the head unless given their own rate
    rates = {"backbone": lr, "head": head_lr, "input": fallback if input_lr is None else input_lr,
             "crf": fallback if crf_lr is None else crf_lr}
    groups: dict[tuple[str, bool], list[torch.nn.Parameter]] = {}
    for name, param in model.named_parameters():
        if param.requires_grad:
            role = param_role(name)
            no_decay = role == "crf" or any(key in name for key in NO_DECAY)
            groups.setdefault((role, no_decay), []).append(param)
    out = []
    for (role, no_decay), params in sorted(groups.items(), key=lambda kv: (ROLES.index(kv[0][0]), kv[0][1])):
        group: dict[str, Any] = {"params": params, "weight_decay": 0.0 if no_decay else weight_decay, "role": role}
        if rates[role] is not None:
            group["lr"] = rates[role]
        out.append(group)
    return out
