"""``precision: auto | bf16 | fp32``: resolved per device, recorded in the config and in its hash."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from cjkv_phon.training.config import TrainConfig
from cjkv_phon.training.precision import (NATIVE_BF16_FLAGS, cpu_has_native_bf16, cpuinfo_has_native_bf16,
                                          resolve_precision, run_device)
from cjkv_phon.training.results import legacy_settings, run_config_hash
from cjkv_phon.training.trainer import train

CPUINFO = Path("/proc/cpuinfo")


def _without_bf16_flags(cpuinfo: str) -> str:
    """The same CPU description with its native-bf16 flags removed: a CPU without bf16 units."""
    lines = []
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            key, _, flags = line.partition(":")
            line = key + ": " + " ".join(f for f in flags.split() if f not in NATIVE_BF16_FLAGS)
        lines.append(line)
    return "\n".join(lines)


@pytest.mark.skipif(not CPUINFO.is_file(), reason="needs Linux's /proc/cpuinfo")
def test_torch_cpuinfo_and_the_kernel_agree_on_bf16_units():
    text = CPUINFO.read_text()
    assert cpu_has_native_bf16() == cpuinfo_has_native_bf16(text)
    assert not cpuinfo_has_native_bf16(_without_bf16_flags(text))
    assert not cpuinfo_has_native_bf16("")


def test_auto_resolves_per_device_and_explicit_choices_are_kept():
    native = cpu_has_native_bf16()
    assert resolve_precision("auto", "cpu") == ("bf16" if native else "fp32")
    assert TrainConfig(device="cpu").resolved().precision == ("bf16" if native else "fp32")
    for explicit in ("bf16", "fp32"):
        assert resolve_precision(explicit, "cpu") == explicit
        assert TrainConfig(device="cpu", precision=explicit).resolved().precision == explicit
    if not torch.cuda.is_available():     # a cuda request without CUDA runs on (and resolves for) the CPU
        assert run_device("cuda:0") == run_device("auto") == torch.device("cpu")
        assert TrainConfig(device="cuda").resolved().precision == resolve_precision("auto", "cpu")
    with pytest.raises(ValueError, match="unknown precision 'fp16'"):
        TrainConfig(precision="fp16")


def test_precision_is_part_of_the_config_hash():
    bf16 = TrainConfig(device="cpu", precision="bf16").resolved()
    fp32 = TrainConfig(device="cpu", precision="fp32").resolved()
    auto = TrainConfig(device="cpu", precision="auto").resolved()
    assert run_config_hash(bf16) != run_config_hash(fp32)
    # "auto" is hashed as what it resolved to: the hash names the arithmetic, not the request.
    assert run_config_hash(auto) == run_config_hash(bf16 if auto.precision == "bf16" else fp32)


def test_fp32_runs_keep_their_recorded_hash_and_bf16_runs_get_another():
    """The recorded cpu-v2 grid (fp32 on the CPU, recorded with the old flag ``bf16: true``) keeps its
    hashes, so the bench does not retrain it; the same settings in bf16 hash differently."""
    results = Path(__file__).resolve().parents[2] / "benchmarks" / "results" / "cpu-v2"
    records = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(results.rglob("results.json"))[:6]]
    assert records
    for record in records:
        settings = legacy_settings(record["config"], record["device"])
        assert settings["precision"] == "fp32" and "bf16" not in settings
        cfg = TrainConfig(**settings)
        assert run_config_hash(cfg) == record["config_hash"]
        assert run_config_hash(replace(cfg, precision="bf16")) != record["config_hash"]
    # A CUDA run recorded with the old flag computed in bf16.
    assert legacy_settings({"bf16": True}, "cuda:0 (NVIDIA H100)")["precision"] == "bf16"


def test_a_bf16_run_trains_and_evaluates_in_bf16_and_records_it(tmp_path, tiny_cache, built_data, monkeypatch):
    monkeypatch.setenv("CJKV_CACHE_DIR", str(tiny_cache))
    settings = dict(task="panx", source_lang="zh", target_lang="vi", system="finetune", backbone="tiny-bert",
                    data_dir=str(built_data), max_train_sentences=16, max_eval_sentences=8, max_test_sentences=8,
                    epochs=1, batch_size=4, lr=3e-3, device="cpu", save_predictions=False)
    runs = {p: train(TrainConfig(**settings, precision=p, out_dir=str(tmp_path / p))) for p in ("fp32", "bf16")}
    for p, record in runs.items():
        on_disk = json.loads((tmp_path / p / record["run_id"] / "results.json").read_text(encoding="utf-8"))
        assert on_disk["config"]["precision"] == on_disk["precision"]["compute"] == p
        assert on_disk["precision"]["weights_and_optimizer"] == "fp32"
    assert runs["fp32"]["config_hash"] != runs["bf16"]["config_hash"]
    # Same data, seeds and initial weights: the first step's loss differs only by bf16 rounding.
    first = {p: r["loss_curve"][0]["loss"] for p, r in runs.items()}
    assert first["bf16"] != first["fp32"] and first["bf16"] == pytest.approx(first["fp32"], rel=2e-2)
    # Weights stay fp32 under autocast; only the forward's matmuls ran in bf16.
    state = torch.load(tmp_path / "bf16" / runs["bf16"]["run_id"] / "checkpoint" / "state.pt", weights_only=False)
    assert {t.dtype for t in state["model"].values() if t.is_floating_point()} == {torch.float32}


def test_evaluation_follows_the_precision(tiny_backbone, built_data):
    """predict_tags under bf16 runs the encoder's linear layers in bf16, under fp32 in fp32."""
    from cjkv_phon.schema import LABELS
    from cjkv_phon.training.batches import Collator
    from cjkv_phon.training.evaluation import predict_tags
    from cjkv_phon.training.model import ModelSettings, PhoneXLModel
    from tests.training.conftest import read_examples

    backbone = tiny_backbone("tiny-bert")
    model = PhoneXLModel(backbone.model, LABELS["panx"], ModelSettings(use_pe=False, use_le=False))
    collator = Collator(backbone.tokenizer, LABELS["panx"], 64)
    seen = []
    dense = model.layers[-1].intermediate.dense                     # a BERT layer's feed-forward Linear
    hook = dense.register_forward_hook(lambda _m, _i, out: seen.append(out.dtype))
    examples = read_examples(built_data, "panx", "vi", "dev", 6)
    for precision in ("fp32", "bf16"):
        tags = predict_tags(model, collator, examples, 4, None, precision)
        assert [len(t) for t in tags] == [len(ex.tokens) for ex in examples]
    hook.remove()
    assert seen[0] == torch.float32 and seen[-1] == torch.bfloat16
