"""A running ``cjkv build-data`` killed for real: SIGKILL, SIGTERM and Ctrl-C (SIGINT to the group).

Each test starts a real build in its own session (so its process group holds the parent and its
workers only), waits until a worker reports sentences transcribed (so the kill lands mid-file), sends
the signal and then checks: no process of the build is left after a few seconds, nothing partial under
``data/``, and (SIGKILL) a rerun cleans the stale staging folder, completes and verifies.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pyarrow.parquet as pq
import pytest

REPO = Path(__file__).resolve().parents[2]
RECIPE = REPO / "pipelines" / "build-data.yaml"


def _cmd(out: Path, xtreme_dir: Path, workers: int = 2) -> list[str]:
    return [sys.executable, "-m", "cjkv_phon.cli", "build-data", "--recipe", str(RECIPE),
            "--source", str(xtreme_dir), "--tasks", "panx", "--langs", "zh,vi", "--splits", "dev",
            "--max-sentences", "4000", "--workers", str(workers), "--out", str(out)]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200"}


class Build:
    """A build-data subprocess whose stderr is collected by a thread."""

    def __init__(self, out: Path, xtreme_dir: Path) -> None:
        self.proc = subprocess.Popen(_cmd(out, xtreme_dir), cwd=REPO, env=_env(), text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     start_new_session=True)
        self.lines: list[str] = []
        self.started = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stderr:  # type: ignore[union-attr]
            self.lines.append(line)
            if "sentences transcribed" in line:
                self.started.set()

    def wait_mid_file(self, out: Path) -> list[int]:
        """Wait until the workers are busy; return the pids of the build's children then.

        Busy: a worker reported sentences transcribed, or (a build without progress lines) the
        staging folder and two children have existed for 1.5 s.
        """
        deadline, busy_since = time.monotonic() + 120, None
        while not self.started.is_set():
            assert time.monotonic() < deadline and self.proc.poll() is None, "".join(self.lines)
            kids = psutil.Process(self.proc.pid).children(recursive=True)
            if len(kids) >= 2 and _staging(out):
                busy_since = busy_since or time.monotonic()
                if time.monotonic() - busy_since > 1.5:
                    break
            time.sleep(0.1)
        workers = [p.pid for p in psutil.Process(self.proc.pid).children(recursive=True)]
        assert len(workers) >= 2, workers  # the two workers (and multiprocessing's resource tracker)
        assert any(p.name.startswith(".staging-") for p in out.iterdir())  # mid-build
        return workers


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _group_members(pgid: int) -> list[int]:
    members = []
    for p in psutil.process_iter():
        try:
            if os.getpgid(p.pid) == pgid and p.status() != psutil.STATUS_ZOMBIE:
                members.append(p.pid)
        except (psutil.NoSuchProcess, ProcessLookupError, PermissionError):
            continue
    return members


def _assert_all_gone(pids: list[int], pgid: int, within_s: float = 5.0) -> None:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if not any(_alive(p) for p in pids) and not _group_members(pgid):
            return
        time.sleep(0.1)
    left = [p for p in pids if _alive(p)] + _group_members(pgid)
    for pid in set(left):  # do not leave them running after the test
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    pytest.fail(f"processes of the killed build still alive after {within_s}s: {sorted(set(left))}")


def _assert_no_partial_data(out: Path) -> None:
    for path in (out / "data").rglob("*") if (out / "data").exists() else ():
        if path.is_file():
            assert path.suffix == ".parquet" and not path.name.startswith("."), path
            pq.read_metadata(path)  # a complete parquet file (footer present)


def _staging(out: Path) -> list[Path]:
    return [p for p in out.iterdir() if p.name.startswith(".staging-")] if out.exists() else []


def test_sigkill_of_the_parent_takes_the_workers_and_a_rerun_recovers(tmp_path: Path,
                                                                      xtreme_dir: Path) -> None:
    out = tmp_path / "rel"
    build = Build(out, xtreme_dir)
    workers = build.wait_mid_file(out)
    os.kill(build.proc.pid, signal.SIGKILL)
    build.proc.wait(10)
    _assert_all_gone(workers, build.proc.pid)
    _assert_no_partial_data(out)
    assert len(_staging(out)) == 1  # left by the kill: the next build must clean it

    rerun = subprocess.run(_cmd(out, xtreme_dir), cwd=REPO, env=_env(), text=True,
                           capture_output=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert "removed .staging-" in rerun.stderr and _staging(out) == []
    verify = subprocess.run([sys.executable, "-m", "cjkv_phon.cli", "verify-data", str(out)],
                            cwd=REPO, env=_env(), text=True, capture_output=True, timeout=120)
    assert verify.returncode == 0 and "2 files listed, 0 problems" in verify.stdout, verify.stdout


@pytest.mark.parametrize("how", ["sigterm-parent", "ctrl-c-group"])
def test_sigterm_and_ctrl_c_stop_cleanly(tmp_path: Path, xtreme_dir: Path, how: str) -> None:
    out = tmp_path / "rel"
    build = Build(out, xtreme_dir)
    workers = build.wait_mid_file(out)
    if how == "sigterm-parent":
        os.kill(build.proc.pid, signal.SIGTERM)
    else:  # a terminal's Ctrl-C reaches the whole foreground process group
        os.killpg(build.proc.pid, signal.SIGINT)
    code = build.proc.wait(30)
    _assert_all_gone(workers, build.proc.pid)
    time.sleep(0.5)  # let the reader thread take the last lines
    err = "".join(build.lines)
    signum = signal.SIGTERM if how == "sigterm-parent" else signal.SIGINT
    assert code == 128 + signum, err  # the shell's convention for "stopped by a signal"
    assert "Traceback" not in err and "leaked semaphore" not in err, err
    assert f"error: stopped by {signum.name}; nothing was promoted" in err
    assert _staging(out) == [] and not (out / "data").exists()
