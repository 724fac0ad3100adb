"""The phonemic-embedding designs (``TrainConfig.pe_design``; training/phonemic_embedding.py) on tiny models."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import torch
from torch.nn import functional as F

from cjkv_phon.bench.pe_intrinsic import dictionary_check, pair_cosines
from cjkv_phon.training import trainer
from cjkv_phon.training.batches import split_examples
from cjkv_phon.training.config import TrainConfig
from cjkv_phon.training.phoneme_symbols import phoneme_segments, segment_inventory
from cjkv_phon.bench.variants import load_variants
from cjkv_phon.training.phonemic_embedding import (PE_INIT_STD, UNKNOWN_ROW, SymbolEncoder, build_encoder,
                                                   inventory_features, segment_features)
from cjkv_phon.training.pooling import broadcast_to_subwords
from cjkv_phon.training.system import Stage
from cjkv_phon.training.vocab_sources import zero_shot_transcriptions
from tests.training.conftest import read_examples

OWN = ("table", "segments", "features")


@pytest.fixture()
def tiny_cfg(tmp_path, tiny_cache, built_data, dictionary_dir, monkeypatch):
    monkeypatch.setenv("CJKV_CACHE_DIR", str(tiny_cache))

    def make(**overrides) -> TrainConfig:
        settings = dict(task="panx", source_lang="zh", target_lang="vi", system="phonexl",
                        backbone="tiny-xlmr", data_dir=str(built_data), dictionary_dir=str(dictionary_dir),
                        out_dir=str(tmp_path / "runs"), max_train_sentences=8, max_eval_sentences=4,
                        epochs=1, batch_size=4, lr=3e-3, device="cpu", alpha=0.5, beta=0.1, gamma=0.1, r=0.5)
        return TrainConfig(**{**settings, **overrides}).resolved()
    return make


def _built(cfg: TrainConfig):
    """(data with training sentences split to the subword budget, collator, system, model)."""
    data, collator, system, backbone = trainer.build_run(cfg)
    data.train = split_examples(data.train, collator)
    return data, collator, system, system.build_model(backbone)


@pytest.mark.parametrize("design", OWN)
def test_each_design_trains_with_finite_losses_and_l_align_reads_its_table(tiny_cfg, design):
    cfg = tiny_cfg(pe_design=design, options={"pe_gate": True})
    data, collator, system, model = _built(cfg)
    assert isinstance(collator.phoneme_encoder, SymbolEncoder) and model.pe_table is not None
    # a small table: the run's symbols plus one unknown row, not the 2.5e5-row vocabulary
    assert model.pe_table.num_rows == collator.phoneme_encoder.num_rows < model.word_embeddings.num_embeddings
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr)
    before = {k: v.detach().clone() for k, v in model.pe_table.state_dict().items()}
    for step in range(2):
        batch = system.prepare(data.train[4 * step: 4 * step + 4], random.Random(step), Stage("train", 1))
        losses = system.losses(model, batch, step, torch.Generator().manual_seed(step))
        assert all(torch.isfinite(v) for v in losses.values()) and "align" in losses
        opt.zero_grad()
        losses["loss"].backward()
        # The gate is 0, so only L_align (which reads PE ungated) can move the table at step 0.
        grads = [p.grad for p in model.pe_table.parameters() if p.requires_grad]
        assert any(g is not None and g.abs().sum() > 0 for g in grads)
        opt.step()
    after = model.pe_table.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before if after[k].is_floating_point())


def test_shared_pe_is_the_mean_of_e_word_rows_as_before(tiny_cfg, built_data):
    cfg = tiny_cfg(pe_design="shared")
    data, collator, system, model = _built(cfg)
    assert model.pe_table is None and not any(k.startswith("pe_table") for k in model.state_dict())
    assert not isinstance(collator.phoneme_encoder, SymbolEncoder)
    batch = collator.collate(data.train[:4])
    # the formula of the code before the designs, written out again
    emb = model.word_embeddings(batch.phon_ids)
    m = batch.phon_mask.unsqueeze(-1).to(emb.dtype)
    assert torch.equal(model.phonemic_embedding(batch), (emb * m).sum(2) / m.sum(2).clamp(min=1.0))
    ex = data.train[0]
    pe0 = model.word_embeddings.weight[collator.pieces(ex.phonemes[0])[:collator.max_phoneme_pieces]].mean(0)
    assert torch.allclose(model.phonemic_embedding(batch)[0, 0], pe0, atol=1e-6)


def _encoder(built_data, design: str, tokenizer=None) -> SymbolEncoder:
    exs = read_examples(built_data, "panx", "zh", "train", n=20) + read_examples(built_data, "panx", "vi", "train", n=20)
    return build_encoder(design, tokenizer, [(ex.phonemes, ex.langs) for ex in exs])


@pytest.mark.parametrize("design", ("segments", "features"))
def test_tables_are_seeded_per_component_whatever_ran_before(built_data, design):
    encoder = _encoder(built_data, design)
    torch.manual_seed(0)
    a = encoder.build_table(16, init_seed=3).state_dict()
    torch.rand(1000)                                         # something else consumed the global RNG
    state = torch.get_rng_state()
    b = encoder.build_table(16, init_seed=3).state_dict()
    assert torch.equal(torch.get_rng_state(), state)        # and building a table consumes none of it
    c = encoder.build_table(16, init_seed=4).state_dict()
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)      # another seed, another table
    weight = a["projection.weight" if design == "features" else "embeddings.weight"]
    assert abs(float(weight.std()) - PE_INIT_STD) < 0.2 * PE_INIT_STD     # small initialisation


@pytest.mark.parametrize("design", OWN)
def test_a_gated_design_contributes_nothing_at_step_0(tiny_cfg, design):
    data, collator, system, gated = _built(tiny_cfg(pe_design=design, options={"pe_gate": True}))
    batch = collator.collate(data.train[:4])
    orth_and_le = gated.word_embeddings(batch.input_ids) + broadcast_to_subwords(
        gated.language_embeddings(batch.lang_ids), batch.word_index)
    assert torch.equal(gated.input_embeddings(batch), orth_and_le)
    _, _, _, ungated = _built(tiny_cfg(pe_design=design))
    if design != "features":          # features start at W f + 0; a zero-feature token would add 0
        assert not torch.equal(ungated.input_embeddings(batch), orth_and_le)
    assert torch.equal(ungated.phonemic_embedding(batch), gated.phonemic_embedding(batch))   # paired by seed


def test_features_put_similar_segments_closer_than_distant_ones(built_data):
    encoder = SymbolEncoder("features", ["t", "d", "tʰ", "a", "i", "p", "b", "˧˥", "˨˩˦", "˥", "˧", "9"],
                            phoneme_segments)
    table = encoder.build_table(384, init_seed=1).requires_grad_(False)

    def cos(x: str, y: str) -> float:
        vx, vy = table.symbol_vectors(torch.tensor([encoder.rows[x], encoder.rows[y]]))
        return float(F.cosine_similarity(vx, vy, dim=0))

    assert cos("t", "d") > cos("t", "a") + 0.3               # differ in voicing only vs consonant/vowel
    assert cos("t", "tʰ") > cos("t", "i") + 0.3
    assert cos("p", "b") > cos("p", "a") + 0.3
    assert cos("˧˥", "˥") > cos("˧˥", "a") + 0.3             # tones are close to tones, not to phones
    assert cos("˥", "˧") > cos("˥", "t")
    # tone letters get our tone dims, not panphon's; numerals no features at all (PE 0 + residual)
    assert sum(abs(x) for x in segment_features("˧˥")[:24]) == 0
    assert not any(segment_features("9"))
    assert float(table.symbol_vectors(torch.tensor(encoder.rows["9"])).abs().sum()) == 0


@pytest.mark.parametrize("design", OWN)
def test_symbols_come_from_zero_shot_sources_and_unseen_ones_map_to_the_unknown_row(tiny_cfg, built_data, design):
    cfg = tiny_cfg(pe_design=design)
    data, collator, system, model = _built(cfg)
    encoder = collator.phoneme_encoder
    seen, _ = zero_shot_transcriptions(cfg.data_dir, cfg.task, cfg.target_lang, cfg.phonemes, data.train,
                                       data.evals[("source", "dev")], source_lang=cfg.source_lang,
                                       dictionary_dir=cfg.dictionary_dir)
    if design == "table":
        split = lambda ipa, lang: collator.pieces(ipa)                              # noqa: E731
        expected = {i for ipa, langs in seen for tok, lang in zip(ipa, langs) for i in split(tok, lang)}
    else:
        split = phoneme_segments
        expected = set(segment_inventory(seen))
    assert set(encoder.symbols) == expected                 # exactly the zero-shot symbols
    test = [(ex.phonemes, ex.langs) for ex in data.evals[("target", "test")]]
    test_symbols = {s for ipa, langs in test for tok, lang in zip(ipa, langs) for s in split(tok, lang)}
    for s in test_symbols - expected:                       # first seen at test time
        assert encoder.rows.get(s, UNKNOWN_ROW) == UNKNOWN_ROW
    odd = split("ʬʬ", "vi")                                  # a symbol no split has
    assert any(sym not in expected for sym in odd)
    assert encoder("ʬʬ", "vi") == [encoder.rows[sym] if sym in expected else UNKNOWN_ROW for sym in odd]
    assert UNKNOWN_ROW not in encoder.rows.values()


def test_a_features_run_trims_resumes_and_records_its_table(tiny_cfg, tmp_path):
    cfg = tiny_cfg(pe_design="features", options={"pe_gate": True}, out_dir=str(tmp_path / "a"), epochs=2)
    full = trainer.train(cfg)
    stopped = trainer.train(tiny_cfg(pe_design="features", options={"pe_gate": True}, out_dir=str(tmp_path / "b"),
                                     epochs=2, max_steps=2))
    assert stopped["status"] == "stopped"
    resumed = trainer.train(tiny_cfg(pe_design="features", options={"pe_gate": True}, out_dir=str(tmp_path / "b"),
                                     epochs=2))
    assert resumed["metrics"] == full["metrics"] and resumed["history"] == full["history"]
    record = json.loads((Path(cfg.out_dir) / full["run_id"] / "results.json").read_text(encoding="utf-8"))
    pv = record["phoneme_vocabulary"]
    assert pv["pe_design"] == "features" and pv["pe_table_rows"] > 1 and pv["pe_init_std"] == PE_INIT_STD
    assert record["vocabulary"]["trimmed"]
    state = torch.load(Path(cfg.out_dir) / full["run_id"] / "checkpoint" / "state.pt", weights_only=False)
    assert state["model"]["pe_table.embeddings.weight"].shape[0] == pv["pe_table_rows"]
    assert all(torch.isfinite(torch.tensor(h["source_dev_f1"])) for h in record["history"])


def test_features_are_centred_on_the_phone_inventory(built_data):
    symbols = [s for s in _encoder(built_data, "features").symbols if not s.isdigit()]
    rows = inventory_features(symbols)[1:]
    phone = (rows[:, :24].abs().sum(1) > 0) & (rows[:, 24:].abs().sum(1) == 0)   # phones: panphon, no tone dims
    raw = torch.tensor([segment_features(s) for s in symbols])[phone]
    centred = rows[phone]
    off = ~torch.eye(int(phone.sum()), dtype=torch.bool)

    def mean_cos(x: torch.Tensor) -> float:
        return float((x @ x.T)[off].mean())                           # rows are unit vectors
    assert mean_cos(raw) > 0.3 and abs(mean_cos(centred)) < 0.05       # the shared component is gone
    norms = rows.norm(dim=1)
    assert torch.allclose(norms[norms > 0], torch.ones(int((norms > 0).sum()))) and bool(phone.sum() > 20)


def test_each_design_has_bench_variants_alone_and_gated():
    variants = load_variants()
    assert variants["phonexl"].overrides == {}                          # the default stays shared
    for design in OWN:
        assert variants[f"phonexl-pe-{design}"].overrides == {"pe_design": design}
        assert variants[f"phonexl-pe-{design}-gate"].overrides == {"pe_design": design, "options": {"pe_gate": True}}


def test_table_with_segment_units_is_refused():
    with pytest.raises(ValueError, match="use pe_design 'segments'"):
        build_encoder("table", None, [], phoneme_units="segments")


def test_the_intrinsic_check_gives_sane_numbers(tiny_cfg, dictionary_dir):
    import pyarrow.parquet as pq

    x = torch.randn(50, 8)
    same = pair_cosines(x, x, shuffles=5)
    assert same["true_cosine"] == pytest.approx(1.0) and same["gap"] > 0.5 and same["true_beats_random"] > 0.9
    lo, hi = same["gap_ci95"]
    assert lo <= same["gap"] <= hi
    unrelated = pair_cosines(x, torch.randn(50, 8), shuffles=5)
    assert abs(unrelated["gap"]) < 0.3 and 0.2 < unrelated["true_beats_random"] < 0.8
    with pytest.raises(ValueError):
        pair_cosines(x[:1], x[:1])
    # on a real (small) dictionary with a tiny model at initialisation
    rows = pq.read_table(dictionary_dir / "zh-vi.parquet", columns=["source_ipa", "target_ipa"]).to_pylist()[:40]
    for design in ("shared", "features"):
        _, collator, _, model = _built(tiny_cfg(pe_design=design))
        r = dictionary_check(model, collator, rows, "zh", "vi", shuffles=3)
        assert r["pairs"] == len(rows)
        assert all(-1.0 <= r[k] <= 1.0 for k in ("true_cosine", "random_cosine")) and 0 <= r["true_beats_random"] <= 1
        assert r["mean_pe_norm"] > 0


def test_auto_pe_design_resolves_per_system():
    """``pe_design="auto"`` is PhoneXL's chosen default; every other system, and Romanized phonemes (the
    segment designs need IPA), keep ``shared``, so the baselines' config hashes did not move."""
    from cjkv_phon.training.config import DEFAULT_PE_DESIGN, TrainConfig
    assert TrainConfig().pe_design == "auto"
    assert TrainConfig(system="phonexl").resolved().pe_design == DEFAULT_PE_DESIGN["phonexl"] == "features"
    assert TrainConfig(system="finetune").resolved().pe_design == "shared"
    assert TrainConfig(system="cosda-ml").resolved().pe_design == "shared"
    assert TrainConfig(system="phonexl", phonemes="romanized").resolved().pe_design == "shared"
    assert TrainConfig(system="phonexl", phoneme_units="segments").resolved().pe_design == "shared"
    assert TrainConfig(system="phonexl", pe_design="table").resolved().pe_design == "table"
    explicit = TrainConfig(system="phonexl", pe_design="features").resolved()
    assert explicit == TrainConfig(system="phonexl").resolved()       # same settings, same hash
    with pytest.raises(ValueError, match="valid: auto, shared"):
        TrainConfig(pe_design="mean")
