"""Presets, the variants table, and grid expansion."""

from __future__ import annotations

import pytest

from cjkv_phon.bench.presets import BenchConfig, load_preset
from cjkv_phon.bench.runner import backbone_slug, expand_grid
from cjkv_phon.bench.variants import get_variant, load_variants, parse_variants
from cjkv_phon.errors import InputError
from cjkv_phon.training.config import TrainConfig
from cjkv_phon.training.system import SYSTEMS

import cjkv_phon.training.systems  # noqa: F401  (registers every system)


@pytest.mark.parametrize("name", ["smoke", "cpu", "cpu-v2", "paper", "full"])
def test_presets_load_and_expand(name):
    cfg = load_preset(name)
    specs = expand_grid(cfg)
    assert len(specs) == (len(cfg.models) * len(cfg.backbones) * len(cfg.tasks) * len(cfg.pairs) * cfg.seeds)
    assert len({s.run_dir for s in specs}) == len(specs)        # no two runs share a folder


def test_smoke_covers_every_system():
    assert set(load_preset("smoke").models) == set(SYSTEMS.names())


def test_paper_preset_batch_sizes():
    # PAPER.md: batch 32 for mBERT, 16 for XLM-R.
    sizes = {s.config.backbone: s.config.batch_size for s in expand_grid(load_preset("paper"))}
    assert sizes == {"bert-base-multilingual-cased": 32, "xlm-roberta-base": 16}


def test_grid_order_ids_and_overrides(tmp_path):
    cfg = BenchConfig(preset="t", models=("finetune", "phonexl-mlm-only"), tasks=("panx", "udpos"),
                      pairs=("zh-vi",), seeds=2, results_dir=str(tmp_path), train={"epochs": 1})
    specs = expand_grid(cfg)
    assert [s.bench_id for s in specs] == [
        "panx_zh-vi_finetune_s1", "panx_zh-vi_phonexl-mlm-only_s1",
        "panx_zh-vi_finetune_s2", "panx_zh-vi_phonexl-mlm-only_s2",
        "udpos_zh-vi_finetune_s1", "udpos_zh-vi_phonexl-mlm-only_s1",
        "udpos_zh-vi_finetune_s2", "udpos_zh-vi_phonexl-mlm-only_s2"]
    mlm = specs[1].config
    assert (mlm.system, mlm.alpha, mlm.gamma, mlm.beta, mlm.epochs) == ("phonexl", 0.0, 0.0, None, 1)
    assert mlm.resolved().beta == 0.01                       # Table 5, PANX ZH->VI
    assert specs[1].run_dir == tmp_path / "tiny-bert" / "phonexl-mlm-only" / "panx_zh-vi_phonexl_s1"


def test_every_variant_builds_a_valid_config():
    for name, variant in load_variants().items():
        assert variant.system in SYSTEMS, name
        TrainConfig(system=variant.system, **variant.overrides)


@pytest.mark.parametrize("overrides, error, match", [
    ({"models": ("no-such",)}, KeyError, "unknown model 'no-such'; valid: finetune"),
    ({"pairs": ("zh-zh",)}, ValueError, "'zh-zh'"),
    ({"tasks": ("ner",)}, ValueError, "unknown task 'ner'"),
    ({"seeds": 0}, ValueError, "seeds=0"),
    ({"train": {"seed": 3}}, ValueError, r"grid-owned settings \['seed'\]"),
    ({"train": {"lr": -1.0}}, ValueError, "lr must be > 0"),
])
def test_bench_config_rejects(overrides, error, match):
    with pytest.raises(error, match=match):
        BenchConfig(**overrides)


def test_load_preset_merges_train_settings():
    cfg = load_preset("smoke", {"seeds": 2}, train={"data_dir": "x", "lr": None})
    assert cfg.seeds == 2 and cfg.train["data_dir"] == "x" and cfg.train["lr"] == 0.001


def test_unknown_preset_lists_known():
    with pytest.raises(FileNotFoundError, match="known: cpu, cpu-v2, cpu-v2-ko-layout, full, paper, smoke"):
        load_preset("fast")


def test_variants_table_errors_name_the_line():
    text = "finetune: {system: finetune}\n\nbroken:\n  system: phonexl\n  overrides: {alpah: 0.1}\n"
    with pytest.raises(InputError, match=r"bench_variants.yaml:3: overrides must be TrainConfig") as err:
        parse_variants(text)
    assert err.value.value == ["alpah"]
    with pytest.raises(KeyError, match="valid: finetune, phonexl"):
        get_variant("phonexl-typo")


def test_backbone_slug():
    # A local folder: its name plus a hash of its absolute path (issue 23: equal names must not collide).
    assert backbone_slug("/root/.cache/cjkv/backbones/multilingual-e5-small").startswith("multilingual-e5-small-")
    assert backbone_slug("intfloat/multilingual-e5-small") == "intfloat--multilingual-e5-small"
    assert backbone_slug("tiny-bert") == "tiny-bert"


def test_task_train_overrides_one_task_only(tmp_path):
    cfg = BenchConfig(preset="t", models=("finetune",), tasks=("panx", "udpos"), pairs=("zh-vi",), seeds=1,
                      results_dir=str(tmp_path), train={"epochs": 2, "lr": 1e-4}, task_train={"udpos": {"epochs": 1}})
    by_task = {s.config.task: s.config for s in expand_grid(cfg)}
    assert (by_task["panx"].epochs, by_task["udpos"].epochs) == (2, 1)
    assert by_task["udpos"].lr == by_task["panx"].lr == 1e-4
    with pytest.raises(ValueError, match="task_train: unknown task 'pos'"):
        BenchConfig(preset="t", task_train={"pos": {"epochs": 1}})
    with pytest.raises(ValueError, match=r"task_train\['udpos'\]"):
        BenchConfig(preset="t", task_train={"udpos": {"epochz": 1}})
    assert load_preset("cpu-v2").task_train == {"udpos": {"epochs": 1}}


def test_seed_order_runs_seed_one_of_every_cell_first_and_cell_settings_reach_one_cell(tmp_path):
    cfg = BenchConfig(preset="t", models=("finetune",), tasks=("panx", "udpos"), pairs=("zh-vi", "ja-ko"),
                      seeds=2, results_dir=str(tmp_path), train={"epochs": 1}, order="seed",
                      cell_train={"panx/ja-ko": {"extra_target_tests": {"paper-layout": str(tmp_path)}}})
    specs = expand_grid(cfg)
    assert [s.bench_id for s in specs][:4] == ["panx_zh-vi_finetune_s1", "panx_ja-ko_finetune_s1",
                                               "udpos_zh-vi_finetune_s1", "udpos_ja-ko_finetune_s1"]
    assert [s.config.seed for s in specs] == [1] * 4 + [2] * 4
    extra = {s.bench_id for s in specs if s.config.extra_target_tests}
    assert extra == {"panx_ja-ko_finetune_s1", "panx_ja-ko_finetune_s2"}
    with pytest.raises(ValueError, match="not a cell of the grid"):
        BenchConfig(preset="t", models=("finetune",), tasks=("panx",), pairs=("zh-vi",),
                    cell_train={"panx/ja-ko": {"epochs": 2}})
    with pytest.raises(ValueError, match="order must be one of"):
        BenchConfig(preset="t", models=("finetune",), order="random")
