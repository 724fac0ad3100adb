"""Hugging Face hub source: ``google/xtreme`` PAN-X and UDPOS through the ``datasets`` library.

For users who are online and have no XTREME ``download/`` folder (``cjkv build-data --source hf``).
Everything that touches the network is in :func:`read_hub_split`; the conversion of one hub record to a
:class:`Sentence` is the pure function :func:`record_to_sentence`, so it can be tested offline.

A hub record of config ``PAN-X.zh`` looks like (``ner_tags`` are ClassLabel indices)::

    {"tokens": ["杭", "州", "市"], "ner_tags": [5, 6, 6], "langs": ["zh", "zh", "zh"]}

and one of ``udpos.Chinese`` like ``{"tokens": [...], "pos_tags": [7, 12, ...]}``. The hub names the
splits ``train``/``validation``/``test``; ours are ``train``/``dev``/``test``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from cjkv_phon.data.sentences import Sentence
from cjkv_phon.data.normalize import normalize_token
from cjkv_phon.data.xtreme import ReadResult, Skipped, token_problem
from cjkv_phon.errors import InputError
from cjkv_phon.schema import LABELS

log = logging.getLogger(__name__)

HUB_DATASET = "google/xtreme"
# UDPOS configs are named by the language's English name, PAN-X ones by its code.
_UDPOS_NAMES = {"zh": "Chinese", "ja": "Japanese", "ko": "Korean", "vi": "Vietnamese"}
_TAG_COLUMNS = {"panx": "ner_tags", "udpos": "pos_tags"}
_HUB_SPLITS = {"train": "train", "dev": "validation", "test": "test"}


def hub_config(task: str, lang: str) -> str:
    """The ``google/xtreme`` config name, e.g. ``PAN-X.zh`` or ``udpos.Chinese``."""
    return f"PAN-X.{lang}" if task == "panx" else f"udpos.{_UDPOS_NAMES[lang]}"


def hub_split(split: str) -> str:
    """Our split name on the hub (``dev`` is ``validation`` there)."""
    return _HUB_SPLITS[split]


def record_to_sentence(record: Mapping[str, Any], *, task: str, lang: str, split: str, index: int,
                       label_names: Sequence[str] | None = None) -> Sentence:
    """Convert one ``google/xtreme`` record to a :class:`Sentence`.

    Args:
        record: a row with ``tokens`` and the task's tag column (``ner_tags`` or ``pos_tags``),
            whose entries are ClassLabel indices (mapped through ``label_names``) or tag strings.
        task, lang, split, index: give the sentence its id ``<task>.<lang>.<split>.<index>``.
        label_names: the ClassLabel names of the tag column (``features[col].feature.names``).

    Raises:
        InputError: missing columns, lengths that differ, bad tokens or tags outside the task's set.
    """
    where = f"{HUB_DATASET}:{hub_config(task, lang)}:{hub_split(split)}"
    column = _TAG_COLUMNS[task]
    if "tokens" not in record or column not in record:
        raise InputError(f"record lacks 'tokens' or {column!r}", path=where, line=index,
                         value=sorted(record))
    tokens = [normalize_token(str(t)) for t in record["tokens"]]
    raw_tags = list(record[column])
    if len(raw_tags) != len(tokens):
        raise InputError(f"{len(tokens)} tokens but {len(raw_tags)} tags", path=where, line=index,
                         value=tokens)
    for token in tokens:
        problem = token_problem(token)
        if problem:
            raise InputError(problem, path=where, line=index, value=token)
    tags = [_tag_name(t, label_names, where, index) for t in raw_tags]
    bad = sorted(set(tags) - set(LABELS[task]))
    if bad:
        raise InputError(f"tags outside the {task} label set", path=where, line=index, value=bad)
    return Sentence(id=f"{task}.{lang}.{split}.{index}", lang=lang, task=task, split=split,
                    tokens=tuple(tokens), tags=tuple(tags), source=f"{where}:{index}")


def _tag_name(tag: Any, label_names: Sequence[str] | None, where: str, index: int) -> str:
    if isinstance(tag, str):
        return tag
    if label_names is None or not 0 <= int(tag) < len(label_names):
        raise InputError("tag index without matching ClassLabel names", path=where, line=index,
                         value=tag)
    return label_names[int(tag)]


@dataclass(frozen=True)
class HubSource:
    """``google/xtreme`` on the Hugging Face hub as a build source (needs network on first use).

    Attributes:
        revision: a hub commit or tag to pin (recorded in the build state); None is the latest.
    """

    revision: str | None = None
    kind: str = "hf"

    def files(self, task: str, lang: str, split: str) -> list[Path]:
        """No local files: the hub dataset is identified by name, config, split and revision."""
        return []

    def fingerprint(self, task: str, lang: str, split: str) -> dict[str, str]:
        """Input identity for the build state: the hub name, config, split and revision.

        No sha256 without downloading; with ``revision=None`` an upstream change goes unnoticed, so
        pin a revision for reproducible builds.
        """
        return {"hf": f"{HUB_DATASET}@{self.revision or 'latest'}:{hub_config(task, lang)}:"
                      f"{hub_split(split)}"}

    def read(self, task: str, lang: str, split: str, *, skip_malformed: bool = False,
             max_sentences: int | None = None) -> ReadResult:
        """Download (or reuse the ``datasets`` cache) and convert one split."""
        return read_hub_split(task, lang, split, revision=self.revision,
                              skip_malformed=skip_malformed, max_sentences=max_sentences)


def read_hub_split(task: str, lang: str, split: str, *, revision: str | None = None,
                   skip_malformed: bool = False, max_sentences: int | None = None) -> ReadResult:
    """Load one split of ``google/xtreme`` with ``datasets`` and convert its records.

    ``datasets`` is imported here, not at module import, so offline users never pay for it.
    """
    import datasets  # noqa: PLC0415  (heavy, and only needed online)

    hub_name = hub_split(split)
    slicing = f"{hub_name}[:{max_sentences}]" if max_sentences is not None else hub_name
    log.info("loading %s %s split %s from the hub", HUB_DATASET, hub_config(task, lang), slicing)
    ds = datasets.load_dataset(HUB_DATASET, hub_config(task, lang), split=slicing,
                               revision=revision)
    feature = ds.features[_TAG_COLUMNS[task]]
    names = getattr(getattr(feature, "feature", None), "names", None)
    sentences, skipped, changed = [], [], 0
    for index, record in enumerate(ds):
        changed += sum(str(t) != normalize_token(str(t)) for t in record.get("tokens", ()))
        try:
            sentences.append(record_to_sentence(record, task=task, lang=lang, split=split,
                                                index=index, label_names=names))
        except InputError as err:
            if not skip_malformed:
                raise
            skipped.append(Skipped(err.path or HUB_DATASET, index, str(err), repr(err.value)))
    return ReadResult(tuple(sentences), tuple(skipped), changed)
