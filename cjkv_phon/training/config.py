"""``TrainConfig``: every setting of one training run, typed, frozen and validated.

A run is identified by ``run_id(task, source_lang, target_lang, system, seed)`` and its settings by
``config_hash``; results embed both. Unset PhoneXL weights (alpha, beta, gamma, mu, r) resolve to the
paper's Table 5 values for the task and pair (``resources/paper_hparams.yaml``), or to a documented
fallback for pairs the paper does not cover.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from importlib import resources
from typing import Any

import yaml

from cjkv_phon.schema import LANGS, TASKS
from cjkv_phon.training.precision import PRECISIONS, resolve_precision, run_device
from cjkv_phon.training.subwords import check_tokenisation

PHONEMES = ("ipa", "romanized")
# How the phonemic embedding (PE) is computed (model.py, training/phonemic_embedding.py; issue 14):
#   shared    mean of the backbone's word-embedding rows of the token's phoneme symbols (E_word shared)
#   table     the paper's released code: a separate, freshly initialised (small) table over the IPA
#             symbols the run can see (tokenizer pieces), added to the orthographic input
#   segments  a separate small table over panphon IPA segments with unified Chao tones
#   features  segments whose embedding is a learnt projection of their articulatory feature vector
#             (panphon + tone contour features) plus a zero-initialised per-segment residual
PE_DESIGNS = ("shared", "table", "segments", "features")
# ``pe_design="auto"`` (the default) is the system's own choice, filled in by ``TrainConfig.resolved``:
# PhoneXL's default is what the rule in ``benchmarks/presets/cpu-v2.yaml`` (``pe_design_rule``; issue 20, applied
# by ``bench.pe_design.decide_pe_design``) chose from the cpu-v2 design runs: the highest SOURCE-dev F1
# (features 53.9 > segments 52.6 > table 52.0 > shared 46.9 on PAN-X zh->vi seed 1; within noise of one another
# at one seed and 250 sentences). Issue 14 had chosen ``table`` on target-dev F1, which no choice may read. Every
# other system, any run on Romanized phonemes (the segment designs need IPA) and any run with
# ``phoneme_units="segments"`` (segments in E_word, a design of its own) resolves to ``shared``, the
# design all runs used before issue 14, so their config hashes did not change.
DEFAULT_PE_DESIGN = {"phonexl": "features"}
# Fallback for pairs outside Table 5: the mean-ish middle of the paper's grid.
_FALLBACK_HPARAMS = {"alpha": 0.01, "beta": 0.01, "gamma": 0.01, "mu": 0.15, "r": 0.35}


def paper_hparams(task: str, src: str, tgt: str) -> dict[str, float]:
    """Table 5 hyperparameters for ``task`` and ``src-tgt``; the fallback where the paper has none."""
    table = yaml.safe_load(resources.files("cjkv_phon.resources").joinpath("paper_hparams.yaml")
                           .read_text(encoding="utf-8"))
    return dict(table.get(task, {}).get(f"{src}-{tgt}", _FALLBACK_HPARAMS))


_KINDS = {"int": (int,), "float": (int, float), "bool": (bool,), "str": (str,), "dict[str, Any]": (dict,)}
_KIND_WORDS = {"int": "a whole number", "float": "a number", "bool": "true or false", "str": "text",
               "dict[str, Any]": "a mapping"}


def check_types(config: Any) -> None:
    """Raise ``ValueError`` naming a setting whose value has the wrong type or is not finite.

    Recipes and presets are YAML, where ``seeds: "3"`` is a string and ``lr: 5e-5`` (no dot) is one
    too; the comparisons of ``__post_init__`` would fail on them with a TypeError, and ``nan`` passes
    every comparison, so types and finiteness are checked first, from the annotations.
    """
    for f in fields(config):
        value = getattr(config, f.name)
        kind = str(f.type).replace(" | None", "")
        if value is None and str(f.type).endswith("| None"):
            continue
        allowed = _KINDS.get(kind)
        if allowed is None:
            continue
        if not isinstance(value, allowed) or (isinstance(value, bool) and kind != "bool"):
            raise ValueError(f"{f.name} must be {_KIND_WORDS[kind]}, got {value!r}")
        if kind == "float" and not math.isfinite(value):
            raise ValueError(f"{f.name} must be a finite number, got {value!r}")


@dataclass(frozen=True)
class TrainConfig:
    """One training run. Field comments are the CLI help.

    Ablation switches map to the paper: ``use_pe=False`` (no PE), ``extend_vocab=False`` (PE without
    vocabulary extension), ``use_le=False`` (no LE), ``alpha/beta/gamma=0`` (objective off),
    ``phonemes='romanized'`` (PhoneXL-Romanized).
    """

    task: str = "panx"
    source_lang: str = "zh"
    target_lang: str = "vi"
    system: str = "phonexl"            # registered system name (training/systems/)
    backbone: str = "multilingual-e5-small"  # hub id, local folder, or tiny-bert / tiny-xlmr (tests)
    data_dir: str = "releases/xtreme-cjkv-phonemic/data"   # built parquet (cjkv build-data)
    dictionary_dir: str = "build/dictionaries"          # pivot dictionaries (cjkv build-dict)
    out_dir: str = "runs"
    seed: int = 1
    # PhoneXL representation and objectives
    phonemes: str = "ipa"
    use_pe: bool = True
    extend_vocab: bool = True
    use_le: bool = True
    alpha: float | None = None
    beta: float | None = None
    gamma: float | None = None
    mu: float | None = None
    r: float | None = None
    use_crf: bool = True
    task_loss_norm: str = "token"      # CRF loss per token (Table 5's scale) | sentence (before issue 13)
    phoneme_units: str = "pieces"      # PE symbols: tokenizer pieces | segments (panphon, unified tones)
    pe_design: str = "auto"            # auto (the system's default) | shared | table | segments | features
    tokenisation: str = "natural"      # subwords of the tokens: natural | per-token | per-token-no-bare (subwords.py)
    # optimisation
    lr: float = 2e-5
    head_lr: float | None = None       # lr of the layers added on the backbone (classifier, MLM head); None = lr
    input_lr: float | None = None      # lr of the input-side additions (LE, PE's own table, PE gate); None = head_lr
    crf_lr: float | None = None        # lr of the CRF start/end/transition scores; None = head_lr
    epochs: int = 3
    batch_size: int = 32
    grad_accum: int = 1
    max_subwords: int = 128
    length_bucket: int = 16            # batches per length-sorted bucket when batching (bucketing.py); 1 = random batches
    eval_batch_size: int = 64          # sentences per evaluation batch (sorted by length)
    trim_vocab: bool = True            # keep only the word-embedding rows of the run's data (exact; trim.py)
    freeze_word_embeddings: bool = False   # do not train E_word (PE and the tied MLM decoder read it)
    max_grad_norm: float = 1.0
    warmup_ratio: float = 0.0
    weight_decay: float = 0.01
    patience: int = 2                  # evaluations without source-dev improvement before stopping
    eval_every: int = 0                # steps between evaluations; 0 = once per epoch
    max_steps: int | None = None       # stop (checkpointed) after this many steps; rerun to resume
    # data budget (None = all)
    max_train_sentences: int | None = None
    max_eval_sentences: int | None = None   # dev subsample (model selection and dev scores)
    max_test_sentences: int | None = None   # test subsample; None = full test sets (CPU presets only)
    max_source_test_sentences: int | None = None   # source-test subsample; None = max_test_sentences.
    # Source test F1 is reported, never claimed; on CPU a smaller source sample keeps the budget for the
    # target test set the comparisons are made on (a 2000-sentence zh sample costs ~40 training steps).
    # execution
    device: str = "auto"               # auto | cpu | cuda | cuda:N
    precision: str = "auto"            # auto (bf16 where the device has bf16 units, else fp32) | bf16 | fp32
    num_workers: int = 0
    save_predictions: bool = True
    options: dict[str, Any] = field(default_factory=dict)   # system-specific settings
    # name -> another built data folder whose TARGET test split is scored too, with the same model and the
    # same sentence sample (evaluation only; it selects nothing). Recorded as metrics.target["test@<name>"],
    # e.g. {"paper-layout": ".../data"} from `cjkv build-data --layout paper` (issue 20, item 8).
    extra_target_tests: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_types(self)
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0, got {self.seed}")
        if self.task not in TASKS:
            raise ValueError(f"unknown task {self.task!r}; valid: {', '.join(TASKS)}")
        for side, lang in (("source_lang", self.source_lang), ("target_lang", self.target_lang)):
            if lang not in LANGS:
                raise ValueError(f"unknown {side} {lang!r}; valid: {', '.join(LANGS)}")
        if self.source_lang == self.target_lang:
            raise ValueError(f"source and target language are both {self.source_lang!r}")
        if self.phonemes not in PHONEMES:
            raise ValueError(f"unknown phonemes {self.phonemes!r}; valid: {', '.join(PHONEMES)}")
        if self.task_loss_norm not in ("token", "sentence"):
            raise ValueError(f"unknown task_loss_norm {self.task_loss_norm!r}; valid: token, sentence")
        if self.phoneme_units not in ("pieces", "segments"):
            raise ValueError(f"unknown phoneme_units {self.phoneme_units!r}; valid: pieces, segments")
        check_tokenisation(self.tokenisation)
        if self.pe_design not in ("auto", *PE_DESIGNS):
            raise ValueError(f"unknown pe_design {self.pe_design!r}; valid: auto, {', '.join(PE_DESIGNS)}")
        if self.pe_design in ("segments", "features") and self.phonemes != "ipa":
            raise ValueError(f"pe_design {self.pe_design!r} segments IPA: it needs phonemes 'ipa', got "
                             f"{self.phonemes!r}")
        if self.phoneme_units == "segments" and self.phonemes != "ipa":
            raise ValueError("phoneme_units 'segments' segments IPA: it needs phonemes 'ipa', got "
                             f"{self.phonemes!r}")
        for name in ("alpha", "beta", "gamma"):
            v = getattr(self, name)
            if v is not None and v < 0:
                raise ValueError(f"{name} must be >= 0, got {v}")
        for name in ("mu", "r"):
            v = getattr(self, name)
            if v is not None and not 0.0 <= v <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {v}")
        if self.lr <= 0 or self.epochs < 1 or self.batch_size < 1 or self.grad_accum < 1:
            raise ValueError("lr must be > 0 and epochs, batch_size, grad_accum >= 1; got "
                             f"lr={self.lr}, epochs={self.epochs}, batch_size={self.batch_size}, "
                             f"grad_accum={self.grad_accum}")
        for name in ("max_train_sentences", "max_eval_sentences", "max_test_sentences",
                     "max_source_test_sentences"):
            v = getattr(self, name)
            if v is not None and v < 1:
                raise ValueError(f"{name} must be >= 1 or None, got {v}")
        if self.max_steps is not None and self.max_steps < 1:
            raise ValueError(f"max_steps must be >= 1 or None, got {self.max_steps}")
        if self.eval_every < 0 or self.patience < 1:
            raise ValueError(f"eval_every must be >= 0 and patience >= 1, got eval_every="
                             f"{self.eval_every}, patience={self.patience}")
        for name in ("head_lr", "input_lr", "crf_lr"):
            v = getattr(self, name)
            if v is not None and v <= 0:
                raise ValueError(f"{name} must be > 0 or None, got {v}")
        if self.length_bucket < 1 or self.eval_batch_size < 1:
            raise ValueError(f"length_bucket and eval_batch_size must be >= 1, got {self.length_bucket}, "
                             f"{self.eval_batch_size}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"unknown precision {self.precision!r}; valid: {', '.join(PRECISIONS)}")
        if self.max_subwords < 8:
            raise ValueError(f"max_subwords must be >= 8, got {self.max_subwords}")
        for name in self.extra_target_tests:
            if not (isinstance(name, str) and name and all(c.isalnum() or c == "-" for c in name)):
                raise ValueError(f"extra_target_tests name {name!r} must be letters, digits and '-' "
                                 "(it becomes the split name test@<name>)")

    def resolved(self) -> "TrainConfig":
        """This config with unset PhoneXL weights filled from the paper's Table 5, ``pe_design="auto"``
        replaced by the system's default PE design (``DEFAULT_PE_DESIGN``) and ``precision="auto"`` by
        what the run's device computes natively (``precision.resolve_precision``: bf16 or fp32), so the
        record and the config hash name the arithmetic that ran, not a device-dependent "auto"."""
        hp = paper_hparams(self.task, self.source_lang, self.target_lang)
        filled = {k: (getattr(self, k) if getattr(self, k) is not None else v) for k, v in hp.items()}
        if self.pe_design == "auto":
            # phoneme_units "segments" already names a design of its own (segments in E_word): kept as it is.
            own = self.phonemes == "ipa" and self.phoneme_units == "pieces"
            filled["pe_design"] = DEFAULT_PE_DESIGN.get(self.system, "shared") if own else "shared"
        filled["precision"] = resolve_precision(self.precision, run_device(self.device))
        return replace(self, **filled)

    @property
    def pair(self) -> str:
        return f"{self.source_lang}-{self.target_lang}"
