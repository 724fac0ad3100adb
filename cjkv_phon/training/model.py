"""The PhoneXL model: a Hugging Face encoder with phonemic and language embeddings, a tag head and a CRF.

Shapes: B sentences, S subwords, W words (dataset tokens), P phoneme pieces per word, H hidden size,
K tags, V vocabulary size, N masked subwords in a batch.

Input representation of subword s of token w (the paper's Fig. 1):

    x[b, s] = E_word[input_ids[b, s]] + PE[b, w] + LE[lang[b, w]]     (then + position + segment,
                                                                        LayerNorm, dropout: the backbone)

* PE[b, w] = mean over the pieces of token w's transcription of E_word[piece]. The transcription is a
  second sequence of a different length (``ni˨˩˦`` is 3-5 pieces, ``你`` is 1-2), so it is pooled to ONE
  vector per token BEFORE the encoder and that vector is added to each orthographic subword of the token.
  Phoneme pieces therefore have no positions of their own: they take their token's orthographic
  positions, and the encoder's sequence length stays S (no cost in attention).
* PE shares the backbone's word-embedding table E_word (extended with IPA symbols, see vocab.py) rather
  than a copy of it. A separate table would cost V x H more parameters plus 2 V x H AdamW moments:
  250k x 384 = 96M parameters (~1.15 GB with AdamW states in fp32) for e5-small, 192M (~2.3 GB) for
  XLM-R base. Sharing costs nothing and starts PE in the same space as the orthography, which is the space
  L_align pulls them together in.
* ``pe_table`` (issue 14, ``TrainConfig.pe_design`` other than ``shared``): PE from a separate, small,
  freshly initialised table instead (training/phonemic_embedding.py); ``phon_ids`` then index it.
* ``pe_gate`` (off by default, the paper has none): PE enters as ``g * PE`` with a learnt scalar ``g``
  initialised to 0, so that, like LE, PE starts as the identity and the encoder sees its pretrained
  input distribution at step 0; ``g`` grows only as far as the task gradient finds PE useful. Without the
  gate PE is added at full embedding scale from the first step (the paper's Fig. 1).
* LE is a small [num_langs, H] table, zero-initialised so that before training the model computes
  exactly what the pretrained backbone computes; it is indexed PER TOKEN (a code-switched token carries
  the target language id), never per sentence.
* Everything enters through ``inputs_embeds``, so any encoder whose embeddings module accepts it works
  (BERT and XLM-R families; the backbone adds its own position/segment embeddings).

Task head: mean pooling of each token's output subwords (``pooling.mean_pool``) -> dropout -> linear
emissions [B, W, K] -> CRF (log-likelihood for training, Viterbi for decoding); ``use_crf=False`` gives a
softmax with cross-entropy. Mean rather than first-subword pooling because SentencePiece tokenizers
split a CJK character tokenised alone into a bare ``▁`` piece plus the character (the ``per-token``
tokenisation): the first subword of such a token carries no information about it. A piece shared by
several tokens (``natural`` tokenisation, ``batch.word_last``) enters each of their means.

MLM head (L_MLM / L_XMLM): dense -> gelu -> LayerNorm -> decoder tied to E_word (+ own bias), applied
ONLY at the N masked positions, so the V-sized softmax costs N x V instead of B x S x V; optionally
over a candidate subset of the vocabulary (``vocab_ids``, see systems/phonexl.py).

Layer-wise access (``embed`` then ``encode(start_layer, end_layer)``) lets systems such as X-MIXUP and
FILTER mix or fuse hidden states between layers.
"""

from __future__ import annotations

import math
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

import torch
from torch import nn
from torch.nn import functional as F
from transformers.masking_utils import create_bidirectional_mask

from cjkv_phon.training.batches import IGNORE, LANG_IDS, Batch
from cjkv_phon.training.crf import CRF, bio_constraints
from cjkv_phon.training.pooling import broadcast_to_subwords, mean_pool

# CLIP's initial temperature 0.07, stored as log(1/T) so the learnt scale exp(log_scale) stays positive.
INITIAL_LOG_SCALE = math.log(1 / 0.07)
# How the CRF task loss is normalised (see PhoneXLModel): per token, or per sentence (before issue 13).
TASK_LOSS_NORMS = ("token", "sentence")


