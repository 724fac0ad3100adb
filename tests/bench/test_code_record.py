"""A grid records the exact code it ran and refuses uncommitted code unless allowed (issue 20, item 10).

The checks run real git on a throwaway repository laid out like this one (cjkv_phon/, benchmarks/).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from cjkv_phon.bench.code_record import DirtyTree, grid_code
from cjkv_phon.bench.runner import run_bench
from cjkv_phon.provenance import code_state
from tests.bench.test_runner import FlakyTrainer, grid


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=repo,
                          capture_output=True, text=True, check=True).stdout


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "cjkv_phon").mkdir(parents=True)
    (root / "cjkv_phon" / "model.py").write_text("X = 1\n")
    (root / "benchmarks" / "results").mkdir(parents=True)
    (root / "benchmarks" / "results" / "bench_summary.json").write_text("{}\n")
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "init")
    return root


def test_clean_code_runs_and_results_written_by_the_grid_do_not_make_it_dirty(repo: Path, tmp_path: Path) -> None:
    head = _git(repo, "rev-parse", "HEAD").strip()
    (repo / "benchmarks" / "results" / "bench_summary.json").write_text('{"runs": []}\n')    # tracked output
    (repo / "benchmarks" / "results" / "new").mkdir()
    (repo / "benchmarks" / "results" / "new" / "results.json").write_text("{}\n")            # untracked output
    block = grid_code(tmp_path / "results", allow_dirty=False, repo=repo)
    assert block == {"commit": head, "fingerprint": code_state(repo).fingerprint, "dirty": False,
                     "allow_dirty": False}
    assert not (tmp_path / "results").exists()


def test_changed_code_is_refused_unless_allowed_and_then_recorded_with_its_patch(repo: Path, tmp_path: Path) -> None:
    clean = code_state(repo)
    (repo / "cjkv_phon" / "model.py").write_text("X = 2\n")
    (repo / "cjkv_phon" / "new_module.py").write_text("Y = 3\n")          # untracked code counts too
    state = code_state(repo)
    assert state.dirty and state.changed == ("cjkv_phon/model.py", "cjkv_phon/new_module.py")
    assert state.commit == clean.commit and state.fingerprint != clean.fingerprint
    with pytest.raises(DirtyTree, match=r"uncommitted code changes \(cjkv_phon/model.py, cjkv_phon/new_module.py\)"
                                        r".*--allow-dirty"):
        grid_code(tmp_path / "results", allow_dirty=False, repo=repo)
    block = grid_code(tmp_path / "results", allow_dirty=True, repo=repo)
    assert block["allow_dirty"] and block["dirty"] and block["changed"] == list(state.changed)
    patch = (tmp_path / "results" / block["patch"]).read_text()
    assert "-X = 1" in patch and "+X = 2" in patch and block["patch"].startswith(f"code/{state.commit[:12]}-")


def test_outside_git_the_commit_is_unknown_and_the_fingerprint_names_the_code(tmp_path: Path) -> None:
    (tmp_path / "cjkv_phon").mkdir()
    (tmp_path / "cjkv_phon" / "a.py").write_text("A = 1\n")
    first = code_state(tmp_path)
    assert first.commit == "unknown" and not first.dirty
    (tmp_path / "cjkv_phon" / "a.py").write_text("A = 2\n")
    assert code_state(tmp_path).fingerprint != first.fingerprint


def test_every_trained_run_of_a_grid_records_the_code(tmp_path: Path) -> None:
    records = run_bench(grid(tmp_path), FlakyTrainer(failures=0))
    state = code_state()
    for path in sorted(tmp_path.rglob("results.json")):
        code = json.loads(path.read_text(encoding="utf-8"))["code"]
        assert code["commit"] == state.commit and code["allow_dirty"] is True
        assert code["dirty"] == state.dirty and code["fingerprint"] == state.fingerprint
    assert len(list(tmp_path.rglob("results.json"))) == len(records) == 4
