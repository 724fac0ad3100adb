"""``--engine ray`` with an address where no cluster runs: a one-line error within seconds, not a hang
or a traceback (issue 23, item 7)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

pytest.importorskip("ray")
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture()
def ray_tmp() -> Path:
    """A Ray temp folder of this test only (no "current cluster" file of another session), short:
    Ray's socket paths inside it must stay under 108 bytes."""
    folder = Path(tempfile.mkdtemp(prefix="cjkvray", dir="/tmp"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _phonemize(ray_tmp: Path, address: str) -> tuple[subprocess.CompletedProcess, float]:
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env["RAY_TMPDIR"] = str(ray_tmp)
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "cjkv_phon.cli", "phonemize", "--lang", "zh",
                           "--engine", "ray", "--ray-address", address], input="银行\n", text=True,
                          capture_output=True, cwd=REPO, env=env, timeout=120)
    return done, time.monotonic() - start


def test_an_address_where_nothing_listens_is_a_one_line_error(ray_tmp: Path) -> None:
    done, seconds = _phonemize(ray_tmp, "127.0.0.1:1")
    assert done.returncode == 1 and seconds < 60
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: --ray-address 127.0.0.1:1"), done.stderr


def test_auto_without_a_cluster_is_a_one_line_error(ray_tmp: Path) -> None:
    from ray._private.services import find_gcs_addresses
    if find_gcs_addresses():
        pytest.skip("a Ray cluster runs on this machine: auto would join it")
    done, _ = _phonemize(ray_tmp, "auto")
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: --ray-address auto"), done.stderr


def _marked(mark: str) -> list[int]:
    """Pids of live processes whose environment carries ``mark`` (Ray workers inherit the driver's)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and mark.encode() in (proc / "environ").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


@pytest.mark.slow
def test_a_successful_ray_run_is_quiet_and_leaves_no_processes(tmp_path: Path, ray_tmp: Path) -> None:
    """No error-level actor line or warnings on stderr, only the summary; no actor outlives the run."""
    mark = f"CJKV_TEST_MARK_{os.getpid()}_{time.time_ns()}"
    src = tmp_path / "zh.txt"
    src.write_text("银行行长\n北京大学\n", encoding="utf-8")
    env = {**os.environ, mark: "1", "RAY_TMPDIR": str(ray_tmp)}
    env.pop("RAY_ADDRESS", None)
    done = subprocess.run([sys.executable, "-m", "cjkv_phon.cli", "phonemize", str(src), "--lang", "zh",
                           "--engine", "ray", "--ray-cpus", "1", "-o", str(tmp_path / "out.jsonl")],
                          text=True, capture_output=True, cwd=REPO, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    noise = [line for line in done.stderr.splitlines()
             if "WARNING" in line or "Warning" in line or " E " in line[:40] or "core_worker" in line]
    assert noise == []
    deadline = time.monotonic() + 10
    while _marked(mark) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _marked(mark) == []
