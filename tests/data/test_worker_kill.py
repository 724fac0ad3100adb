"""Both commands on the worker pool killed for real: ``build-data`` and ``phonemize``, 2 workers each.

The signal goes to the parent only (SIGKILL, SIGTERM, SIGINT), never to the workers: they must
notice on their own that the parent is gone (SIGKILL) or be killed by it (SIGTERM, SIGINT). Each
run starts in its own session, so its process group holds the parent and its workers only; the
kill lands once both workers exist and the output is being made. Then: no process of the run is
left within a few seconds, nothing is at (or half-written beside) the output path -- except, after
SIGKILL, what only the next run can remove: build-data's staging folder, phonemize's dot-temporary
file -- and SIGTERM/SIGINT exit with ``128 + signum`` and a one-line message, no traceback.
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
import pytest

from cjkv_phon.data.xtreme import read_xtreme_tsv, xtreme_path
from tests.data.test_build_signals import RECIPE, REPO, _assert_all_gone, _assert_no_partial_data, _env

SIGNALS = {"sigkill": signal.SIGKILL, "sigterm": signal.SIGTERM, "sigint": signal.SIGINT}


def _build_cmd(out: Path, xtreme_dir: Path) -> list[str]:
    return [sys.executable, "-m", "cjkv_phon.cli", "build-data", "--recipe", str(RECIPE),
            "--source", str(xtreme_dir), "--tasks", "panx", "--langs", "zh,vi", "--splits", "dev",
            "--max-sentences", "3000", "--workers", "2", "--out", str(out)]


def _phonemize_cmd(src: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "cjkv_phon.cli", "phonemize", str(src), "--lang", "vi",
            "--workers", "2", "--batch-size", "50", "-o", str(out)]


@pytest.fixture(scope="module")
def vi_text(xtreme_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Vietnamese PAN-X dev as text lines, repeated: enough for the workers to be busy a while.

    A fast machine phonemizes 10,000 of these sentences in about 2 s -- less than the time from start
    to kill -- so the input is 100,000 lines: tens of seconds of work, of which the test waits ~1 s.
    """
    read = read_xtreme_tsv(xtreme_path(xtreme_dir, "panx", "vi", "dev"), task="panx", lang="vi",
                           split="dev", max_sentences=2000)
    path = tmp_path_factory.mktemp("vi") / "vi.txt"
    path.write_text("".join(" ".join(s.tokens) + "\n" for s in read.sentences) * 50, encoding="utf-8")
    return path


def _start(cmd: list[str]) -> tuple[subprocess.Popen[str], list[str]]:
    proc = subprocess.Popen(cmd, cwd=REPO, env=_env(), text=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, start_new_session=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(proc.stderr), daemon=True).start()  # type: ignore[arg-type]
    return proc, lines


def _wait_for_busy_workers(proc: subprocess.Popen[str], lines: list[str], making: Path) -> list[int]:
    """The pids of the two workers, once they exist and the output is being made under ``making``."""
    deadline = time.monotonic() + 120
    while True:
        assert proc.poll() is None and time.monotonic() < deadline, "".join(lines)
        workers = psutil.Process(proc.pid).children()
        if len(workers) >= 2 and any(p.name.startswith(".") for p in making.iterdir()):
            time.sleep(0.5)  # into the work
            assert proc.poll() is None, "".join(lines)
            return [p.pid for p in workers]
        time.sleep(0.05)


def _check_exit(proc: subprocess.Popen[str], lines: list[str], signum: int) -> None:
    code = proc.wait(30)
    time.sleep(0.3)  # let the reader thread take the last lines
    err = "".join(lines)
    if signum == signal.SIGKILL:
        assert code == -signal.SIGKILL
        return
    assert code == 128 + signum, err  # the shell's convention for "stopped by a signal"
    assert "Traceback" not in err and "leaked semaphore" not in err, err
    assert f"error: stopped by {signal.Signals(signum).name}" in err, err


@pytest.mark.parametrize("how", list(SIGNALS))
def test_phonemize_killed_leaves_no_worker_and_no_output(tmp_path: Path, vi_text: Path, how: str) -> None:
    out = tmp_path / "out.parquet"
    proc, lines = _start(_phonemize_cmd(vi_text, out))
    workers = _wait_for_busy_workers(proc, lines, tmp_path)
    os.kill(proc.pid, SIGNALS[how])
    _check_exit(proc, lines, SIGNALS[how])
    _assert_all_gone(workers, proc.pid)
    assert not out.exists()
    left = sorted(p.name for p in tmp_path.iterdir())
    if how == "sigkill":  # only the parent could have removed its temporary file: the next run does
        assert left and all(name.startswith(".out.parquet.") and name.endswith(".tmp") for name in left), left
        small = tmp_path.parent / f"{tmp_path.name}-small.txt"
        small.write_text("Việt Nam\n", encoding="utf-8")
        rerun = subprocess.run(_phonemize_cmd(small, out), cwd=REPO, env=_env(), capture_output=True, text=True)
        assert rerun.returncode == 0, rerun.stderr
        assert sorted(p.name for p in tmp_path.iterdir()) == ["out.parquet"]
    else:
        assert left == [], left


@pytest.mark.parametrize("how", list(SIGNALS))
def test_build_data_killed_leaves_no_worker_and_nothing_partial(tmp_path: Path, xtreme_dir: Path,
                                                                how: str) -> None:
    out = tmp_path / "rel"
    out.mkdir()
    proc, lines = _start(_build_cmd(out, xtreme_dir))
    workers = _wait_for_busy_workers(proc, lines, out)
    os.kill(proc.pid, SIGNALS[how])
    _check_exit(proc, lines, SIGNALS[how])
    _assert_all_gone(workers, proc.pid)
    _assert_no_partial_data(out)
    staging = [p.name for p in out.iterdir() if p.name.startswith(".staging-")]
    assert len(staging) == (1 if how == "sigkill" else 0), staging  # a rerun removes a dead one
    assert not (out / "data").exists() and not (out / "manifest.json").exists()
