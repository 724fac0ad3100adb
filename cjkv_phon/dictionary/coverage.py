"""How much of the datasets a pivot dictionary can see: token-level vs span matching, with and
without script folding.

PAN-X zh/ja are one character per token, so a token equals a dictionary key only for one-character
words; span matching (greedy longest match over consecutive tokens) is what code-switching uses. The
report measures both, per task, pair and language, on the training split (the dev split where a
language has no training file: UDPOS ko), so the effect of span matching and of folding Traditional
and Simplified Chinese is visible as numbers rather than assumed.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Mapping, Sequence

from cjkv_phon.data.xtreme import read_xtreme_tsv, xtreme_path
from cjkv_phon.dictionary.lexicon import PivotDictionary, SpanIndex
from cjkv_phon.schema import TASKS

log = logging.getLogger(__name__)

# Split measured when present, then the fallback (UDPOS ko has no training file).
_SPLITS = ("train", "dev")


def token_coverage(index: SpanIndex, sentences: Sequence[Sequence[str]]) -> tuple[int, int]:
    """(tokens equal to a key, all tokens)."""
    hit = total = 0
    for tokens in sentences:
        total += len(tokens)
        hit += sum(1 for k in index.keys_of(tokens) if k in index)
    return hit, total


def span_coverage(index: SpanIndex, sentences: Sequence[Sequence[str]]) -> tuple[int, int]:
    """(tokens inside a greedy longest-match dictionary span, all tokens)."""
    hit = total = 0
    for tokens in sentences:
        total += len(tokens)
        hit += sum(end - start for start, end in index.spans(tokens))
    return hit, total


def _ratio(counts: tuple[int, int]) -> float:
    hit, total = counts
    return round(hit / total, 4) if total else 0.0


def _dataset_tokens(xtreme_dir: str | Path, task: str, lang: str) -> tuple[str, list[tuple[str, ...]]]:
    """The first available split of ``task``/``lang`` (train, else dev) and its sentences' tokens."""
    for split in _SPLITS:
        path = xtreme_path(xtreme_dir, task, lang, split)
        if path.is_file():
            result = read_xtreme_tsv(path, task=task, lang=lang, split=split)
            return split, [s.tokens for s in result.sentences]
    raise FileNotFoundError(f"no {task} {'/'.join(_SPLITS)} file for {lang!r} under {xtreme_dir}")


def coverage_row(dictionary: PivotDictionary, lang: str, task: str, split: str,
                 sentences: Sequence[Sequence[str]]) -> dict[str, Any]:
    """Coverage of one language's sentences by the dictionary side in that language."""
    row: dict[str, Any] = {
        "task": task, "pair": f"{dictionary.source_lang}-{dictionary.target_lang}", "lang": lang,
        "side": "source" if lang == dictionary.source_lang else "target", "split": split,
        "sentences": len(sentences), "tokens": sum(len(s) for s in sentences),
    }
    for fold, suffix in ((False, ""), (True, "_folded")):
        index = dictionary.index(lang, fold_script=fold)
        row[f"token_match{suffix}"] = _ratio(token_coverage(index, sentences))
        row[f"span_match{suffix}"] = _ratio(span_coverage(index, sentences))
    return row


def coverage_report(dictionaries: Mapping[str, PivotDictionary], xtreme_dir: str | Path,
                    tasks: Sequence[str] = TASKS) -> list[dict[str, Any]]:
    """Coverage rows for every task, dictionary and language of the pair (source side first).

    Args:
        dictionaries: pair name (``zh-vi``) -> dictionary.
        xtreme_dir: XTREME ``download/`` folder.
        tasks: tasks to measure.

    Returns:
        One dict per (task, pair, lang) with ``token_match``/``span_match`` (no folding) and
        ``token_match_folded``/``span_match_folded``: fractions of the split's tokens covered.
    """
    rows = []
    cache: dict[tuple[str, str], tuple[str, list[tuple[str, ...]]]] = {}
    for task in tasks:
        for pair in sorted(dictionaries):
            dictionary = dictionaries[pair]
            for lang in (dictionary.source_lang, dictionary.target_lang):
                if (task, lang) not in cache:
                    cache[(task, lang)] = _dataset_tokens(xtreme_dir, task, lang)
                split, sentences = cache[(task, lang)]
                rows.append(coverage_row(dictionary, lang, task, split, sentences))
                log.info("coverage %s %s %s (%s): span %.1f%%, folded %.1f%%", task, pair, lang, split,
                         100 * rows[-1]["span_match"], 100 * rows[-1]["span_match_folded"])
    return rows
