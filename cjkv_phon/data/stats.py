"""Statistics of a built release: sizes, statuses, IPA inventories and the paper pairs' overlap.

The overlap numbers make the method's premise measurable: zh-vi and ja-ko share almost no script, but
(through Sino-Xenic vocabulary) much of their sound. For each task and pair we compare
* **phonemic overlap**: Jaccard of the sets of IPA segment unigrams, bigrams and trigrams (tones stripped
  with ``strip_tones``, n-grams taken inside each token), against
* **orthographic overlap**: Jaccard of the sets of (letter) characters and of token types.
Only transcribed tokens (status ``ok`` or ``fallback``) count on either side: punctuation, digits and
Latin copied through (``passthrough``) would otherwise inflate both kinds of overlap equally. For the
same reason a segment counts as a phone only if it starts with a letter and is IPA through and through
(:func:`~cjkv_phon.data.phonemize.ipa_symbols.is_ipa`): digits, punctuation and Latin capitals copied inside a
mixed token (Korean ``1.2배``, ``K리그``) are not phones, and their long tail would swamp set Jaccard.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from cjkv_phon.data.phonemize import ipa_segments, strip_tones
from cjkv_phon.data.phonemize.ipa_symbols import is_ipa
from cjkv_phon.schema import LANGS, PAPER_PAIRS, SPLITS, STATUSES, TASKS

log = logging.getLogger(__name__)

TRANSCRIBED = frozenset({"ok", "fallback"})
NGRAM_ORDERS = (1, 2, 3)


@dataclass
class LangStats:
    """Running totals for one (task, lang) over its splits."""

    splits: dict[str, dict[str, int]] = field(default_factory=dict)
    token_types: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    inventory: Counter[str] = field(default_factory=Counter)
    ngrams: dict[int, set[tuple[str, ...]]] = field(
        default_factory=lambda: {n: set() for n in NGRAM_ORDERS})
    chars: set[str] = field(default_factory=set)
    transcribed_types: set[str] = field(default_factory=set)


def ngrams(segments: list[str], n: int) -> set[tuple[str, ...]]:
    """The set of contiguous ``n``-grams of ``segments``: ``ngrams(['a','b','c'], 2) == {('a','b'), ('b','c')}``."""
    return {tuple(segments[i:i + n]) for i in range(len(segments) - n + 1)}


def jaccard(a: set[Any], b: set[Any]) -> float:
    """|a ∩ b| / |a ∪ b|, and 0.0 for two empty sets."""
    union = a | b
    return len(a & b) / len(union) if union else 0.0


class _Segmenter:
    """Caches phone segmentation per distinct IPA string (the same syllables recur constantly)."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.cache: dict[str, list[str]] = {}

    def phones(self, ipa: str) -> list[str]:
        """The phone segments of one token's IPA: tones stripped, letter-initial segments only."""
        if ipa not in self.cache:
            self.cache[ipa] = [seg for seg in ipa_segments(strip_tones(ipa, self.lang))
                               if seg[0].isalpha() and is_ipa(seg, self.lang)]
        return self.cache[ipa]


def _add_file(stats: LangStats, path: Path, seg: _Segmenter) -> None:
    table = pq.read_table(path, columns=["tokens", "ipa", "status"]).to_pydict()
    n_tokens = 0
    for tokens, ipas, statuses in zip(table["tokens"], table["ipa"], table["status"]):
        n_tokens += len(tokens)
        stats.token_types.update(tokens)
        stats.statuses.update(statuses)
        for token, ipa, status in zip(tokens, ipas, statuses):
            if status not in TRANSCRIBED:
                continue
            phones = seg.phones(ipa)
            stats.inventory.update(phones)
            for n in NGRAM_ORDERS:
                stats.ngrams[n] |= ngrams(phones, n)
            stats.chars.update(ch for ch in token if ch.isalpha())  # letters, as for phones
            stats.transcribed_types.add(token)
    stats.splits[path.stem] = {"sentences": len(table["tokens"]), "tokens": n_tokens}


def _summary(stats: LangStats) -> dict[str, Any]:
    return {
        "splits": stats.splits,
        "sentences": sum(s["sentences"] for s in stats.splits.values()),
        "tokens": sum(s["tokens"] for s in stats.splits.values()),
        "distinct_tokens": len(stats.token_types),
        "status_counts": {s: stats.statuses.get(s, 0) for s in STATUSES},
        "ipa_inventory": dict(sorted(stats.inventory.items(), key=lambda kv: (-kv[1], kv[0]))),
    }


def _overlap(a: LangStats, b: LangStats) -> dict[str, float]:
    out = {f"ipa_{n}gram_jaccard": round(jaccard(a.ngrams[n], b.ngrams[n]), 6) for n in NGRAM_ORDERS}
    out["orth_char_jaccard"] = round(jaccard(a.chars, b.chars), 6)
    out["orth_token_jaccard"] = round(jaccard(a.transcribed_types, b.transcribed_types), 6)
    return out


def compute_stats(data_dir: str | Path) -> dict[str, Any]:
    """Statistics of every built file under ``data_dir`` (a release's ``data/`` folder).

    Returns:
        ``{"data_dir", "tasks": {task: {lang: {splits, sentences, tokens, distinct_tokens,
        status_counts, ipa_inventory (phone -> count, tones stripped)}}}, "overlap": {task: {"zh-vi": {ipa_1gram_jaccard, ...,
        orth_char_jaccard, orth_token_jaccard}}}}``; pairs appear where both languages are built.

    Raises:
        FileNotFoundError: ``data_dir`` holds no built file.
    """
    data_dir = Path(data_dir)
    per: dict[tuple[str, str], LangStats] = {}
    for task in TASKS:
        for lang in LANGS:
            seg = _Segmenter(lang)
            for split in SPLITS:
                path = data_dir / task / lang / f"{split}.parquet"
                if path.is_file():
                    _add_file(per.setdefault((task, lang), LangStats()), path, seg)
    if not per:
        raise FileNotFoundError(f"no built files under {data_dir} (expected "
                                f"<task>/<lang>/<split>.parquet; run cjkv build-data)")
    tasks: dict[str, dict[str, Any]] = {}
    for (task, lang), stats in per.items():
        tasks.setdefault(task, {})[lang] = _summary(stats)
    overlap = {task: {f"{a}-{b}": _overlap(per[(task, a)], per[(task, b)])
                      for a, b in PAPER_PAIRS if (task, a) in per and (task, b) in per}
               for task in tasks}
    return {"data_dir": str(data_dir), "tasks": tasks, "overlap": overlap}
