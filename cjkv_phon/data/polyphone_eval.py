"""Mandarin polyphones read in context, scored on CPP (Chinese Polyphones with Pinyin).

What is measured. CPP (``../shared/data/cpp``, SOURCES.md) marks one polyphonic character per
sentence with U+2581 on both sides; the same line of ``dev.lb`` is its reading::

    dev.sent: 斯考尔将她救出，并搭乘遗弃的星际飞船回到▁了▁星球。
    dev.lb:   le5

A system reads the whole (unmarked) sentence and is right when its reading of the marked character
equals the label (CC-CEDICT's ``u:`` written ``ü`` on both sides). Accuracy is reported on all
sentences and on two halves: ``tune`` (0-based even line index: lines 1, 3, 5, ...) is the half any
choice of ours was made on, ``held`` (lines 2, 4, ...) the half no choice looked at. Per-character
confusions count ``char gold>predicted`` over the wrong sentences.

Systems (:data:`SYSTEMS`): ``native`` (the zh phonemizer's readings: phrases + g2pM's model),
``phrases`` (the same without the model, the reading before it), ``pypinyin`` (plain
``pypinyin.pinyin`` over the sentence) and ``g2pM`` (the g2pM package itself, one sentence at a time,
as published).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from cjkv_phon.errors import InputError

MARK = "\u2581"
TOP_CONFUSIONS = 25


@dataclass(frozen=True)
class PolyphoneItem:
    """One CPP sentence (marks removed), the marked character's position, and its reading."""

    sentence: str
    position: int
    label: str


def read_cpp(folder: str | Path, split: str = "dev") -> list[PolyphoneItem]:
    """The items of ``<folder>/<split>.sent`` and ``.lb``.

    Raises:
        FileNotFoundError: a file is missing.
        InputError: a sentence without exactly one marked character, an empty label, or files of
            different lengths (file and line named).
    """
    from cjkv_phon.data.phonemize.polyphone_model import as_pinyin

    sent_path, label_path = Path(folder) / f"{split}.sent", Path(folder) / f"{split}.lb"
    for path in (sent_path, label_path):
        if not path.is_file():
            raise FileNotFoundError(f"CPP file not found: {path} (see ../shared/data/SOURCES.md)")
    sentences = sent_path.read_text(encoding="utf-8").splitlines()
    labels = label_path.read_text(encoding="utf-8").splitlines()
    if len(sentences) != len(labels):
        raise InputError(f"{len(sentences)} sentences but {len(labels)} labels", label_path)
    items = []
    for line_no, (marked, label) in enumerate(zip(sentences, labels), start=1):
        parts = marked.split(MARK)
        if len(parts) != 3 or len(parts[1]) != 1:
            raise InputError(f"expected one character between two {MARK}", sent_path, line_no, marked)
        if not label.strip():
            raise InputError("empty label", label_path, line_no, label)
        items.append(PolyphoneItem("".join(parts), len(parts[0]), as_pinyin(label.strip())))
    return items


# A system: sentences -> numbered pinyin per character of each.
Reader = Callable[[Sequence[str]], list[list[str]]]


def _native(context_model: bool) -> Reader:
    from cjkv_phon.data.phonemize.zh import NativeZh

    zh = NativeZh(context_model=context_model)
    return lambda texts: [r for k in range(0, len(texts), 256)
                          for r in zh.readings_many(texts[k:k + 256])]


def _pypinyin() -> Reader:
    from pypinyin import Style, pinyin

    def read(texts: Sequence[str]) -> list[list[str]]:
        # errors: one empty reading per character, so readings stay aligned with characters
        return [[syl[0] for syl in pinyin(t, style=Style.TONE3, neutral_tone_with_five=True,
                                          v_to_u=True, errors=lambda cs: [[""] for _ in cs])]
                for t in texts]
    return read


def _g2pm() -> Reader:
    # The package as published (it unpickles its own shipped files: a pinned dependency's data).
    from g2pM import G2pM

    from cjkv_phon.data.phonemize.polyphone_model import as_pinyin

    model = G2pM()
    return lambda texts: [[as_pinyin(r) for r in model(t, char_split=True)] for t in texts]


SYSTEMS: dict[str, Callable[[], Reader]] = {
    "native": lambda: _native(True), "phrases": lambda: _native(False),
    "pypinyin": _pypinyin, "g2pM": _g2pm,
}


def score(items: Sequence[PolyphoneItem], predicted: Sequence[str]) -> dict[str, Any]:
    """Accuracy on all items and on both halves, and the top per-character confusions."""
    def accuracy(idx: range) -> float:
        return round(sum(predicted[i] == items[i].label for i in idx) / max(len(idx), 1), 5)

    n = len(items)
    confusions = Counter(f"{it.sentence[it.position]} {it.label}>{p or '-'}"
                         for it, p in zip(items, predicted) if p != it.label)
    return {"sentences": n, "accuracy": accuracy(range(n)), "accuracy_tune": accuracy(range(0, n, 2)),
            "accuracy_held": accuracy(range(1, n, 2)), "errors": sum(confusions.values()),
            "top_confusions": dict(confusions.most_common(TOP_CONFUSIONS))}


def evaluate_polyphones(items: Sequence[PolyphoneItem], systems: Sequence[str]
                        ) -> dict[str, dict[str, Any]]:
    """Each system's :func:`score` and its reading speed (sentences/s, set-up excluded)."""
    texts = [it.sentence for it in items]
    out = {}
    for name in systems:
        if name not in SYSTEMS:
            raise ValueError(f"unknown system {name!r}; valid: {', '.join(SYSTEMS)}")
        read = SYSTEMS[name]()
        read(texts[:8])  # lazy tables and the model load before the clock starts
        start = time.perf_counter()
        readings = read(texts)
        seconds = time.perf_counter() - start
        predicted = [r[it.position] if len(r) == len(it.sentence) else ""
                     for r, it in zip(readings, items)]
        out[name] = {**score(items, predicted), "seconds": round(seconds, 2),
                     "sentences_per_s": round(len(items) / seconds, 1)}
    return out


def markdown_table(results: dict[str, dict[str, Any]]) -> str:
    """A README table: accuracy (all, tune half, held half) and speed per system."""
    lines = ["| system | CPP dev accuracy | tune half | held half | sentences/s |",
             "|---|---|---|---|---|"]
    for name, r in results.items():
        lines.append(f"| {name} | {100 * r['accuracy']:.2f}% | {100 * r['accuracy_tune']:.2f}% | "
                     f"{100 * r['accuracy_held']:.2f}% | {r['sentences_per_s']:.0f} |")
    return "\n".join(lines)
