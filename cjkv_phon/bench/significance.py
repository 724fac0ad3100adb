"""Is a system better than fine-tuning? A paired bootstrap over test sentences and ASO over seeds.

Two tests per (cell, system) against ``finetune`` on the same backbone, both on target-language F1:

**Paired bootstrap over test sentences (Koehn 2004), pooled over seeds.** Input: for every seed both
systems ran, the per-sentence (correct, predicted, gold) chunk counts of the target test set that the
trainer records (``training.sentence_scores``). Runs are paired by seed and sentences by id; both systems
and every seed must have exactly the same seeds and the same sentence ids, or there is no comparison
(``PairingError``). One bootstrap replicate draws ``N`` sentence indices with replacement (``N`` = test
sentences) from a ``numpy.random.default_rng(seed)``; the *same* draw is applied to both systems and to
every seed; each seed's corpus-level F1 (seqeval micro F1 from the summed counts, not a mean of sentence
F1s) is computed on the draw for both systems, and the replicate's value is the mean over seeds of the
per-seed differences ``F1(system, s) - F1(finetune, s)``. Reported: ``delta`` (that statistic on the
full test set), the 95% percentile interval of the replicates, ``p_value`` = the share of replicates
``<= 0`` (one-sided: the evidence against "the system is not better"), ``n_resamples`` (default 1000).
This interval is over the test sentences given the trained models; the seeds' spread is in ASO and in
the leaderboard's ± (std over seeds of the same-seed differences).

**Almost stochastic order across seeds (Dror et al. 2019; del Barrio et al. 2018)**, deepsig's ``aso``:
``scores_a`` = the system's per-seed target F1, ``scores_b`` = finetune's. It returns ``epsilon_min``,
an upper bound on how much the system's score distribution violates stochastic dominance over
finetune's: ``epsilon_min < 0.5`` means the system is (almost) stochastically better; near 0 it is
better on essentially every seed; ``>= 0.5`` means we cannot say it is better (near 1: finetune
dominates it; identical score lists give 1, deepsig's value for a 0/0 violation ratio). The test is one-
directional; finetune being better would be ``aso(finetune, system)``, which we do not run. It needs at
least two seeds per system (``MIN_ASO_SEEDS``) and is weak with few: deepsig's authors suggest 5+.
deepsig seeds numpy's *global* RNG; we restore the global state afterwards.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import asdict, dataclass
from typing import Any, Iterable, Mapping

import numpy as np

from cjkv_phon.training.sentence_scores import SentenceCounts

log = logging.getLogger(__name__)
MIN_ASO_SEEDS = 2


class PairingError(ValueError):
    """Two systems' runs cannot be paired: different seeds or different test sentences."""


@dataclass(frozen=True)
class SignificanceConfig:
    """How the tests are run. Field comments are the documentation.

    Attributes:
        n_resamples: bootstrap replicates (Koehn 2004 used 1000).
        confidence: two-sided coverage of the percentile interval.
        seed: seed of the bootstrap's ``numpy.random.default_rng`` and of deepsig's ASO.
        aso_bootstrap: deepsig's ``num_bootstrap_iterations`` (its default 1000; ~2 s per call here).
    """

    n_resamples: int = 1000
    confidence: float = 0.95
    seed: int = 0
    aso_bootstrap: int = 1000

    def __post_init__(self) -> None:
        if self.n_resamples < 1:
            raise ValueError(f"n_resamples must be >= 1, got {self.n_resamples}")
        if not 0.0 < self.confidence < 1.0:
            raise ValueError(f"confidence must be in (0, 1), got {self.confidence}")
        if self.aso_bootstrap < 1:
            raise ValueError(f"aso_bootstrap must be >= 1, got {self.aso_bootstrap}")


@dataclass(frozen=True)
class BootstrapResult:
    """The paired bootstrap of the target-F1 difference (system − baseline), in F1 points (0..100)."""

    delta: float
    low: float
    high: float
    p_value: float
    n_resamples: int
    confidence: float
    seeds: tuple[int, ...]
    sentences: int

    def excludes_zero(self) -> bool:
        """True when the interval lies entirely above or below 0."""
        return self.low > 0.0 or self.high < 0.0


