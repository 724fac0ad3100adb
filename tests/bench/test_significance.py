"""The paired bootstrap and ASO on constructed counts and scores whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from cjkv_phon.bench.significance import (PairingError, SignificanceConfig, TooFewSeeds, aso_epsilon, compare,
                                          paired_bootstrap, seed_bootstrap, seed_test)
from cjkv_phon.training.sentence_scores import SentenceCounts

N = 200
IDS = tuple(f"panx.vi.test.{i}" for i in range(N))
FAST = SignificanceConfig(n_resamples=500, aso_bootstrap=100)


def run(right: np.ndarray, ids: tuple[str, ...] = IDS) -> SentenceCounts:
    """One gold entity per sentence, one predicted: correct where ``right`` is True, wrong elsewhere."""
    return SentenceCounts(ids, np.stack([right.astype(int), np.ones(len(ids), int), np.ones(len(ids), int)], 1))


def half(n_right: int = N // 2) -> np.ndarray:
    return np.arange(N) < n_right


def test_identical_systems_have_delta_zero_and_an_interval_around_it():
    base = {1: run(half()), 2: run(half(80))}
    result = paired_bootstrap(base, base, FAST)
    assert result.delta == 0.0 and result.low <= 0.0 <= result.high and not result.excludes_zero()
    assert result.p_value == 1.0 and result.seeds == (1, 2) and result.sentences == N


def test_a_system_right_wherever_the_baseline_is_wrong_excludes_zero():
    # Baseline F1 50 (right on the first half); the system is right on every sentence: F1 100.
    # A replicate's baseline F1 is 100 only if all 200 draws fall in the first half (p = 2^-200).
    result = paired_bootstrap({1: run(np.ones(N, bool))}, {1: run(half())}, FAST)
    assert result.delta == pytest.approx(50.0) == run(np.ones(N, bool)).f1() - run(half()).f1()
    assert result.excludes_zero() and 0.0 < result.low < 50.0 < result.high <= 100.0
    assert result.p_value == 0.0 and result.n_resamples == 500
    # ... and the other way round the interval lies below zero, p = 1.
    worse = paired_bootstrap({1: run(half())}, {1: run(np.ones(N, bool))}, FAST)
    assert worse.high < 0.0 and worse.p_value == 1.0


def test_pooling_is_the_mean_over_seeds_under_one_shared_resample():
    a1, b1 = run(np.ones(N, bool)), run(half())           # seed 1: +50
    a2, b2 = run(half()), run(np.ones(N, bool))           # seed 2: -50
    pooled = paired_bootstrap({1: a1, 2: a2}, {1: b1, 2: b2}, FAST)
    assert pooled.delta == pytest.approx(0.0)
    # Uneven seeds: +50 and +10 (seed 2: right on 120 vs 100 of 200 sentences) pool to +30, the mean of
    # the per-seed differences.
    uneven = paired_bootstrap({1: a1, 2: run(half(120))}, {1: b1, 2: run(half())}, FAST)
    assert uneven.delta == pytest.approx((50.0 + 10.0) / 2) and uneven.low > 0.0
    # The same draw goes to every seed: a second seed identical to the first changes nothing at all.
    one = paired_bootstrap({1: a1}, {1: b1}, FAST)
    twice = paired_bootstrap({1: a1, 2: a1}, {1: b1, 2: b1}, FAST)
    assert (twice.delta, twice.low, twice.high, twice.p_value) == (one.delta, one.low, one.high, one.p_value)
    # Deterministic for a given seed; another seed draws other replicates.
    assert paired_bootstrap({1: a1}, {1: b1}, FAST) == one
    other = paired_bootstrap({1: a1}, {1: b1}, SignificanceConfig(n_resamples=500, seed=1))
    assert (other.low, other.high) != (one.low, one.high)


def test_sentences_are_paired_by_id_not_by_position():
    rng = np.random.default_rng(0)
    right_a, right_b = rng.random(N) < 0.7, rng.random(N) < 0.5
    order = rng.permutation(N)
    shuffled = SentenceCounts(tuple(IDS[i] for i in order), run(right_a).counts[order])
    assert paired_bootstrap({1: shuffled}, {1: run(right_b)}, FAST) == \
        paired_bootstrap({1: run(right_a)}, {1: run(right_b)}, FAST)


def test_runs_that_do_not_pair_are_refused():
    with pytest.raises(PairingError, match=r"phonexl has seeds \[1, 2\] but finetune has \[1\]"):
        paired_bootstrap({1: run(half()), 2: run(half())}, {1: run(half())}, FAST, ("phonexl", "finetune"))
    other_ids = tuple(f"panx.vi.test.{i + 1}" for i in range(N))
    with pytest.raises(PairingError, match=r"phonexl seed 1 was evaluated on other test sentences.*panx.vi.test.200"):
        paired_bootstrap({1: run(half(), other_ids)}, {1: run(half())}, FAST, ("phonexl", "finetune"))
    with pytest.raises(PairingError, match="nothing to pair"):
        paired_bootstrap({}, {}, FAST)


def test_aso_on_separated_reversed_and_identical_scores():
    better, worse = [52.0, 53.5, 51.0, 54.0, 52.5], [44.0, 45.5, 43.0, 46.0, 44.5]
    state = np.random.get_state()
    assert aso_epsilon(better, worse, FAST) < 0.1             # better on every seed: almost 0
    assert aso_epsilon(worse, better, FAST) > 0.9             # the other direction: no evidence
    assert aso_epsilon(better, better, FAST) >= 0.5           # identical: cannot be called better
    after = np.random.get_state()
    assert all(np.array_equal(x, y) for x, y in zip(state, after))    # deepsig's global seeding undone
    with pytest.raises(ValueError, match="ASO needs at least 2 seeds"):
        aso_epsilon([50.0], [40.0], FAST)


def test_compare_says_na_without_counts_and_for_unpaired_seeds():
    system = {s: (60.0 + s, None) for s in (1, 2, 3)}
    base = {s: (50.0 + s, run(half())) for s in (1, 2, 3)}
    c = compare(system, base, ("tiny", "phonexl", "panx", "zh-vi", "test"), FAST)
    assert c.bootstrap is None and c.bootstrap_note.startswith("n/a: no per-sentence counts in phonexl s1")
    assert c.aso_epsilon is not None and c.aso_epsilon < 0.5 and c.aso_seeds == (1, 2, 3)
    partial = compare({1: (60.0, run(half()))}, {s: (50.0, run(half())) for s in (1, 2)},
                      ("tiny", "phonexl", "panx", "zh-vi", "test"), FAST)
    assert partial.bootstrap is not None and partial.bootstrap.seeds == (1,)      # paired on the shared seed
    assert partial.bootstrap_note == "on the shared seeds [1] only"
    disjoint = compare({3: (60.0, run(half()))}, {s: (50.0, run(half())) for s in (1, 2)},
                       ("tiny", "phonexl", "panx", "zh-vi", "test"), FAST)
    assert disjoint.bootstrap is None and disjoint.bootstrap_note.startswith("n/a: nothing to pair")
    assert partial.aso_epsilon is None and partial.aso_note.startswith("n/a: 1 shared seed")
    assert c.to_json()["bootstrap"] is None and compare(
        {1: (70.0, run(np.ones(N, bool)))}, {1: (50.0, run(half()))},
        ("tiny", "phonexl", "panx", "zh-vi", "test"), FAST).to_json()["bootstrap"]["seeds"] == [1]


def test_config_is_checked():
    with pytest.raises(ValueError, match="n_resamples must be >= 1"):
        SignificanceConfig(n_resamples=0)
    with pytest.raises(ValueError, match="confidence must be in"):
        SignificanceConfig(confidence=1.0)


# ---- issue 20: intervals that cover seeds, a paired test over seeds, ASO below 5 seeds --------------
def test_seed_bootstrap_covers_the_seeds_spread_that_the_sentence_bootstrap_ignores():
    # Per-seed differences +50, +10, -30 (F1 of 200 one-entity sentences): their mean is +10.
    base = {s: run(half()) for s in (1, 2, 3)}
    system = {1: run(np.ones(N, bool)), 2: run(half(120)), 3: run(half(40))}
    sentences = paired_bootstrap(system, base, FAST)
    seeds = seed_bootstrap(system, base, FAST)
    assert seeds.delta == sentences.delta == pytest.approx(10.0)
    # Given the three models, the test sentences alone pin +10 down; the seeds do not.
    assert sentences.low > 0.0 and sentences.excludes_zero()
    assert seeds.low < 0.0 < seeds.high and not seeds.excludes_zero()
    assert seeds.low < -10.0 and seeds.high > 30.0 and seeds.seeds == (1, 2, 3) and seeds.sentences == N
    # Seeds that agree leave only the sentences' spread: the two intervals are then alike.
    same = {s: run(np.ones(N, bool)) for s in (1, 2, 3)}
    agree_s, agree_2 = paired_bootstrap(same, base, FAST), seed_bootstrap(same, base, FAST)
    assert agree_2.low == pytest.approx(agree_s.low, abs=1.5) and agree_2.high == pytest.approx(agree_s.high, abs=1.5)
    assert seed_bootstrap(system, base, FAST) == seeds                      # deterministic
    with pytest.raises(TooFewSeeds, match="1 shared seed"):
        seed_bootstrap({1: system[1]}, {1: base[1]}, FAST)


def test_verdicts_use_the_two_level_interval_and_say_na_for_one_seed():
    base = {s: (50.0, run(half())) for s in (1, 2, 3)}
    spread = {1: (100.0, run(np.ones(N, bool))), 2: (60.0, run(half(120))), 3: (20.0, run(half(40)))}
    c = compare(spread, base, ("tiny", "phonexl", "panx", "zh-vi", "test"), FAST)
    assert c.bootstrap.excludes_zero() and c.verdict == "no difference shown"
    better = {s: (100.0, run(np.ones(N, bool))) for s in (1, 2, 3)}
    assert compare(better, base, ("tiny", "phonexl", "panx", "zh-vi", "test"), FAST).verdict == "better"
    assert compare(base, better, ("tiny", "phonexl", "panx", "zh-vi", "test"), FAST).verdict == "worse"
    one = compare({1: better[1]}, base, ("tiny", "phonexl", "panx", "zh-vi", "test"), FAST)
    assert one.bootstrap is not None and one.seed_bootstrap is None and one.verdict == "n/a"
    assert "1 shared seed" in one.seed_bootstrap_note and one.seed_test is None
    out = c.to_json()
    assert out["verdict"] == "no difference shown" and out["verdict_from"] == "seed_bootstrap"
    assert out["seed_bootstrap"]["seeds"] == [1, 2, 3] and out["bootstrap"]["delta"] == out["seed_bootstrap"]["delta"]
    assert out["seed_test"]["deltas"] == pytest.approx([50.0, 10.0, -30.0])


def test_paired_test_over_seeds():
    from scipy import stats
    system, base = {1: 51.0, 2: 52.5, 3: 54.0, 4: 50.0}, {1: 50.0, 2: 50.5, 3: 51.0, 4: 50.5}
    t = seed_test(system, {**base, 9: 10.0})                 # seed 9 is not shared: left out
    ref = stats.ttest_rel([51.0, 52.5, 54.0, 50.0], [50.0, 50.5, 51.0, 50.5])
    assert t.seeds == (1, 2, 3, 4) and t.df == 3 and t.deltas == (1.0, 2.0, 3.0, -0.5)
    assert t.t == pytest.approx(ref.statistic) and t.p_t == pytest.approx(ref.pvalue)
    # Sign flips of (1, 2, 3, -0.5): |mean| >= 1.375 for the observed signs and their mirror, and for
    # (1, 2, 3, 0.5) and its mirror: 4 of 16.
    assert t.p_sign_flip == pytest.approx(4 / 16)
    # Three seeds that all agree: the smallest p a sign-flip test can give with 3 seeds, 2/8.
    assert seed_test({1: 3.0, 2: 4.0, 3: 5.0}, {1: 0.0, 2: 0.0, 3: 0.0}).p_sign_flip == pytest.approx(0.25)
    with pytest.raises(TooFewSeeds):
        seed_test({1: 3.0}, {1: 1.0, 2: 2.0})


def test_aso_is_flagged_uninformative_below_five_seeds():
    base3 = {s: (50.0 + s, run(half())) for s in (1, 2, 3)}
    three = compare({s: (60.0 + s, run(half())) for s in (1, 2, 3)}, base3,
                    ("tiny", "phonexl", "panx", "zh-vi", "test"), FAST)
    assert three.aso_epsilon is not None and not three.aso_informative
    assert "uninformative: 3 seeds < 5" in three.aso_note and three.to_json()["aso_informative"] is False
    base5 = {s: (50.0 + s, run(half())) for s in range(1, 6)}
    five = compare({s: (60.0 + s, run(half())) for s in range(1, 6)}, base5,
                   ("tiny", "phonexl", "panx", "zh-vi", "test"), FAST)
    assert five.aso_informative and five.aso_note == ""
