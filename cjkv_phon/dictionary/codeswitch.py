"""Span code-switching (CoSDA-ML style) and word-by-word dictionary translation.

``code_switch`` replaces dictionary-matched spans of a sentence by a translation, keeping labels
aligned; the trainer calls it per batch for L_XMLM and the CoSDA-ML/xTune baselines, and
``translate`` (every span switched, the best translation) gives the "dict-MT" input of the X-MIXUP
and FILTER baselines.

Span choice is deterministic: greedy longest match left to right over the sentence's tokens (PAN-X zh/ja
are one character per token, so a word is a multi-token span), keeping only label-safe spans:

* IOB tags (PAN-X): a span lies inside one entity or inside one run of ``O``; it never crosses an entity
  boundary. A switched entity span keeps its structure over the new length (``B-LOC I-LOC`` ->
  ``B-LOC I-LOC I-LOC``; a span starting inside an entity stays all ``I-``).
* Plain tags (UDPOS): a multi-token span is switched only when all its tokens share one tag.

``ratio`` is the probability that each label-safe span is switched (a fraction of matchable spans, not
of tokens): 0 is the identity, 1 switches every span. The rng alone decides which spans switch and which
translation is drawn, so a seed reproduces the output.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Sequence

from cjkv_phon.dictionary.lexicon import SAMPLINGS, PivotDictionary, Side, SpanIndex
from cjkv_phon.errors import check_choice

_IOB_PREFIXES = ("B-", "I-")


@dataclass(frozen=True)
class SwitchedSentence:
    """A code-switched sentence; every per-token tuple has ``len(tokens)`` entries.

    Attributes:
        tokens, ipa, romanized: the new sentence and its transcriptions (dictionary transcriptions for
            inserted tokens, the input's for kept ones).
        langs: language of each token (the input language for kept tokens, the other for inserted).
        tags: new labels, or None when the input had none.
        origin: for every new token, the index of the original token it is (kept) or of the first
            token of the original span it replaces (inserted).
        spans: ``(orig_start, orig_end, new_start, new_end)`` of every switched span, in order.
    """

    tokens: tuple[str, ...]
    ipa: tuple[str, ...]
    romanized: tuple[str, ...]
    langs: tuple[str, ...]
    tags: tuple[str, ...] | None
    origin: tuple[int, ...]
    spans: tuple[tuple[int, int, int, int], ...]


def is_iob(tags: Sequence[str]) -> bool:
    """True for IOB entity tags (``O``, ``B-X``, ``I-X``), False for plain tags such as UPOS."""
    # Checking the distinct tags only: a sentence has a handful, and this runs once per sentence.
    return all(t == "O" or t.startswith(_IOB_PREFIXES) for t in set(tags))


def span_allowed(tags: Sequence[str] | None, start: int, end: int, iob: bool) -> bool:
    """Whether switching tokens ``start:end`` keeps the labels well defined (rules in module doc)."""
    if tags is None or end - start == 1:
        return True
    first = tags[start]
    if not iob or first == "O":
        return all(t == first for t in tags[start + 1:end])
    inside = "I-" + first[2:]
    return all(t == inside for t in tags[start + 1:end])


def span_tags(first: str, length: int, iob: bool) -> list[str]:
    """Tags of a switched span of ``length`` tokens whose original first tag was ``first``."""
    if iob and first.startswith(_IOB_PREFIXES):
        return [first] + ["I-" + first[2:]] * (length - 1)
    return [first] * length


def switchable_spans(index: SpanIndex, tokens: Sequence[str],
                     tags: Sequence[str] | None) -> list[tuple[int, int]]:
    """Label-safe dictionary spans: at each position the longest allowed match, left to right."""
    return _safe_spans(index, index.keys_of(tokens), tags, tags is not None and is_iob(tags))


def _safe_spans(index: SpanIndex, keys: Sequence[str], tags: Sequence[str] | None,
                iob: bool) -> list[tuple[int, int]]:
    """``switchable_spans`` on already folded keys."""
    out: list[tuple[int, int]] = []
    reachable, n = index.reachable, len(keys)
    i = 0
    while i < n:
        if keys[i] not in reachable:  # the common case, without a call
            i += 1
            continue
        for end in reversed(index.ends_at(keys, i)):
            if span_allowed(tags, i, end, iob):
                out.append((i, end))
                i = end
                break
        else:
            i += 1
    return out


def _check_lengths(tokens: Sequence[str], **aligned: Sequence[str] | None) -> None:
    """Every aligned list must have one entry per token."""
    for name, values in aligned.items():
        if values is not None and len(values) != len(tokens):
            raise ValueError(f"{name} has {len(values)} entries for {len(tokens)} tokens")


def code_switch(tokens: Sequence[str], ipa: Sequence[str], romanized: Sequence[str],
                tags: Sequence[str] | None, lang: str, dictionary: PivotDictionary, ratio: float,
                rng: random.Random | None, *, target_lang: str | None = None,
                sampling: str = "support", fold_script: bool = True) -> SwitchedSentence:
    """Replace a random ``ratio`` of the label-safe dictionary spans by translations.

    Args:
        tokens, ipa, romanized: the sentence and its per-token transcriptions.
        tags: per-token labels (IOB or plain), or None for unlabelled text.
        lang: the sentence's language; must be one side of ``dictionary``.
        dictionary: the pivot dictionary (either direction works).
        ratio: probability in [0, 1] that each label-safe span is switched.
        rng: source of randomness; may be None only for ``ratio`` 0 or 1 with ``sampling="top"``.
        target_lang: if given, must be the dictionary's other language (a guard against mix-ups).
        sampling: ``support`` (weighted by pivot support), ``uniform``, or ``top`` (best only).
        fold_script: match through script folding (Traditional/Simplified Chinese).

    Returns:
        The switched sentence with tags, languages and alignment to the input.
    """
    if not 0.0 <= ratio <= 1.0:
        raise ValueError(f"ratio must be in [0, 1], got {ratio}")
    check_choice("sampling", sampling, SAMPLINGS)
    _check_lengths(tokens, ipa=ipa, romanized=romanized, tags=tags)
    other = dictionary.other(lang)
    if target_lang is not None and target_lang != other:
        raise ValueError(f"target_lang {target_lang!r} is not the other side of the "
                         f"{dictionary.source_lang}-{dictionary.target_lang} dictionary for {lang!r}")
    index = dictionary.index(lang, fold_script=fold_script)
    keys = index.keys_of(tokens) if ratio > 0 else []
    iob = tags is not None and is_iob(tags)
    spans = _safe_spans(index, keys, tags, iob)
    chosen = [s for s in spans if ratio >= 1.0 or _draw(rng) < ratio]
    picks = [index.candidates[index.key(keys, i, j)].pick(sampling, rng) for i, j in chosen]
    return _assemble(tokens, ipa, romanized, tags, iob, lang, other, list(zip(chosen, picks)))


def _draw(rng: random.Random | None) -> float:
    """A uniform draw; an rng is required once a ratio strictly between 0 and 1 is used."""
    if rng is None:
        raise ValueError("a ratio strictly between 0 and 1 needs an rng")
    return rng.random()


def _assemble(tokens: Sequence[str], ipa: Sequence[str], romanized: Sequence[str],
              tags: Sequence[str] | None, iob: bool, lang: str, other: str,
              switches: list[tuple[tuple[int, int], Side]]) -> SwitchedSentence:
    """Splice each chosen span's translation into the sentence; carry labels and alignment."""
    out_tok, out_ipa, out_rom, out_lang, out_origin = [], [], [], [], []
    out_tags: list[str] | None = [] if tags is not None else None
    out_spans = []
    pos = 0
    end_of_sentence = ((len(tokens), len(tokens)), None)
    for (start, end), repl in [*switches, end_of_sentence]:
        # Kept tokens before this span.
        out_tok += tokens[pos:start]
        out_ipa += ipa[pos:start]
        out_rom += romanized[pos:start]
        out_lang += [lang] * (start - pos)
        out_origin += range(pos, start)
        if out_tags is not None:
            out_tags += tags[pos:start]  # type: ignore[index]
        if repl is None:
            break
        new_start, n = len(out_tok), len(repl.tokens)
        out_tok += repl.tokens
        out_ipa += repl.ipa
        out_rom += repl.romanized
        out_lang += [other] * n
        out_origin += [start] * n
        if out_tags is not None:
            out_tags += span_tags(tags[start], n, iob)  # type: ignore[index]
        out_spans.append((start, end, new_start, new_start + n))
        pos = end
    return SwitchedSentence(tuple(out_tok), tuple(out_ipa), tuple(out_rom), tuple(out_lang),
                            tuple(out_tags) if out_tags is not None else None, tuple(out_origin),
                            tuple(out_spans))


def translate(tokens: Sequence[str], ipa: Sequence[str], romanized: Sequence[str],
              tags: Sequence[str] | None, lang: str, dictionary: PivotDictionary, *,
              target_lang: str | None = None, sampling: str = "top", rng: random.Random | None = None,
              fold_script: bool = True) -> SwitchedSentence:
    """Word-by-word dictionary translation ("dict-MT"): ``code_switch`` with ratio 1.0.

    Every label-safe span is replaced, by its highest-support translation unless ``sampling`` says
    otherwise; tokens without a dictionary match stay as they are. Labels follow as in ``code_switch``.
    """
    return code_switch(tokens, ipa, romanized, tags, lang, dictionary, 1.0, rng,
                       target_lang=target_lang, sampling=sampling, fold_script=fold_script)
