"""Progress of a build, inside each file (sentences) as well as over files.

On a terminal: a rich bar for the files and one bar per file being built, advancing in sentences.
Anywhere else (a pipe, a log file, CI): log lines, the first as soon as a file starts transcribing,
then at most one per file every :data:`LOG_EVERY_S` seconds, and one when it is written, so a long
build in a log still shows that it is alive and how far it is.
"""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from typing import Any, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

log = logging.getLogger("cjkv_phon.progress")

LOG_EVERY_S = 10.0


def _label(key: str) -> str:
    return key.replace(".", " ")


class LogProgress:
    """Progress as log lines (not a terminal)."""

    def __init__(self) -> None:
        self.total_files = 0
        self.files_done = 0
        self.last: dict[str, float] = {}

    def planned(self, jobs: list[Any]) -> None:
        self.total_files = len(jobs)

    def sentences(self, key: str, done: int, total: int) -> None:
        now = time.monotonic()
        if key not in self.last or now - self.last[key] >= LOG_EVERY_S or done == total:
            self.last[key] = now
            log.info("%s: %d/%d sentences transcribed", _label(key), done, total)

    def file_done(self, report: Any) -> None:
        self.files_done += 1
        what = "up to date" if report.up_to_date else f"built in {report.seconds:.1f}s"
        log.info("%s %s %s: %d sentences, %s (%d/%d files)", report.task, report.lang, report.split,
                 report.sentences, what, self.files_done, self.total_files)


class BarProgress:
    """Progress as rich bars (a terminal)."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.files: TaskID | None = None
        self.bars: dict[str, TaskID] = {}

    def planned(self, jobs: list[Any]) -> None:
        self.files = self.progress.add_task("files", total=len(jobs))

    def sentences(self, key: str, done: int, total: int) -> None:
        if key not in self.bars:
            self.bars[key] = self.progress.add_task(_label(key), total=total)
        self.progress.update(self.bars[key], completed=done)

    def file_done(self, report: Any) -> None:
        key = f"{report.task}.{report.lang}.{report.split}"
        if key in self.bars:
            self.progress.remove_task(self.bars.pop(key))
        if self.files is not None:
            self.progress.update(self.files, advance=1,
                                 description=f"files (last: {_label(key)}, {report.sentences} sentences)")


@contextmanager
def build_progress(console: Console) -> Iterator[LogProgress | BarProgress]:
    """The progress display for ``console``: bars on a terminal, log lines elsewhere."""
    if not console.is_terminal:
        yield LogProgress()
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        yield BarProgress(progress)
