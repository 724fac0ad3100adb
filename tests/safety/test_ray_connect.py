"""``--engine ray`` with an address where no cluster runs: a one-line error within seconds, not a hang
or a traceback (issue 23, item 7)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("ray")
REPO = Path(__file__).resolve().parents[2]


def _phonemize(tmp_path: Path, address: str) -> tuple[subprocess.CompletedProcess, float]:
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env["RAY_TMPDIR"] = str(tmp_path)           # no "current cluster" file of another Ray session
    start = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "cjkv_phon.cli", "phonemize", "--lang", "zh",
                           "--engine", "ray", "--ray-address", address], input="银行\n", text=True,
                          capture_output=True, cwd=REPO, env=env, timeout=120)
    return done, time.monotonic() - start


def test_an_address_where_nothing_listens_is_a_one_line_error(tmp_path: Path) -> None:
    done, seconds = _phonemize(tmp_path, "127.0.0.1:1")
    assert done.returncode == 1 and seconds < 60
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: --ray-address 127.0.0.1:1"), done.stderr


def test_auto_without_a_cluster_is_a_one_line_error(tmp_path: Path) -> None:
    from ray._private.services import find_gcs_addresses
    if find_gcs_addresses():
        pytest.skip("a Ray cluster runs on this machine: auto would join it")
    done, _ = _phonemize(tmp_path, "auto")
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: --ray-address auto"), done.stderr
