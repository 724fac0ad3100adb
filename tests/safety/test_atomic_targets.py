"""The atomic writer never replaces what is not a regular file, follows symlinks on purpose, keeps a
file's mode, and cleans up the temporary files of a writer that was killed (issue 23, items 2 and 8).

Device nodes are made with ``mknod`` in a temporary folder (never touching /dev); a test that needs
``mknod`` is skipped where the process may not make device nodes.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from cjkv_phon.atomic import atomic_path, write_text


def _char_device(path: Path, minor: int) -> Path:
    """A character device with the major/minor of /dev/null (3) or /dev/full (7), in ``path``."""
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, minor))
    except PermissionError:
        pytest.skip("mknod needs CAP_MKNOD")
    return path


def test_null_device_is_written_through_and_stays_a_device(tmp_path: Path) -> None:
    node = _char_device(tmp_path / "null", 3)
    write_text(node, "hello\n")
    assert stat.S_ISCHR(os.stat(node).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["null"]


def test_full_device_fails_and_stays_a_device(tmp_path: Path) -> None:
    node = _char_device(tmp_path / "full", 7)
    with pytest.raises(OSError):
        write_text(node, "hello\n")
    assert stat.S_ISCHR(os.stat(node).st_mode)


def test_fifo_is_written_through(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    write_text(fifo, "through the pipe\n")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    reader.join(timeout=10)
    assert got == [b"through the pipe\n"]


def test_symlink_is_followed_and_kept(tmp_path: Path) -> None:
    real = tmp_path / "real.txt"
    real.write_text("old\n")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    write_text(link, "new\n")
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == "new\n"


def test_existing_mode_is_kept(tmp_path: Path) -> None:
    secret = tmp_path / "secret.json"
    secret.write_text("{}\n")
    secret.chmod(0o600)
    write_text(secret, '{"a": 1}\n')
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert secret.read_text() == '{"a": 1}\n'


def test_folder_target_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    with pytest.raises(ValueError, match="a folder"):
        write_text(folder, "x")
    assert folder.is_dir()


def test_temporary_file_of_a_killed_writer_is_removed_by_the_next_write(tmp_path: Path) -> None:
    """A writer killed with SIGKILL mid-write leaves its temporary file; the next write removes it,
    while the temporary file of a live writer is kept."""
    target = tmp_path / "out.txt"
    script = ("import sys, time\nfrom cjkv_phon.atomic import atomic_path\n"
              "with atomic_path(sys.argv[1]) as tmp:\n"
              "    tmp.write_text('half')\n    print(tmp, flush=True)\n    time.sleep(60)\n")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    child = subprocess.Popen([sys.executable, "-c", script, str(target)], stdout=subprocess.PIPE,
                             text=True, env=env)
    left = Path(child.stdout.readline().strip())
    with atomic_path(target) as tmp:            # the child is alive: its file is kept
        tmp.write_text("first")
        assert left.exists()
    child.kill()
    child.wait()
    assert left.exists()                        # SIGKILL: no cleanup in the child
    write_text(target, "second")
    assert not left.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]
