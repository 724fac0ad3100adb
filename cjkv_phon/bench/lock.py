"""Run locks: several ``cjkv bench`` processes can share one grid without training a run twice.

A process claims a run by creating ``<run dir>/bench.lock`` with ``O_CREAT | O_EXCL`` (atomic on local
and NFS-v3+ filesystems), holding ``{"pid", "host", "started"}``, and removes it when the run ends,
however it ends. Another process that meets the lock skips the run (status ``busy``) and goes on with
the grid, so two terminals running the same ``cjkv bench`` split the work between them.

A lock left by a process that died (killed, machine rebooted) must not block the run forever: on the
same host a lock whose pid is no longer alive is stale and is taken over. A lock from another host
cannot be checked; the skip message names the file so that a user who knows nothing runs it can
delete it.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

log = logging.getLogger(__name__)
LOCK_NAME = "bench.lock"
GUARD_NAME = ".bench.lock.guard"
_TOKENS: dict[Path, str] = {}      # lock path -> the token of this process's claim
UNREADABLE_GRACE_S = 60.0


def _alive(pid: int) -> bool:
    """Whether a process with this pid exists on this host (signal 0 checks without sending)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:      # exists, owned by another user
        return True
    return True


def read_holder(path: Path) -> dict | None:
    """The lock file's content, or None if it vanished or is not valid JSON (a half-written lock)."""
    try:
        holder = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return holder if isinstance(holder, dict) else None


def _stale(path: Path, holder: dict | None) -> bool:
    """A lock is stale when its holder ran on this host and is gone, or when it has been unreadable for
    a minute (a lock is empty only between its creation and its first write, microseconds apart)."""
    if holder is None:
        try:
            return time.time() - path.stat().st_mtime > UNREADABLE_GRACE_S
        except FileNotFoundError:
            return True
    if holder.get("host") != socket.gethostname():
        return False
    pid = holder.get("pid")
    return not isinstance(pid, int) or not _alive(pid)


@contextmanager
def _guard(run_dir: Path) -> Iterator[None]:
    """Hold the run folder's guard ``flock``: claims and releases of its lock happen one at a time."""
    fd = os.open(run_dir / GUARD_NAME, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)               # closing drops the flock


def _claim(path: Path, me: dict) -> bool:
    """Create the lock for ``me``, first removing a stale one; the caller holds the guard."""
    for _ in range(2):               # second try after removing a stale lock
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = read_holder(path)
            if not _stale(path, holder):
                return False
            log.warning("%s: removing a stale lock of %s", path, holder)
            path.unlink(missing_ok=True)
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(me, f)
        return True
    return False


def try_lock(run_dir: Path) -> Path | None:
    """Claim ``run_dir`` for this process: the lock's path, or None when a live process holds it.

    The lock records a random ``token``; :func:`release` removes the lock only while it carries it.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / LOCK_NAME
    me = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
          "token": uuid.uuid4().hex}
    with _guard(run_dir):
        if not _claim(path, me):
            return None
    _TOKENS[path] = me["token"]
    return path


def release(path: Path) -> bool:
    """Remove the lock at ``path`` if this process's claim still holds it (never another's)."""
    token = _TOKENS.pop(path, None)
    with _guard(path.parent):
        holder = read_holder(path)
        if token is None or holder is None or holder.get("token") != token:
            log.warning("%s: the lock is no longer ours (%s); left in place", path, holder)
            return False
        path.unlink(missing_ok=True)
        return True


@contextmanager
def run_lock(run_dir: Path) -> Iterator[Path | None]:
    """``with run_lock(dir) as lock:`` — ``lock`` is None when another process holds the run."""
    path = try_lock(run_dir)
    try:
        yield path
    finally:
        if path is not None:
            release(path)
