"""PhoneXL: L = L_task + alpha L_align + beta L_MLM + gamma L_XMLM (Nguyen et al., 2023).

* L_task: CRF log-likelihood of the gold tags, inputs with PE and LE.
* L_align: symmetric InfoNCE within each sentence between each token's PE and its mean orthographic
  input embedding, learnable temperature (``losses.align_loss``). Skipped when ``use_pe`` is off
  (there is no PE to align).
* L_MLM: a fraction mu of the WHOLE tokens of each sentence (re-drawn every step) have all their
  orthographic subwords replaced by the mask token; their PE and LE stay, so the model predicts each
  original subword id from the context plus all transcriptions. Predictions and labels are both per
  subword, and logits are computed at masked positions only.
* L_XMLM: the same masked prediction on a code-switched copy of the sentence (ratio r, pivot
  dictionary, re-drawn every step in ``prepare``): switched tokens carry the dictionary's
  transcription and the target-language LE.

Cost: each masked objective is one more encoder forward and backward plus an [N, V] decoder, and with
V = 250k (e5, XLM-R) the decoder costs about as much as the encoder (N ~ 200 masked subwords per batch
of 16 PAN-X zh sentences: 2 N V H ~ 38 GFLOP forward vs ~42 for the encoder). Computing task, MLM and
XMLM every step is therefore several times the cost of plain fine-tuning (benchmarks/bench_train.py
measures it; results in benchmarks/results/bench_train.json). By default (``options.aux_schedule:
alternate``) L_MLM is computed on even steps and L_XMLM on odd steps, each at twice its weight: the
expected gradient is the paper's, with one masked pass per step instead of two. ``aux_schedule: every``
computes both every step. A zero weight skips its pass in either schedule, and L_align needs no
encoder pass.

The decoder itself is made cheap by default (``options.mlm_vocab: data``): the softmax runs over the
subwords that can be labels, those of the training sentences plus those of the dictionary's
target-language side (~10^4 ids rather than 2.5 x 10^5), built once in ``begin_stage``. Every label
is in the candidate set, so this is the full-vocabulary loss minus the partition mass of subwords that
never occur in the run's data. ``options: {mlm_vocab: full, aux_schedule: every}`` is the paper's
objective exactly.

``options: {pe_gate: true}`` (ours, off by default) puts PE behind a learnt scalar gate initialised to 0
(``model.ModelSettings.pe_gate``): the paper adds PE at full scale from step 0, which moves every input
embedding away from what the pretrained encoder was trained on; with the gate, training starts from
the backbone's own function, as it does for LE. The ``phonexl-pe-gate`` bench variant measures it.

``cfg.pe_design`` (issue 14) chooses where PE comes from: ``shared`` (E_word rows, the default) or an
own small table (``table`` / ``segments`` / ``features``, training/phonemic_embedding.py); L_align and
both masked objectives read PE only through ``model.phonemic_embedding``, so they use the run's design,
and the gate multiplies whichever design is chosen (``phonexl-pe-*-gate`` variants).
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from typing import Sequence

import torch

from cjkv_phon.training.batches import Batch, Example, code_switch_examples
from cjkv_phon.training.config import TrainConfig
from cjkv_phon.training.losses import align_loss, masked_lm_loss, sample_word_mask
from cjkv_phon.training.model import ModelSettings, PhoneXLModel
from cjkv_phon.training.pooling import words_hit
from cjkv_phon.training.system import SYSTEMS, PredictFn, Stage, System, TrainBatch

log = logging.getLogger(__name__)
AUX_SCHEDULES = ("every", "alternate")
MLM_VOCABS = ("data", "full")


@dataclass(frozen=True)
class MLMVocab:
    """A candidate vocabulary for the masked-LM softmax: ``ids`` [V'] and ``column`` [V] (-100 = absent;
    ``candidates_for`` adds a batch's absent labels, so no masked position goes unscored)."""

    ids: torch.Tensor
    column: torch.Tensor

    @classmethod
    def of(cls, ids: set[int], vocab_size: int) -> "MLMVocab":
        ordered = torch.tensor(sorted(ids), dtype=torch.long)
        column = torch.full((vocab_size,), -100, dtype=torch.long)
        column[ordered] = torch.arange(len(ordered))
        return cls(ordered, column)

    def to(self, device: torch.device) -> "MLMVocab":
        return MLMVocab(self.ids.to(device), self.column.to(device))

    def candidates_for(self, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(candidate ids, label columns)`` for one batch: the vocabulary plus any label it lacks.

        The vocabulary is built from the main views (and the dictionary's target side); a code-switched
        view is tokenised anew, so under natural tokenisation a character right after a switched span
        starts a stretch and can become a piece the main views never produced (``▁田`` where the main view
        has ``田``). Such a label would otherwise be absent (-100 = ignored: its masked position silently
        unscored); it is appended as an extra candidate of this batch's softmax instead.
        """
        columns = self.column[labels]
        absent = columns < 0
        if not bool(absent.any()):
            return self.ids, columns
        extra = torch.unique(labels[absent])                                     # sorted
        columns = columns.clone()
        columns[absent] = len(self.ids) + torch.searchsorted(extra, labels[absent])
        return torch.cat([self.ids, extra]), columns


def masked_lm(model: PhoneXLModel, batch: Batch, ratio: float, mask_id: int,
              generator: torch.Generator, vocab: MLMVocab | None = None) -> torch.Tensor:
    """Whole-token masked LM on ``batch``: mask ``ratio`` of its tokens, predict their subwords.

    Only the orthographic ids are masked: ``model`` still adds every token's PE and LE, the
    cross-modal signal L_MLM is meant to exploit. With ``vocab`` the softmax runs over its candidates.
    """
    masked_words = sample_word_mask(batch.word_mask, ratio, generator)          # [B, W] bool
    # a piece shared by several tokens (natural tokenisation) is masked when any of them is
    masked_sub = words_hit(masked_words, batch.word_index, batch.word_last)     # [B, S] bool
    hidden = model(batch, input_ids=batch.input_ids.masked_fill(masked_sub, mask_id))   # [B, S, H]
    labels = batch.input_ids[masked_sub]                                         # [N] subword ids
    if vocab is None:
        return masked_lm_loss(model.mlm_logits(hidden[masked_sub]), labels)     # logits [N, V]
    ids, columns = vocab.candidates_for(labels)                                  # every label a candidate
    logits = model.mlm_logits(hidden[masked_sub], ids)                           # [N, V']
    return masked_lm_loss(logits, columns)                                       # labels as columns


@SYSTEMS.register("phonexl")
class PhoneXL(System):
    """The paper's method; alpha/beta/gamma/mu/r come from the resolved config (Table 5 defaults)."""

    uses_phonemes = True

    def __init__(self, cfg: TrainConfig, collator, dictionary=None) -> None:
        super().__init__(cfg, collator, dictionary)
        for name in ("alpha", "beta", "gamma", "mu", "r"):
            if getattr(cfg, name) is None:
                raise ValueError(f"PhoneXL needs a resolved config ({name} is None): "
                                 "pass cfg.resolved()")
        self.aux_schedule = cfg.options.get("aux_schedule", "alternate")
        if self.aux_schedule not in AUX_SCHEDULES:
            raise ValueError(f"unknown options.aux_schedule {self.aux_schedule!r}; valid: "
                             f"{', '.join(AUX_SCHEDULES)}")
        self.mlm_vocab_kind = cfg.options.get("mlm_vocab", "data")
        if self.mlm_vocab_kind not in MLM_VOCABS:
            raise ValueError(f"unknown options.mlm_vocab {self.mlm_vocab_kind!r}; valid: {', '.join(MLM_VOCABS)}")
        self.pe_gate = cfg.options.get("pe_gate", False)
        if not isinstance(self.pe_gate, bool):
            raise ValueError(f"options.pe_gate must be true or false, got {self.pe_gate!r}")
        self.mlm_vocab: MLMVocab | None = None
        self.mask_id = collator.tokenizer.mask_token_id
        if (cfg.beta > 0 or cfg.gamma > 0) and self.mask_id is None:
            raise ValueError(f"tokenizer {type(collator.tokenizer).__name__} has no mask token; "
                             "L_MLM/L_XMLM need one (set beta=0 and gamma=0 to train without)")

    @classmethod
    def needs_dictionary(cls, cfg: TrainConfig) -> bool:
        return (cfg.resolved().gamma or 0) > 0

    def needs_full_vocabulary(self) -> bool:
        """``mlm_vocab: full`` is a softmax over every row of the table: the run is not trimmed."""
        return self.mlm_vocab_kind == "full" and (self.cfg.beta > 0 or self.cfg.gamma > 0)

    def model_settings(self) -> ModelSettings:
        return ModelSettings(use_pe=self.cfg.use_pe, use_le=self.cfg.use_le, use_crf=self.cfg.use_crf,
                             with_mlm_head=self.cfg.beta > 0 or self.cfg.gamma > 0,
                             pe_gate=self.pe_gate and self.cfg.use_pe)

    def begin_stage(self, stage: Stage, model: PhoneXLModel, examples: list[Example],
                    predict: PredictFn) -> list[Example]:
        """Build the MLM candidate vocabulary once (``mlm_vocab: data``): every subword of the training
        sentences and of the dictionary's target-language side, i.e. every label L_MLM / L_XMLM can have."""
        if self.mlm_vocab_kind == "data" and self.mlm_vocab is None and (self.cfg.beta > 0 or self.cfg.gamma > 0):
            ids = {i for ex in examples for i in self.collator.encode(ex).ids}
            if self.dictionary is not None:
                forward = self.dictionary.source_lang == self.cfg.source_lang
                lang = self.cfg.target_lang
                for e in self.dictionary.entries:
                    side = (e.target if forward else e.source).tokens
                    ids.update(self.collator.subwords.encode(side, (lang,) * len(side), pieces=self.collator.pieces).ids)
            rows = self.collator.model_ids(torch.tensor(sorted(ids), dtype=torch.long)).tolist()
            self.mlm_vocab = MLMVocab.of(set(rows), model.word_embeddings.num_embeddings)
            log.info("MLM softmax over %d candidate subwords (of %d)", len(ids), len(self.mlm_vocab.column))
        return examples

    def prepare(self, examples: Sequence[Example], rng: random.Random, stage: Stage) -> TrainBatch:
        views = {"main": self.collator.collate(examples)}
        if self.cfg.gamma > 0:
            views["switched"] = self.collator.collate(code_switch_examples(
                examples, self.collator, self.dictionary, self.cfg.source_lang, self.cfg.target_lang,
                self.cfg.r, rng, self.cfg.phonemes))
        return TrainBatch(views)

    def losses(self, model: PhoneXLModel, batch: TrainBatch, step: int,
               generator: torch.Generator) -> dict[str, torch.Tensor]:
        cfg, main = self.cfg, batch.main
        out = {"task": self.task_loss(model, main)}
        total = out["task"]
        if cfg.alpha > 0 and cfg.use_pe:
            out["align"] = align_loss(model.phonemic_embedding(main), model.orthographic_embedding(main),
                                      main.word_mask, model.log_scale)
            total = total + cfg.alpha * out["align"]
        # (weight multiplier, whether this step computes it) for MLM and XMLM
        alternate = self.aux_schedule == "alternate"
        mlm_on, xmlm_on = (step % 2 == 0, step % 2 == 1) if alternate else (True, True)
        scale = 2.0 if alternate else 1.0
        vocab = self.mlm_vocab.to(main.input_ids.device) if self.mlm_vocab is not None else None
        # the mask token's row in the model's (possibly trimmed) table
        mask_id = (int(self.collator.model_ids(torch.tensor([self.mask_id]))[0])
                   if cfg.beta > 0 or cfg.gamma > 0 else None)
        if cfg.beta > 0 and mlm_on:
            out["mlm"] = masked_lm(model, main, cfg.mu, mask_id, generator, vocab)
            total = total + cfg.beta * scale * out["mlm"]
        if cfg.gamma > 0 and xmlm_on:
            out["xmlm"] = masked_lm(model, batch.views["switched"], cfg.mu, mask_id, generator, vocab)
            total = total + cfg.gamma * scale * out["xmlm"]
        out["loss"] = total
        return out