@dataclass(frozen=True)
class ModelSettings:
    """What the model adds to the backbone; systems choose these (finetune turns PE and LE off).

    Attributes:
        use_pe: add the phonemic embedding of each token.
        use_le: add the per-token language embedding.
        use_crf: CRF task loss and Viterbi decoding; False = per-token softmax cross-entropy.
        with_mlm_head: build the masked-LM head (only systems with L_MLM / L_XMLM need it).
        pe_gate: multiply PE by a learnt scalar initialised to 0 (see the module docstring).
    """

    use_pe: bool = True
    use_le: bool = True
    use_crf: bool = True
    with_mlm_head: bool = True
    pe_gate: bool = False


@contextmanager
def component_rng(seed: int | None, name: str) -> Iterator[None]:
    """Initialise one model component from its own seed, ``(seed, crc32(name))``, leaving torch's global
    RNG as it was; ``seed=None`` draws from the global RNG as plain PyTorch would.

    Why: optional steps before the model is built (the IPA vocabulary extension, another system's
    extra module) consume the global RNG, so two systems run with one seed would otherwise start
    with different classifier / CRF weights and a "paired by seed" comparison would not be paired.
    """
    if seed is None:
        yield
        return
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed((seed * 1_000_003 + zlib.crc32(name.encode())) % 2**63)
        yield


class MLMHead(nn.Module):
    """BERT's prediction head with the decoder tied to the word embeddings."""

    def __init__(self, hidden_size: int, vocab_size: int, eps: float) -> None:
        super().__init__()
        self.dense = nn.Linear(hidden_size, hidden_size)
        self.norm = nn.LayerNorm(hidden_size, eps=eps)
        self.bias = nn.Parameter(torch.zeros(vocab_size))

    def forward(self, hidden: torch.Tensor, decoder: torch.Tensor,
                vocab_ids: torch.Tensor | None = None) -> torch.Tensor:
        """hidden [N, H], decoder = E_word weight [V, H] -> logits [N, V] (or [N, V'] over ``vocab_ids``).

        The tied weight is passed in rather than stored so the state dict holds E_word once.
        """
        x = self.norm(F.gelu(self.dense(hidden)))                           # [N, H]
        if vocab_ids is None:
            return F.linear(x, decoder, self.bias)                          # [N, V]
        return F.linear(x, decoder[vocab_ids], self.bias[vocab_ids])        # [N, V']


