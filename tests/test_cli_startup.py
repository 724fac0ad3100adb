"""The CLI starts light: no torch/transformers/datasets at import, unknown names rejected before any
heavy import with a one-line error, help that shows every default, ``--version``."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import click
import typer
from typer.testing import CliRunner

import cjkv_phon
from cjkv_phon.cli import app

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "transformers", "datasets", "pyarrow", "pandas", "matplotlib")


def _python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                          timeout=120, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_importing_the_cli_imports_nothing_heavy() -> None:
    loaded = json.loads(_python("import cjkv_phon.cli, sys, json; "
                                f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"))
    assert loaded == []


UNKNOWN = {
    "train --model nope": "unknown model 'nope'; valid: cosda-ml, filter, finetune, phonexl, x-mixup, xtune",
    "train --task nope": "unknown task 'nope'; valid: panx, udpos",
    "train --pair zh-xx": "unknown pair 'zh-xx'; valid: zh-ja, zh-ko, zh-vi, ja-zh,",
    "train --backbone nope": "unknown backbone 'nope'; valid: multilingual-e5-small, tiny-bert, tiny-xlmr",
    "bench --model nope": "unknown model 'nope'; valid: finetune, phonexl, phonexl-align-only,",
    "bench --preset nope": "unknown preset 'nope'; valid: cpu, cpu-v2, cpu-v2-ko-layout, full, paper, smoke",
    "bench --task nope": "unknown task 'nope'; valid: panx, udpos",
    "bench --pair ko": "unknown pair 'ko'; valid: zh-ja,",
    "bench --backbone nope": "unknown backbone 'nope'; valid: multilingual-e5-small",
    "leaderboard --format xls": "unknown format 'xls'; valid: md, csv, tex",
}


def test_unknown_names_are_one_line_errors_before_any_heavy_import() -> None:
    code = f"""
import json, shlex, sys
from typer.testing import CliRunner
from cjkv_phon.cli import app
out = {{}}
for cmd in {list(UNKNOWN)!r}:
    r = CliRunner().invoke(app, shlex.split(cmd))
    out[cmd] = [r.exit_code, r.output, [m for m in {HEAVY[:3]!r} if m in sys.modules]]
print(json.dumps(out))
"""
    results = json.loads(_python(code))
    for cmd, words in UNKNOWN.items():
        exit_code, output, heavy = results[cmd]
        lines = output.strip().splitlines()
        assert exit_code == 2 and len(lines) == 1, (cmd, output)
        assert lines[0].startswith("error: ") and words in lines[0], (cmd, output)
        assert heavy == [], (cmd, heavy)


def test_names_mirror_their_registries() -> None:
    from cjkv_phon.bench.presets import RESULTS_DIR
    from cjkv_phon.cli import bench as cli_bench
    from cjkv_phon.cli import names
    from cjkv_phon.dictionary.pivot import VALID_PAIRS
    from cjkv_phon.training import backbone
    from cjkv_phon.training import systems  # noqa: F401  (registers every system)
    from cjkv_phon.training.system import SYSTEMS

    assert names.system_names() == SYSTEMS.names()
    assert (names.DEFAULT_BACKBONE, names.TINY_BACKBONES) == (backbone.DEFAULT_BACKBONE,
                                                              backbone.TINY_BACKBONES)
    assert tuple(names.pair_names()) == VALID_PAIRS
    assert cli_bench.RESULTS_DIR == RESULTS_DIR


def test_every_option_shows_its_default_in_help() -> None:
    group = typer.main.get_command(app)
    missing = []
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        ctx = click.Context(command, info_name=name, show_default=True)
        for param in command.params:
            if not isinstance(param, click.Option) or param.name == "help":
                continue
            if param.is_flag and param.default is False and not param.secondary_opts:
                continue  # a plain on-switch: off unless given
            record = param.get_help_record(ctx)
            if record is None or "default" not in record[1]:
                missing.append(f"{name} {param.opts[0]}")
    assert missing == []


def test_help_text_is_verbatim() -> None:
    result = CliRunner(env={"COLUMNS": "80"}).invoke(app, ["build-data", "--help"], terminal_width=80)
    assert "Release folder [default: the recipe's; built-in: releases/<name>]." in " ".join(
        re.sub(r"-\n\s+", "-", result.output).split())  # click wraps lines, also after a hyphen
    train = CliRunner().invoke(app, ["train", "--help"], terminal_width=200)
    assert "L_align weight [default: paper Table 5]." in " ".join(re.sub(r"-\n\s+", "-", train.output).split())


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output == f"cjkv {cjkv_phon.__version__}\n"
