"""The README quick start is two commands and ``.ci/run`` runs exactly its second one; ``hanja`` is an
ordinary dependency (issue 23, set-up in two commands)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _quick_start() -> list[str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Quick start"):readme.index("## Layout")]
    return [line.strip() for line in section.splitlines() if line.startswith("    python3 -m venv")]


def test_quick_start_is_two_commands_and_ci_runs_the_second() -> None:
    commands = _quick_start()
    assert len(commands) == 2
    assert commands[0].endswith("build-data --source ../shared/data/xtreme")
    assert commands[1].endswith("python -m pytest -q")
    ci = [line.strip() for line in (REPO / ".ci/run").read_text(encoding="utf-8").splitlines()
          if line.startswith("python3 -m venv")]
    assert ci == [commands[1]]


def test_hanja_is_an_ordinary_pinned_dependency() -> None:
    deps = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    assert "hanja==0.15.1" in deps and "pyyaml==6.0.1" in deps     # hanja requires pyyaml==6.0.1
    assert not any("--no-deps" in c for c in _quick_start())


def test_bench_help_lists_every_preset() -> None:
    from typer.testing import CliRunner
    from cjkv_phon.cli import app
    out = CliRunner(env={"COLUMNS": "200"}).invoke(app, ["bench", "--help"]).output
    for preset in sorted(p.stem for p in (REPO / "benchmarks/presets").glob("*.yaml")):
        assert re.search(rf"\b{re.escape(preset)}\b", out), preset
