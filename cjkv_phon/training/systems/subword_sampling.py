"""Subword sampling (Kudo 2018's subword regularisation) for fast Unigram tokenizers, seeded by our rng.

xTune's augmented views re-segment words at random. The SentencePiece ``sp_model`` that does this is
not available behind the project's fast tokenizers, and the ``tokenizers`` library's own Unigram
sampling draws from an unseeded generator (a resumed run would not redraw the same views), so the
lattice is sampled here: the segmentation ``x1 .. xk`` of a word has probability proportional to
``exp(alpha * sum(log p(xi)))`` (forward sums over the lattice, then sampling backwards).
Only Unigram models (XLM-R, e5, tiny-xlmr) have piece probabilities; WordPiece (mBERT, tiny-bert) has
none, so ``supports`` says whether a tokenizer can be sampled.

Example:
    With pieces ``▁北京`` (log p -8) and ``▁北``, ``京`` (-9, -9) and alpha 0.5, ``"北京"`` is ``[▁北京]``
    with probability e^-4 / (e^-4 + e^-9) ≈ 0.993 and ``[▁北, 京]`` otherwise.
"""

from __future__ import annotations

import json
import math
import random
from typing import Sequence

from cjkv_phon.training.batches import Collator, Example


def model_state(tokenizer) -> dict:
    """The fast tokenizer's model section (type, vocabulary with scores) as JSON."""
    return json.loads(tokenizer.backend_tokenizer.to_str())["model"]


def supports(tokenizer) -> bool:
    """Whether ``tokenizer`` has piece probabilities to sample from (a Unigram model)."""
    return model_state(tokenizer)["type"] == "Unigram"


class UnigramSampler:
    """Samples segmentations of words from a fast Unigram tokenizer's vocabulary.

    Args:
        tokenizer: a Hugging Face fast tokenizer with a Unigram model.
        alpha: the smoothing exponent (SentencePiece's documented example uses 0.1); smaller is more random.
    """

    def __init__(self, tokenizer, alpha: float) -> None:
        state = model_state(tokenizer)
        if state["type"] != "Unigram" or not alpha > 0:
            raise ValueError(f"subword sampling needs a Unigram tokenizer and alpha > 0; got "
                             f"{state['type']}, alpha={alpha}")
        specials = set(tokenizer.all_special_tokens)      # their score 0 would make them certain
        self.scores = {piece: alpha * score for piece, score in state["vocab"] if piece not in specials}
        self.max_len = max(len(piece) for piece in self.scores)
        self.backend = tokenizer.backend_tokenizer
        self.vocab = tokenizer.get_vocab()
        self._forward: dict[str, list[float]] = {}

    def _lattice(self, text: str) -> list[float]:
        """log Z[i]: log of the summed weights of all segmentations of ``text[:i]`` (cached)."""
        if text not in self._forward:
            logz = [0.0] + [-math.inf] * len(text)
            for i in range(1, len(text) + 1):
                terms = [logz[j] + self.scores[text[j:i]] for j in range(max(0, i - self.max_len), i)
                         if text[j:i] in self.scores and logz[j] > -math.inf]
                if terms:
                    top = max(terms)
                    logz[i] = top + math.log(sum(math.exp(t - top) for t in terms))
            self._forward[text] = logz
        return self._forward[text]

    def segment(self, text: str, rng: random.Random) -> list[str] | None:
        """One sampled segmentation of a pre-tokenized string, or None when it has no segmentation."""
        logz = self._lattice(text)
        if logz[-1] == -math.inf:
            return None
        pieces, i = [], len(text)
        while i > 0:
            starts = [j for j in range(max(0, i - self.max_len), i) if text[j:i] in self.scores]
            weights = [math.exp(logz[j] + self.scores[text[j:i]] - logz[i]) for j in starts]
            j = rng.choices(starts, weights)[0]
            pieces.append(text[j:i])
            i = j
        return pieces[::-1]

    def possible_ids(self, word: str) -> set[int]:
        """Ids of every vocabulary piece that is a substring of one of ``word``'s pre-tokenized parts:
        a superset of what ``sample_ids`` can return for it (the lattice's edges)."""
        text = self.backend.normalizer.normalize_str(word) if self.backend.normalizer else word
        out: set[int] = set()
        for part, _ in self.backend.pre_tokenizer.pre_tokenize_str(text):
            for i in range(len(part)):
                for j in range(i + 1, min(len(part), i + self.max_len) + 1):
                    if part[i:j] in self.scores:
                        out.add(self.vocab[part[i:j]])
        return out

    def sample_ids(self, word: str, rng: random.Random) -> list[int] | None:
        """Sampled piece ids of one dataset token (normalised and pre-tokenized as the tokenizer does)."""
        text = self.backend.normalizer.normalize_str(word) if self.backend.normalizer else word
        ids: list[int] = []
        for part, _ in self.backend.pre_tokenizer.pre_tokenize_str(text):
            pieces = self.segment(part, rng)
            if pieces is None:
                return None
            ids += [self.vocab[p] for p in pieces]
        return ids or None


class SamplingCollator(Collator):
    """A Collator that encodes each example's tokens with freshly sampled segmentations.

    Draws come from ``self.rng`` (set it to the step's rng before ``collate``). An example whose sampled
    pieces would exceed the subword budget keeps the deterministic pieces, so collation never fails.
    Relies on ``Collator._subwords`` encoding one example through ``pieces``.
    """

    def __init__(self, base: Collator, sampler: UnigramSampler) -> None:
        # xTune samples each token's own segmentation: per-token by construction
        super().__init__(base.tokenizer, base.labels, base.max_subwords, base.max_phoneme_pieces,
                         tokenisation="per-token")
        self.base = base
        self.sampler = sampler
        self.rng = random.Random(0)
        self._drawn: dict[str, list[int]] = {}

    def pieces(self, text: str) -> list[int]:
        return self._drawn.get(text) or super().pieces(text)

    def model_ids(self, ids):
        """The base collator's id -> row map (it is the one a trimmed vocabulary is set on)."""
        return self.base.model_ids(ids)

    def possible_ids(self, texts) -> set[int]:
        """Every piece id a sampled segmentation of any of ``texts`` can contain (for trimming)."""
        return {i for text in set(texts) for i in self.sampler.possible_ids(text)}

    def _subwords(self, ex: Example) -> tuple[list[int], list[int]]:
        # A word without a segmentation (an unknown character) keeps its deterministic pieces.
        drawn = {t: self.sampler.sample_ids(t, self.rng) or Collator.pieces(self, t)
                 for t in dict.fromkeys(ex.tokens)}
        fits = sum(len(drawn[t]) for t in ex.tokens) + 2 <= self.max_subwords
        self._drawn = drawn if fits else {}
        try:
            return super()._subwords(ex)
        finally:
            self._drawn = {}

    def collate_sampled(self, examples: Sequence[Example], rng: random.Random):
        """``collate`` with segmentations drawn from ``rng``."""
        self.rng = rng
        return self.collate(examples)
