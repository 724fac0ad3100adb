"""The three dict-MT baselines (xtune, x-mixup, filter): alignment, and losses that train.

Real pieces throughout: PAN-X zh sentences, the MUSE zh-en-vi pivot dictionary, a tiny BERT whose
tokenizer is trained on those sentences, the project's Collator, model and trainer prediction.
"""

from __future__ import annotations

import math
import random

import pytest
import torch

from cjkv_phon.bench.variants import load_variants
from cjkv_phon.dictionary.codeswitch import SwitchedSentence
from cjkv_phon.schema import PANX_LABELS
from cjkv_phon.training.backbone import load_backbone
from cjkv_phon.training.batches import Collator
from cjkv_phon.training.config import TrainConfig
from cjkv_phon.training.system import SYSTEMS, Stage
from cjkv_phon.training.systems.dict_mt import alignment, pair_tensors, switched_view
from cjkv_phon.training.evaluation import predict_tags

BASELINES = ("xtune", "x-mixup", "filter")


def test_alignment_known_answer():
    # 北京大学在哪 with 北京 -> "Bắc Kinh" (2 tokens) and 大学 -> "đại học" switched (module docstring):
    # label pairs are kept tokens + span starts; full pairs map every source token.
    sw = SwitchedSentence(tokens=("Bắc", "Kinh", "đại", "học", "在", "哪"), ipa=("",) * 6, romanized=("",) * 6,
                          langs=("vi",) * 4 + ("zh",) * 2, tags=None, origin=(0, 0, 2, 2, 4, 5),
                          spans=((0, 2, 0, 2), (2, 4, 2, 4)))
    label, full = alignment(sw, 6)
    assert label == ((0, 0), (2, 2), (4, 4), (5, 5))
    assert full == ((0, 0), (1, 1), (2, 2), (3, 3), (4, 4), (5, 5))
    # A 3-token span replaced by 1 token: its inner tokens all map to that one token.
    sw = SwitchedSentence(tokens=("x", "Y"), ipa=("",) * 2, romanized=("",) * 2, langs=("zh", "vi"), tags=None,
                          origin=(0, 1), spans=((1, 4, 1, 2),))
    assert alignment(sw, 4) == (((0, 0), (1, 1)), ((0, 0), (1, 1), (2, 1), (3, 1)))


@pytest.fixture(scope="module")
def tiny(panx_zh, tmp_path_factory):
    """A tiny BERT (tokenizer trained on the sentences) and a collator for PAN-X."""
    backbone = load_backbone("tiny-bert", [" ".join(ex.tokens) for ex in panx_zh],
                             cache_dir=tmp_path_factory.mktemp("backbones"))
    return backbone, Collator(backbone.tokenizer, PANX_LABELS, max_subwords=64)


def _system(name, tiny, dictionary, **options):
    backbone, collator = tiny
    cfg = TrainConfig(system=name, backbone="tiny-bert", options=options).resolved()
    system = SYSTEMS[name](cfg, collator, dictionary)
    torch.manual_seed(0)
    model = system.build_model(load_backbone_copy(backbone))
    return system, model


def load_backbone_copy(backbone):
    """A fresh copy of the tiny encoder, so each system starts from the same untrained weights."""
    import copy
    return copy.deepcopy(backbone.model)


def test_switched_views_align_labels(panx_zh, tiny, zh_vi_dictionary):
    _, collator = tiny
    views = [switched_view(ex, collator, zh_vi_dictionary, "zh", "vi", 1.0, None, "top") for ex in panx_zh[:8]]
    assert any(v.example.tokens != ex.tokens for v, ex in zip(views, panx_zh))   # the dictionary applies
    for v, ex in zip(views, panx_zh):
        for i, j in v.label_pairs:          # label pairs share their tag by construction
            assert ex.tags[i] == v.example.tags[j]
    src, dst, mask = pair_tensors(views, "full")
    assert src.shape == dst.shape == mask.shape
    assert mask.sum(1).tolist() == [len(ex.tokens) for ex in panx_zh[:8]]


@pytest.mark.parametrize("name", BASELINES)
def test_losses_finite_and_decrease(name, panx_zh, tiny, zh_vi_dictionary):
    system, model = _system(name, tiny, zh_vi_dictionary)
    batch = system.prepare(panx_zh[:12], random.Random(0), system.stages()[0])
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    history = []
    for step in range(25):
        losses = system.losses(model, batch, step, torch.Generator().manual_seed(step))
        assert all(math.isfinite(float(v.detach())) for v in losses.values()), losses
        history.append(float(losses["loss"].detach()))
        optimizer.zero_grad()
        losses["loss"].backward()
        optimizer.step()
    assert set(losses) > {"loss", "task"}            # the system's own terms are reported
    assert history[-1] < 0.7 * history[0], history


def test_xtune_self_training_adds_pseudo_labelled_translations(panx_zh, tiny, zh_vi_dictionary):
    system, model = _system("xtune", tiny, zh_vi_dictionary, self_training_epochs=1)
    assert [s.name for s in system.stages()] == ["consistency", "self-training"]
    _, collator = tiny
    model.eval()
    examples = panx_zh[:8]
    out = system.begin_stage(system.stages()[1], model, examples,
                             lambda exs: predict_tags(model, collator, exs, 8))
    pseudo = out[len(examples):]
    assert out[: len(examples)] == examples and pseudo
    assert all(p.id.endswith(".dict-mt") and len(p.tags) == len(p.tokens) for p in pseudo)
    assert all(set(p.tags) <= set(PANX_LABELS) for p in pseudo)


def test_filter_fusion_layers_validated(tiny, zh_vi_dictionary):
    system, _ = _system("filter", tiny, zh_vi_dictionary)
    assert system.fusion_layers(2) == (0, 1) and system.fusion_layers(12) == (1, 11)
    bad, _ = _system("filter", tiny, zh_vi_dictionary, fuse_start=2, fuse_end=2)
    with pytest.raises(ValueError, match="fuse_start"):
        bad.fusion_layers(12)


@pytest.mark.parametrize("name", BASELINES)
def test_resources_agree_with_variants_table(name):
    assert SYSTEMS[name].resources == load_variants()[name].resources
    assert "dict-MT" in SYSTEMS[name].resources
