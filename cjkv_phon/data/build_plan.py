"""What a ``cjkv build-data`` run is asked to do: its settings, its source, the files it plans, its reports.

The build's vocabulary, shared by the writer (:mod:`cjkv_phon.data.build`), the up-to-date check
(:mod:`cjkv_phon.data.build_state`) and the CLI that renders the reports. Every requested source file
is located here (:func:`plan_jobs`), before any work starts, so a missing file fails the run at once.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from cjkv_phon.data.conllu import ConlluSource
from cjkv_phon.data.hub import HubSource
from cjkv_phon.data.xtreme import ReadResult, Skipped, XtremeSource
from cjkv_phon.errors import check_choice
from cjkv_phon.schema import LANGS, SCHEMES, SPLITS, TASKS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuildDataConfig:
    """Settings of one ``cjkv build-data`` run (recipe: ``pipelines/build-data.yaml``).

    Attributes:
        source: an XTREME ``download/`` folder (has ``panx/`` or ``udpos/``), a folder of UD CoNLL-U
            files (UDPOS only), or ``hf`` for ``google/xtreme`` on the Hugging Face hub.
        tasks, langs, splits: what to build (every combination, minus ``exclude``).
        exclude: ``<task>.<lang>.<split>`` combinations known to be absent, skipped with a log line.
        scheme: transcription scheme, ``native`` or ``paper`` (see the phonemizers).
        name: release name, used in the dataset card.
        out: release folder; None means ``releases/<name>``.
        workers: processes phonemizing files in parallel (output is identical for any value).
        max_sentences: keep only the first N sentences of each file (tests, smoke runs).
        skip_malformed: drop and report sentences with malformed lines instead of stopping.
        allow_empty: accept a source file with no sentence (a 0-row parquet); off, it is an error.
        cache: let phonemizers cache per-unit conversions (off only for the benchmark's baseline).
        hub_revision: pin ``google/xtreme`` to a hub commit when ``source`` is ``hf``.
    """

    source: str = "../shared/data/xtreme"
    tasks: tuple[str, ...] = TASKS
    langs: tuple[str, ...] = LANGS
    splits: tuple[str, ...] = SPLITS
    exclude: tuple[str, ...] = ("udpos.ko.train",)
    scheme: str = "native"
    name: str = "xtreme-cjkv-phonemic"
    out: str | None = None
    workers: int = 1
    max_sentences: int | None = None
    skip_malformed: bool = False
    allow_empty: bool = False
    cache: bool = True
    hub_revision: str | None = None

    def __post_init__(self) -> None:
        for kind, values, valid in (("task", self.tasks, TASKS), ("language", self.langs, LANGS),
                                    ("split", self.splits, SPLITS)):
            if not values:
                raise ValueError(f"no {kind} to build; valid: {', '.join(valid)}")
            for value in values:
                check_choice(kind, value, valid)
        for item in self.exclude:
            parts = item.split(".")
            if len(parts) != 3:
                raise ValueError(f"exclude entry {item!r} is not <task>.<lang>.<split>")
            for kind, value, valid in zip(("task", "language", "split"), parts, (TASKS, LANGS, SPLITS)):
                check_choice(f"{kind} in exclude entry {item!r}:", value, valid)
        check_choice("scheme", self.scheme, SCHEMES)
        if not self.source:
            raise ValueError("source is empty; give an XTREME folder, a CoNLL-U folder or 'hf'")
        if not self.name or "/" in self.name:
            raise ValueError(f"release name must be a non-empty folder name, got {self.name!r}")
        if self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers}")
        if self.max_sentences is not None and self.max_sentences < 1:
            raise ValueError(f"max_sentences must be >= 1 or None, got {self.max_sentences}")

    @property
    def release_dir(self) -> Path:
        """The release folder (``out``, or ``releases/<name>``)."""
        return Path(self.out) if self.out else Path("releases") / self.name

    def content_settings(self) -> dict[str, Any]:
        """The settings that change file contents (not ``out``, ``workers``, ``cache``, ``name``)."""
        return {"scheme": self.scheme, "max_sentences": self.max_sentences,
                "skip_malformed": self.skip_malformed}


class Source(Protocol):
    """What the build needs of a source (``XtremeSource``, ``ConlluSource``, ``HubSource``)."""

    kind: str

    def files(self, task: str, lang: str, split: str) -> list[Path]: ...

    def fingerprint(self, task: str, lang: str, split: str) -> dict[str, str]: ...

    def read(self, task: str, lang: str, split: str, *, skip_malformed: bool = False,
             max_sentences: int | None = None) -> ReadResult: ...


def resolve_source(source: str, hub_revision: str | None = None) -> Source:
    """Turn ``--source`` into a source: ``hf``, an XTREME folder, or a CoNLL-U folder.

    Raises:
        FileNotFoundError: the path does not exist, or is neither kind of folder.
    """
    if source == "hf":
        return HubSource(revision=hub_revision)
    root = Path(source)
    if not root.is_dir():
        raise FileNotFoundError(f"source folder not found: {root} (give an XTREME download/ folder, "
                                "a folder of UD .conllu files, or 'hf')")
    if (root / "panx").is_dir() or (root / "udpos").is_dir():
        return XtremeSource(str(root))
    if any(root.glob("*.conllu")):
        return ConlluSource(str(root))
    raise FileNotFoundError(f"{root} is neither an XTREME download/ folder (panx/ or udpos/ inside) "
                            "nor a folder of UD .conllu files")


@dataclass(frozen=True)
class Job:
    """One output file: a (task, lang, split) of the release."""

    task: str
    lang: str
    split: str

    @property
    def key(self) -> str:
        """``<task>.<lang>.<split>``, the form ``exclude`` entries use."""
        return f"{self.task}.{self.lang}.{self.split}"

    @property
    def relpath(self) -> str:
        """The file's path inside the release folder."""
        return f"data/{self.task}/{self.lang}/{self.split}.parquet"


@dataclass(frozen=True)
class FileReport:
    """What happened to one output file.

    Attributes:
        up_to_date: True when the file was already built with the same state and was left alone.
        seconds: wall time spent reading, phonemizing and writing it (0 when up to date).
        normalised: tokens the reader's NFC normalisation changed (``cjkv_phon.data.normalize``).
    """

    task: str
    lang: str
    split: str
    path: str
    sentences: int
    tokens: int
    status_counts: dict[str, int]
    skipped: tuple[Skipped, ...] = ()
    seconds: float = 0.0
    up_to_date: bool = False
    normalised: int = 0


@dataclass(frozen=True)
class BuildReport:
    """The result of :func:`build_data`: one :class:`FileReport` per file, in plan order."""

    release_dir: str
    files: tuple[FileReport, ...]
    excluded: tuple[str, ...] = ()
    seconds: float = 0.0
    release_written: bool = False

    @property
    def built(self) -> tuple[FileReport, ...]:
        """The files this run (re)built."""
        return tuple(f for f in self.files if not f.up_to_date)

    @property
    def skipped(self) -> tuple[Skipped, ...]:
        """Every malformed sentence skipped, over all files."""
        return tuple(s for f in self.files for s in f.skipped)

    def totals(self) -> dict[str, int]:
        """Summed sentences, tokens and status counts over all files."""
        out: Counter[str] = Counter()
        for f in self.files:
            out.update({"files": 1, "sentences": f.sentences, "tokens": f.tokens, **f.status_counts})
        return dict(out)


def plan_jobs(cfg: BuildDataConfig, source: Source) -> tuple[list[Job], list[str]]:
    """The files to build, and the excluded combinations (logged).

    Every job's source is located here, before any work, so a missing file fails the run at once.
    """
    jobs, excluded = [], []
    for task in cfg.tasks:
        for lang in cfg.langs:
            for split in cfg.splits:
                job = Job(task, lang, split)
                if job.key in cfg.exclude:
                    log.info("skipping %s %s %s: excluded by the recipe (known absent from the "
                             "source)", task, lang, split)
                    excluded.append(job.key)
                    continue
                for path in source.files(task, lang, split):
                    if not path.is_file():
                        raise FileNotFoundError(f"{task} {lang} {split}: source file not found, "
                                                f"expected {path}")
                jobs.append(job)
    return jobs, excluded