def _f1(counts: np.ndarray) -> np.ndarray:
    """seqeval's micro F1 (0..100) over the last axis (correct, predicted, gold), 0 on zero division."""
    c, p, g = counts[..., 0], counts[..., 1], counts[..., 2]
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(p > 0, c / np.where(p > 0, p, 1), 0.0)
        recall = np.where(g > 0, c / np.where(g > 0, g, 1), 0.0)
        denom = precision + recall
        return 100.0 * np.where(denom > 0, 2.0 * precision * recall / np.where(denom > 0, denom, 1), 0.0)


def _aligned(system: Mapping[int, SentenceCounts], baseline: Mapping[int, SentenceCounts],
             names: tuple[str, str]) -> tuple[tuple[int, ...], np.ndarray, np.ndarray]:
    """Seeds, and the counts of both systems as arrays (seeds, sentences, 3) in one sentence order.

    Raises:
        PairingError: no seeds, different seed sets, or a run whose sentence ids differ from the others.
    """
    if not system or not baseline:
        raise PairingError(f"nothing to pair: {names[0]} has {len(system)} runs, {names[1]} {len(baseline)}")
    if set(system) != set(baseline):
        raise PairingError(f"{names[0]} has seeds {sorted(system)} but {names[1]} has {sorted(baseline)}; "
                           "a paired comparison needs the same seeds")
    seeds = tuple(sorted(system))
    reference = baseline[seeds[0]].ids
    position = {sid: k for k, sid in enumerate(reference)}
    arrays = []
    for name, runs in zip(names, (system, baseline)):
        rows = []
        for seed in seeds:
            ids = runs[seed].ids
            if set(ids) != set(position):
                extra = sorted(set(ids) - set(position))[:3]
                lacking = sorted(set(position) - set(ids))[:3]
                raise PairingError(f"{name} seed {seed} was evaluated on other test sentences than "
                                   f"{names[1]} seed {seeds[0]} ({len(ids)} vs {len(reference)}; "
                                   f"e.g. only in it: {extra}, missing: {lacking})")
            order = np.fromiter((position[sid] for sid in ids), dtype=np.int64, count=len(ids))
            aligned = np.empty_like(runs[seed].counts)
            aligned[order] = runs[seed].counts
            rows.append(aligned)
        arrays.append(np.stack(rows).astype(np.float64))
    return seeds, arrays[0], arrays[1]


