"""Atomic file writes: write to a temporary file beside the target, then rename.

A crash or an error mid-write never leaves a half-written output behind, and readers never see one.
What is at the target path is treated deliberately, never blindly replaced:

* a **regular file** is replaced atomically and keeps its permission bits (a mode-600 file stays 600)
  and, where the process may set them, its owner and group;
* a **symlink** is followed: the file it points to is written (atomically) and the link stays a link;
* a **character device or FIFO** (``/dev/null``, a named pipe) is a stream, not a file: it is written
  through in place (not atomic: a stream cannot be swapped) and stays what it is;
* anything else (a folder, a block device, a socket) is refused with a one-line ``ValueError``.

A process killed mid-write (``kill -9``) cannot remove its temporary file, so temporary files are
made findable and provably orphaned: each is named ``.<target>.cjkv-XXXXXXXX.tmp`` and its writer
holds an exclusive ``flock`` on it while it writes. The kernel drops the lock when the writer dies,
however it dies, so the next write of the same target removes every such file whose lock it can take
(files of a live writer are locked and kept).
"""

from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

log = logging.getLogger(__name__)
TMP_MARK = ".cjkv-"


def _kind(mode: int) -> str:
    """A file type in words, for error messages."""
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISFIFO, "a FIFO")):
        if test(mode):
            return name
    return "not a regular file"


def resolve_target(target: str | Path) -> tuple[Path, os.stat_result | None]:
    """The path to write for ``target`` (a symlink's destination, followed on purpose) and its
    current ``stat`` (None when nothing is there yet)."""
    path = Path(target)
    if path.is_symlink():
        path = Path(os.path.realpath(path))
    try:
        return path, os.stat(path)
    except FileNotFoundError:
        return path, None


def is_stream(st: os.stat_result | None) -> bool:
    """Whether an existing target is a stream written in place (character device, FIFO)."""
    return st is not None and (stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode))


def check_target(target: str | Path) -> None:
    """Raise ``ValueError`` if ``target`` is something an output must not replace (a folder, a block
    device, a socket); callers use it to fail before doing any work."""
    path, st = resolve_target(target)
    if st is not None and not stat.S_ISREG(st.st_mode) and not is_stream(st):
        raise ValueError(f"{target}: {_kind(st.st_mode)}, not a file; refusing to write over it")


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as err:
        if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            return False
        raise
    return True


def remove_orphans(target: Path) -> list[Path]:
    """Remove the temporary files of writes of ``target`` whose writer died (their lock is free)."""
    removed = []
    for tmp in target.parent.glob(f".{target.name}{TMP_MARK}*.tmp"):
        try:
            fd = os.open(tmp, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            if stat.S_ISREG(os.fstat(fd).st_mode) and _try_lock(fd):
                tmp.unlink(missing_ok=True)
                removed.append(tmp)
                log.info("removed %s, left by a write that was killed", tmp)
        finally:
            os.close(fd)
    return removed


def _copy_identity(tmp: Path, st: os.stat_result | None) -> None:
    """Give the new file the old one's mode (and owner where allowed), else the umask's mode."""
    if st is None:
        # mkstemp creates 0600 files; outputs are meant to be shared, so give them the umask mode.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        return
    os.chmod(tmp, stat.S_IMODE(st.st_mode))
    if (st.st_uid, st.st_gid) != (os.getuid(), os.getgid()):
        try:
            os.chown(tmp, st.st_uid, st.st_gid)
        except PermissionError:
            pass  # only root may give a file away; the content is still written


@contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a path to write; on success it becomes ``target`` (see the module docstring).

    For a regular (or new) target the path is a locked temporary file beside it, renamed onto it
    on success and removed if the body raises. For a character device or FIFO it is the target
    itself (written through).

    Raises:
        ValueError: the target is a folder, a block device or a socket.
    """
    check_target(target)
    path, st = resolve_target(target)
    if is_stream(st):
        yield path
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_orphans(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}{TMP_MARK}", suffix=".tmp", dir=path.parent)
    tmp_path = Path(tmp)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # held until the end: marks the file as a live write
        _copy_identity(tmp_path, st)
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)
        os.close(fd)


def write_text(target: str | Path, text: str) -> Path:
    """Atomically write ``text`` (UTF-8, ``\\n`` line ends) to ``target``."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="\n")
    return Path(target)


def write_bytes(target: str | Path, data: bytes) -> Path:
    """Atomically write ``data`` to ``target``."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def write_json(target: str | Path, obj: Any) -> Path:
    """Atomically write ``obj`` as pretty, key-sorted JSON (stable bytes for stable input)."""
    return write_text(target, json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
