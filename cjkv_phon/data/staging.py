"""Staging folders of a build: created locked, found again after a crash, removed only when safe.

A build writes its files into ``<release>/.staging-XXXX/`` and renames them into place at the end. A
build that is killed (``kill -9``, power loss) leaves that folder behind. To clean it up safely:

* **only ours**: a staging folder holds ``OWNER`` (a small JSON file naming the tool, pid and host);
  a ``.staging-*`` folder without it was not made by this code and is left alone;
* **only when no live build holds it**: the building process holds an exclusive ``flock`` on the
  folder's ``LOCK`` file for as long as it runs. The kernel drops the lock when the process dies, however
  it dies, so a folder whose lock can be taken has no live owner and can go.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import socket
import tempfile
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

PREFIX = ".staging-"
OWNER = "OWNER"
LOCK = "LOCK"
TOOL = "cjkv_phon build-data"


@dataclass(frozen=True)
class StaleStaging:
    """A staging folder found in a release folder.

    Attributes:
        path: the folder.
        ours: it carries this tool's ``OWNER`` file.
        live: a running build holds its lock (never true for a folder that is not ours).
        owner: the ``OWNER`` record (pid, host), empty when absent or unreadable.
    """

    path: Path
    ours: bool
    live: bool
    owner: dict

    def describe(self) -> str:
        """One line for logs and ``verify-data``."""
        if not self.ours:
            return f"{self.path.name}: staging-like folder not made by cjkv (no {OWNER} file); left alone"
        who = f"pid {self.owner.get('pid')} on {self.owner.get('host')}"
        if self.live:
            return f"{self.path.name}: staging folder of a running build ({who})"
        return f"{self.path.name}: stale staging folder of a build that did not finish ({who})"


class Staging:
    """A fresh, locked staging folder in ``out`` (context manager; removed on exit)."""

    def __init__(self, out: Path) -> None:
        out.mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix=PREFIX, dir=out))
        self._lock_fd = os.open(self.path / LOCK, os.O_CREAT | os.O_RDWR, 0o644)
        fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        (self.path / OWNER).write_text(json.dumps({"tool": TOOL, "pid": os.getpid(),
                                                   "host": socket.gethostname()}) + "\n",
                                       encoding="utf-8")

    def __enter__(self) -> "Staging":
        return self

    def __exit__(self, *_: object) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        os.close(self._lock_fd)


def _owner(folder: Path) -> dict:
    try:
        record = json.loads((folder / OWNER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) and record.get("tool") == TOOL else {}


def _held(folder: Path) -> bool:
    """Whether a live process holds the folder's lock (a missing lock file counts as not held)."""
    try:
        fd = os.open(folder / LOCK, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops the probe's lock, if it got one
    return False


def find_staging(out: Path) -> list[StaleStaging]:
    """Every ``.staging-*`` folder directly in ``out``, with whether it is ours and live."""
    if not out.is_dir():
        return []
    found = []
    for folder in sorted(out.glob(f"{PREFIX}*")):
        if not folder.is_dir():
            continue
        owner = _owner(folder)
        found.append(StaleStaging(folder, bool(owner), bool(owner) and _held(folder), owner))
    return found


def clean_stale_staging(out: Path) -> list[Path]:
    """Remove staging folders in ``out`` that are ours and whose build is gone; return them.

    Run at the start of a build. Another running build's folder (lock held) and folders this tool
    did not make are logged and kept.
    """
    removed = []
    for stage in find_staging(out):
        if stage.ours and not stage.live:
            shutil.rmtree(stage.path, ignore_errors=True)
            log.info("removed %s", stage.describe())
            removed.append(stage.path)
        else:
            log.warning("%s", stage.describe())
    return removed