def paired_bootstrap(system: Mapping[int, SentenceCounts], baseline: Mapping[int, SentenceCounts],
                     config: SignificanceConfig = SignificanceConfig(),
                     names: tuple[str, str] = ("system", "baseline")) -> BootstrapResult:
    """Paired bootstrap over sentences of the target-F1 difference, pooled over seeds (module docstring).

    Args:
        system, baseline: seed -> that run's per-sentence counts on the same test set.
        config: replicates, confidence and the resampling seed.
        names: how errors name the two sides.

    Raises:
        PairingError: the runs cannot be paired (different seeds or sentence ids), or there are no sentences.
    """
    seeds, a, b = _aligned(system, baseline, names)
    n = a.shape[1]
    if n == 0:
        raise PairingError("no test sentences to resample")
    delta = float(np.mean(_f1(a.sum(axis=1)) - _f1(b.sum(axis=1))))
    rng = np.random.default_rng(config.seed)
    replicates = np.empty(config.n_resamples)
    chunk = max(1, min(config.n_resamples, 2_000_000 // n))     # weights matrix of at most ~16 MB
    for start in range(0, config.n_resamples, chunk):
        r = min(chunk, config.n_resamples - start)
        draws = rng.integers(0, n, size=(r, n))
        # How often each sentence is drawn in each replicate; integer sums stay exact in float64.
        offsets = (draws + n * np.arange(r)[:, None]).ravel()
        weights = np.bincount(offsets, minlength=r * n).reshape(r, n).astype(np.float64)
        sums_a = np.stack([weights @ a[k] for k in range(len(seeds))], axis=1)   # (replicates, seeds, 3)
        sums_b = np.stack([weights @ b[k] for k in range(len(seeds))], axis=1)
        replicates[start:start + r] = (_f1(sums_a) - _f1(sums_b)).mean(axis=1)
    tail = 100.0 * (1.0 - config.confidence) / 2.0
    low, high = np.percentile(replicates, [tail, 100.0 - tail])
    return BootstrapResult(delta, float(low), float(high), float(np.mean(replicates <= 0.0)),
                           config.n_resamples, config.confidence, seeds, n)


def aso_epsilon(system_scores: Iterable[float], baseline_scores: Iterable[float],
                config: SignificanceConfig = SignificanceConfig()) -> float:
    """deepsig's ASO ``epsilon_min`` for "system is better than baseline" (< 0.5: it is; see the module).

    Raises:
        ValueError: fewer than ``MIN_ASO_SEEDS`` scores on either side.
    """
    a, b = [float(x) for x in system_scores], [float(x) for x in baseline_scores]
    if min(len(a), len(b)) < MIN_ASO_SEEDS:
        raise ValueError(f"ASO needs at least {MIN_ASO_SEEDS} seeds per system; got {len(a)} and {len(b)}")
    from deepsig import aso   # imports pandas and joblib: only when a test is run

    state = np.random.get_state()        # deepsig calls np.random.seed(); leave the caller's RNG alone
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Division by zero encountered in violation ratio")
            epsilon = aso(a, b, confidence_level=config.confidence, num_bootstrap_iterations=config.aso_bootstrap,
                          seed=config.seed, show_progress=False, num_jobs=1)
    finally:
        np.random.set_state(state)
    return float(epsilon)


@dataclass(frozen=True)
class Comparison:
    """Both tests for one (backbone, variant, task, pair, split) against finetune on target F1.

    ``bootstrap`` / ``aso_epsilon`` are None with the reason in ``bootstrap_note`` / ``aso_note``
    (e.g. runs recorded before per-sentence counts existed): shown as "n/a", never guessed.
    """

    backbone: str
    variant: str
    task: str
    pair: str
    split: str
    baseline: str
    bootstrap: BootstrapResult | None
    bootstrap_note: str
    aso_epsilon: float | None
    aso_note: str
    aso_seeds: tuple[int, ...]

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["bootstrap"] = None if self.bootstrap is None else {**asdict(self.bootstrap),
                                                                "seeds": list(self.bootstrap.seeds)}
        out["aso_seeds"] = list(self.aso_seeds)
        return out


def compare(system: Mapping[int, tuple[float, SentenceCounts | None]],
            baseline: Mapping[int, tuple[float, SentenceCounts | None]], key: tuple[str, str, str, str, str],
            config: SignificanceConfig = SignificanceConfig(), baseline_name: str = "finetune") -> Comparison:
    """Both tests for one cell. ``system``/``baseline``: seed -> (target F1, its counts or None).

    The bootstrap is "n/a" (with the reason in ``bootstrap_note``, also logged) when a run lacks counts
    or the runs cannot be paired (``paired_bootstrap`` raises ``PairingError``; a table of a grid still
    running should not fail). Both tests use the seeds both systems ran, so they stay paired; the
    notes say when either system has seeds the other lacks.
    """
    backbone, variant, task, pair, split = key
    names = (variant, baseline_name)
    lacking = sorted(f"{n} s{s}" for n, runs in zip(names, (system, baseline))
                     for s, (_, c) in runs.items() if c is None)
    if lacking:
        boot, boot_note = None, f"n/a: no per-sentence counts in {', '.join(lacking)}"
    shared = tuple(sorted(set(system) & set(baseline)))
    if not lacking:
        # Paired on the seeds both systems ran (a variant run with fewer seeds than the baseline, or a
        # grid still running); the seeds used are in the result and the note says when some were left out.
        try:
            boot = paired_bootstrap({s: system[s][1] for s in shared},
                                    {s: baseline[s][1] for s in shared}, config, names)
            boot_note = "" if set(system) == set(baseline) else f"on the shared seeds {list(shared)} only"
        except PairingError as err:       # no shared seed, or runs scored on other test sentences
            log.warning("%s %s %s: no paired bootstrap: %s", key[:3], pair, split, err)
            boot, boot_note = None, f"n/a: {err}"
    if len(shared) < MIN_ASO_SEEDS:
        eps, aso_note = None, f"n/a: {len(shared)} shared seed(s); ASO needs {MIN_ASO_SEEDS}+"
    else:
        eps = aso_epsilon([system[s][0] for s in shared], [baseline[s][0] for s in shared], config)
        aso_note = "" if set(system) == set(baseline) else "on the shared seeds only"
    return Comparison(backbone, variant, task, pair, split, baseline_name, boot, boot_note, eps, aso_note,
                      shared)