class PhoneXLModel(nn.Module):
    """Backbone + PE + LE + tag head + CRF (+ MLM head and the L_align temperature).

    Args:
        backbone: a Hugging Face encoder (``BertModel``, ``XLMRobertaModel``, ...) whose vocabulary is
            already extended (``vocab.extend_vocab``) if wanted.
        labels: tag names in id order; IOB2 label sets get CRF transition constraints.
        settings: which additions are on.
        task_loss_norm: ``token`` (default): the CRF NLL summed over the batch and divided by its
            number of tokens, the scale of the released code's token-mean cross-entropy (~1.9 at step
            0), for which the paper's Table 5 alpha/beta/gamma were tuned; ``sentence``: the mean
            per-sentence NLL (~20x larger on PAN-X zh, so the auxiliary weights act ~20x weaker).
        init_seed: seeds every added component (LE, classifier, CRF, MLM head) from its own
            generator (``component_rng``), so two systems with one seed share every common initial
            weight whatever ran before; None = torch's global RNG.
        pe_table: the PE design's own table (``phonemic_embedding.SymbolTable``: ``(phon_ids,
            phon_mask) -> [B, W, H]``); None = PE from E_word (``pe_design="shared"``).
    """

    def __init__(self, backbone: nn.Module, labels: tuple[str, ...] | list[str],
                 settings: ModelSettings, init_seed: int | None = None, task_loss_norm: str = "token",
                 pe_table: nn.Module | None = None) -> None:
        super().__init__()
        if task_loss_norm not in TASK_LOSS_NORMS:
            raise ValueError(f"unknown task_loss_norm {task_loss_norm!r}; valid: {', '.join(TASK_LOSS_NORMS)}")
        self.task_loss_norm = task_loss_norm
        self.backbone = backbone
        self.settings = settings
        self.labels = tuple(labels)
        cfg = backbone.config
        h = cfg.hidden_size
        with component_rng(init_seed, "language_embeddings"):
            self.language_embeddings = nn.Embedding(len(LANG_IDS), h)
        nn.init.zeros_(self.language_embeddings.weight)                     # identity at start
        self.dropout = nn.Dropout(cfg.hidden_dropout_prob)
        with component_rng(init_seed, "classifier"):
            self.classifier = nn.Linear(h, len(self.labels))
        with component_rng(init_seed, "crf"):
            self.crf = CRF(len(self.labels), *bio_constraints(self.labels)) if settings.use_crf else None
        eps = getattr(cfg, "layer_norm_eps", 1e-12)
        with component_rng(init_seed, "mlm_head"):
            self.mlm_head = (MLMHead(h, self.word_embeddings.num_embeddings, eps) if settings.with_mlm_head
                             else None)
        self.log_scale = nn.Parameter(torch.tensor(INITIAL_LOG_SCALE))
        self.pe_gate = nn.Parameter(torch.zeros(())) if settings.pe_gate else None
        self.pe_table = pe_table

    # ---- properties -------------------------------------------------------------------------------
    @property
    def word_embeddings(self) -> nn.Embedding:
        """E_word, the backbone's (possibly resized) input embedding table [V, H]."""
        return self.backbone.get_input_embeddings()

    @property
    def layers(self) -> nn.ModuleList:
        """The backbone's transformer layers (``encoder.layer`` in the BERT and XLM-R families)."""
        return self.backbone.encoder.layer

    @property
    def num_layers(self) -> int:
        """Number of transformer layers (12 for mBERT/XLM-R base and e5-small)."""
        return len(self.layers)

    @property
    def hidden_size(self) -> int:
        return int(self.backbone.config.hidden_size)

    # ---- input representation --------------------------------------------------------------------
    def phonemic_embedding(self, batch: Batch) -> torch.Tensor:
        """PE: mean word embedding of each token's phoneme pieces, [B, W, H] (zeros at padding); with
        an own ``pe_table`` (pe_design table / segments / features), the mean of its symbol vectors."""
        if self.pe_table is not None:
            return self.pe_table(batch.phon_ids, batch.phon_mask)
        emb = self.word_embeddings(batch.phon_ids)                          # [B, W, P, H]
        m = batch.phon_mask.unsqueeze(-1).to(emb.dtype)                     # [B, W, P, 1]
        return (emb * m).sum(2) / m.sum(2).clamp(min=1.0)                   # [B, W, H]

    def phoneme_symbol_vectors(self, ids: torch.Tensor) -> torch.Tensor:
        """The vectors PE averages for phoneme ids ``ids`` [...] -> [..., H] (E_word rows or pe_table's)."""
        if self.pe_table is not None:
            return self.pe_table.symbol_vectors(ids)
        return self.word_embeddings(ids)

    def orthographic_embedding(self, batch: Batch) -> torch.Tensor:
        """Mean word embedding of each token's orthographic subwords, [B, W, H] (L_align's other side)."""
        emb = self.word_embeddings(batch.input_ids)                         # [B, S, H]
        return mean_pool(emb, batch.word_index, batch.num_words, batch.word_last)[0]   # [B, W, H]

    def input_embeddings(self, batch: Batch, input_ids: torch.Tensor | None = None) -> torch.Tensor:
        """E_word + PE + LE per subword, [B, S, H], before position/segment embeddings.

        Args:
            batch: the batch (word_index, phonemes, languages).
            input_ids: [B, S] replacement ids (e.g. with [MASK] at masked tokens); default batch's.
        """
        x = self.word_embeddings(batch.input_ids if input_ids is None else input_ids)   # [B, S, H]
        if self.settings.use_pe:
            pe = self.phonemic_embedding(batch)                              # [B, W, H]
            if self.pe_gate is not None:
                pe = self.pe_gate.to(pe.dtype) * pe
            x = x + broadcast_to_subwords(pe, batch.word_index, batch.word_last)
        if self.settings.use_le:
            le = self.language_embeddings(batch.lang_ids)                    # [B, W, H]
            x = x + broadcast_to_subwords(le, batch.word_index, batch.word_last)
        return x

    def embed(self, batch: Batch, input_ids: torch.Tensor | None = None) -> torch.Tensor:
        """Layer-0 hidden states [B, S, H]: input embeddings + the backbone's positions, segments, norm."""
        return self.backbone.embeddings(inputs_embeds=self.input_embeddings(batch, input_ids))

    def encode(self, hidden: torch.Tensor, attention_mask: torch.Tensor, start_layer: int = 0,
               end_layer: int | None = None) -> torch.Tensor:
        """Run transformer layers ``start_layer`` .. ``end_layer - 1`` on ``hidden`` [B, S, H].

        Args:
            hidden: [B, S, H] states entering layer ``start_layer`` (``embed``'s output for 0).
            attention_mask: [B, S] 1 = real subword, 0 = padding.
            start_layer, end_layer: a Python-slice range over ``layers`` (None = to the last layer).
        """
        mask = create_bidirectional_mask(config=self.backbone.config, inputs_embeds=hidden,
                                         attention_mask=attention_mask)
        for layer in self.layers[start_layer:end_layer]:
            out = layer(hidden, mask)
            hidden = out[0] if isinstance(out, tuple) else out              # older layers return tuples
        return hidden

    def forward(self, batch: Batch, input_ids: torch.Tensor | None = None) -> torch.Tensor:
        """Full encoder: last-layer subword states [B, S, H]."""
        return self.encode(self.embed(batch, input_ids), batch.attention_mask)

    # ---- task head ---------------------------------------------------------------------------------
    def word_vectors(self, hidden: torch.Tensor, batch: Batch) -> torch.Tensor:
        """Mean-pool subword states [B, S, H] to token states [B, W, H]."""
        return mean_pool(hidden, batch.word_index, batch.num_words, batch.word_last)[0]

    def emissions(self, word_vectors: torch.Tensor) -> torch.Tensor:
        """Tag scores [B, W, K] from token states [B, W, H]."""
        return self.classifier(self.dropout(word_vectors))

    def task_loss(self, emissions: torch.Tensor, tags: torch.Tensor, word_mask: torch.Tensor) -> torch.Tensor:
        """CRF negative log-likelihood per token (or per sentence, ``task_loss_norm``), or token-mean
        cross-entropy without a CRF."""
        if self.crf is not None:
            reduction = "token_mean" if self.task_loss_norm == "token" else "mean"
            return self.crf.nll(emissions, tags, word_mask, reduction=reduction)
        return F.cross_entropy(emissions.float().reshape(-1, emissions.shape[-1]),
                               tags.masked_fill(~word_mask, IGNORE).reshape(-1), ignore_index=IGNORE)

    def decode(self, emissions: torch.Tensor, word_mask: torch.Tensor) -> list[list[int]]:
        """Best tag ids per sentence (Viterbi with the CRF, argmax without), unpadded."""
        if self.crf is not None:
            return self.crf.decode(emissions, word_mask)
        best = emissions.argmax(-1).tolist()
        return [row[: int(n)] for row, n in zip(best, word_mask.sum(1).tolist())]

    @torch.no_grad()
    def predict(self, batch: Batch) -> list[list[int]]:
        """Tag ids for every example of ``batch`` (call under ``model.eval()``)."""
        return self.decode(self.emissions(self.word_vectors(self(batch), batch)), batch.word_mask)

    # ---- masked LM -----------------------------------------------------------------------------------
    def mlm_logits(self, hidden: torch.Tensor, vocab_ids: torch.Tensor | None = None) -> torch.Tensor:
        """Vocabulary logits for the hidden states [N, H] of the N masked subwords.

        Args:
            hidden: [N, H].
            vocab_ids: [V'] candidate ids; the softmax then runs over these V' entries only
                (column k of the result is id ``vocab_ids[k]``). None = the whole vocabulary, [N, V].
        """
        if self.mlm_head is None:
            raise ValueError("this model was built without an MLM head (ModelSettings.with_mlm_head)")
        return self.mlm_head(hidden, self.word_embeddings.weight, vocab_ids)
