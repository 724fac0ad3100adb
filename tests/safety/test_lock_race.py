"""Several processes racing for the same stale ``bench.lock`` files: each run is granted to exactly one
of them, and a release never removes a lock another process holds (issue 23, item 4)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from cjkv_phon.bench.lock import LOCK_NAME, run_lock

RUNS = 150
PROCESSES = 4
RACER = """
import sys, time
from pathlib import Path
from cjkv_phon.bench.lock import try_lock
root, start = Path(sys.argv[1]), float(sys.argv[2])
while time.time() < start:
    pass
got = [i for i in range(int(sys.argv[3])) if try_lock(root / f"run{i}") is not None]
print(" ".join(map(str, got)))
"""


def _stale_lock(run_dir: Path, pid: int) -> None:
    run_dir.mkdir(parents=True)
    (run_dir / LOCK_NAME).write_text(json.dumps({"pid": pid, "host": socket.gethostname()}), encoding="utf-8")


def test_a_stale_lock_is_taken_over_by_one_process_only(tmp_path: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    for i in range(RUNS):
        _stale_lock(tmp_path / f"run{i}", dead.pid)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    start = time.time() + 1.5                  # all racers start spinning before this moment
    racers = [subprocess.Popen([sys.executable, "-c", RACER, str(tmp_path), str(start), str(RUNS)],
                               stdout=subprocess.PIPE, text=True, env=env) for _ in range(PROCESSES)]
    grants = [int(i) for racer in racers for i in racer.communicate(timeout=120)[0].split()]
    doubles = sorted({i for i in grants if grants.count(i) > 1})
    assert doubles == [], f"{len(doubles)} of {RUNS} runs granted to more than one process"
    assert sorted(grants) == list(range(RUNS))


def test_release_leaves_a_lock_it_does_not_own(tmp_path: Path) -> None:
    other = {"pid": os.getppid(), "host": socket.gethostname(), "token": "someone-else"}
    with run_lock(tmp_path) as lock:
        assert lock is not None
        lock.write_text(json.dumps(other), encoding="utf-8")   # taken over meanwhile by another process
    assert json.loads(lock.read_text(encoding="utf-8")) == other
