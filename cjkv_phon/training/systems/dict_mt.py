"""Augmented and "translated" views of a sentence, with the token alignment back to the original.

Shared by the baselines that need a second view of each source sentence: xTune (code-switched views),
X-MIXUP and FILTER (a translation). No machine translation can run here, so the translation is the
label-preserving word-by-word dictionary translation of ``dictionary.codeswitch.translate`` ("dict-MT";
every such system says so in its ``resources`` attribute and in every table).

The alignment comes from the code-switch record (``SwitchedSentence.origin`` / ``spans``). Two kinds:

* ``label`` pairs: tokens whose label is the same on both sides by construction: every kept token, and
  the first token of each switched span (``span_tags`` keeps the span's first tag). Consistency and
  distillation losses compare label distributions only there.
* ``full`` pairs: every source token to one view token (kept tokens to themselves; the k-th token of a
  switched span to the k-th token of its replacement, or the replacement's last), for mixing hidden
  states token by token.

Example:
    Source ``北 京 大 学 在 哪`` (zh) with the span 北京 -> ``Bắc Kinh`` (vi, 2 tokens) and 大学 -> ``đại học``
    switched: view ``Bắc Kinh đại học 在 哪``; label pairs (0,0) (2,2) (4,4) (5,5); full pairs add (1,1) (3,3).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from typing import Sequence

import torch

from cjkv_phon.dictionary.codeswitch import SwitchedSentence, code_switch
from cjkv_phon.training.batches import Collator, Example

Pairs = tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class AlignedView:
    """A second view of a source example and its alignment.

    Attributes:
        example: the view (fits the collator's subword budget).
        label_pairs: ``(source token, view token)`` pairs that share their label.
        full_pairs: one ``(source token, view token)`` pair for every source token.
    """

    example: Example
    label_pairs: Pairs
    full_pairs: Pairs


def alignment(sw: SwitchedSentence, n_source: int) -> tuple[Pairs, Pairs]:
    """The label and full pairs of a switched sentence over a source of ``n_source`` tokens."""
    inserted = {j for _, _, ns, ne in sw.spans for j in range(ns, ne)}
    kept = [(sw.origin[j], j) for j in range(len(sw.tokens)) if j not in inserted]
    firsts = [(os_, ns) for os_, _, ns, _ in sw.spans]
    inner = [(i, ns + min(i - os_, ne - ns - 1)) for os_, oe, ns, ne in sw.spans for i in range(os_ + 1, oe)]
    label = tuple(sorted(kept + firsts))
    full = tuple(sorted(kept + firsts + inner))
    if [i for i, _ in full] != list(range(n_source)):
        raise ValueError(f"alignment does not cover the {n_source} source tokens once each: {full}")
    return label, full


def identity_view(ex: Example) -> AlignedView:
    """The example as its own view (used when a view would not fit the subword budget)."""
    pairs = tuple((i, i) for i in range(len(ex.tokens)))
    return AlignedView(ex, pairs, pairs)


def fits(view: Example, collator: Collator) -> bool:
    """Whether ``view`` fits the collator's subword budget as one sequence (specials included)."""
    return len(collator.encode(view)) + 2 <= collator.max_subwords


def switched_view(ex: Example, collator: Collator, dictionary, lang: str, target_lang: str,
                  ratio: float, rng: random.Random | None, sampling: str = "support") -> AlignedView:
    """Code-switch ``ex`` (ratio 1 with ``sampling="top"`` is the dict-MT translation) and align it.

    A view longer than the subword budget falls back to the identity view: splitting it would break
    the one-to-one alignment with the source chunk, and such views are rare (a switch lengthens a
    sentence by a few tokens at most).
    """
    sw = code_switch(ex.tokens, ex.phonemes, ex.phonemes, ex.tags, lang, dictionary, ratio, rng,
                     target_lang=target_lang, sampling=sampling)
    view = replace(ex, tokens=sw.tokens, phonemes=sw.ipa, langs=sw.langs, tags=sw.tags)
    if not fits(view, collator):
        return identity_view(ex)
    label, full = alignment(sw, len(ex.tokens))
    return AlignedView(view, label, full)


def pair_tensors(views: Sequence[AlignedView], kind: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Padded alignment of a batch: source index [B, A], view index [B, A], mask [B, A] (bool).

    Args:
        views: one view per batch example, in batch order.
        kind: ``label`` or ``full`` pairs.
    """
    pairs = [v.label_pairs if kind == "label" else v.full_pairs for v in views]
    width = max(1, max(len(p) for p in pairs))
    src = torch.zeros((len(pairs), width), dtype=torch.long)
    dst = torch.zeros((len(pairs), width), dtype=torch.long)
    mask = torch.zeros((len(pairs), width), dtype=torch.bool)
    for b, row in enumerate(pairs):
        if row:
            src[b, : len(row)] = torch.tensor([i for i, _ in row])
            dst[b, : len(row)] = torch.tensor([j for _, j in row])
            mask[b, : len(row)] = True
    return src, dst, mask


def gather_words(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """Rows of ``x`` [B, W, D] at token positions ``index`` [B, A] -> [B, A, D]."""
    return x.gather(1, index.unsqueeze(-1).expand(-1, -1, x.shape[-1]))


class DictTranslations:
    """The dict-MT view of each example, computed once: it is deterministic (the best translation of
    every span), so X-MIXUP and FILTER need not redo the span search every epoch.

    Args:
        collator: for the subword budget.
        dictionary: the pivot dictionary; lang, target_lang: translate from ``lang`` into ``target_lang``.
    """

    def __init__(self, collator: Collator, dictionary, lang: str, target_lang: str) -> None:
        self.collator, self.dictionary = collator, dictionary
        self.lang, self.target_lang = lang, target_lang
        self._cache: dict[tuple[str, int], AlignedView] = {}

    def __call__(self, ex: Example) -> AlignedView:
        key = (ex.id, ex.chunk)
        if key not in self._cache:
            self._cache[key] = switched_view(ex, self.collator, self.dictionary, self.lang,
                                             self.target_lang, 1.0, None, "top")
        return self._cache[key]
