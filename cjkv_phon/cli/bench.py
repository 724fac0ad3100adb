"""CLI commands for the bench stage: ``cjkv bench`` (run a grid) and ``cjkv leaderboard`` (tables, plot).

Both are thin shells over :func:`cjkv_phon.bench.runner.run_bench` and
:func:`cjkv_phon.bench.leaderboard.render_leaderboard` / ``plot_leaderboard``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

import cjkv_phon.cli.names as names
from cjkv_phon.cli.app import app
from cjkv_phon.cli.console import console, fail, print_table

# benchmarks/results (cjkv_phon.bench.presets.RESULTS_DIR, which imports more than --help needs)
RESULTS_DIR = Path(__file__).resolve().parents[2] / "benchmarks" / "results"
# The packaged presets, listed from their folder so that --help never goes stale.
PRESET_NAMES = sorted(p.stem for p in (RESULTS_DIR.parent / "presets").glob("*.yaml"))


def _split(value: Optional[str]) -> Optional[tuple[str, ...]]:
    """``"a,b"`` -> ``("a", "b")``; None stays None so the preset's value is kept."""
    return tuple(v.strip() for v in value.split(",") if v.strip()) if value else None


def _f1(record: dict, side: str) -> str:
    value = record.get("metrics", {}).get(side, {}).get("test", {}).get("f1")
    return "–" if value is None else f"{value:.2f}"


def bench_table(records: list[dict]) -> Table:
    """One row per grid run: id, status, attempts ("tries"), resources, source/target test F1, error."""
    table = Table(title="bench")
    table.add_column("run", no_wrap=True)          # id and status are what tell runs apart: never cut
    table.add_column("status", no_wrap=True)
    for name in ("tries", "resources", "src test F1", "tgt test F1", "error"):
        table.add_column(name)
    for r in records:
        b = r["bench"]
        table.add_row(b["bench_id"], b["status"], str(b["attempts"]), b["resources"], _f1(r, "source"),
                      _f1(r, "target"), (b.get("error") or "")[:80])
    return table


@app.command("bench")
def bench_cli(
    model: Optional[str] = typer.Option(None, "--model", help="Systems/variants, comma-separated "
                                        "(e.g. finetune,phonexl-mlm-only) [default: the preset's]."),
    task: Optional[str] = typer.Option(None, help="panx | udpos, or both comma-separated "
                                       "[default: the preset's]."),
    pair: Optional[str] = typer.Option(None, help="Pairs such as zh-vi,ja-ko [default: the preset's]."),
    seeds: Optional[int] = typer.Option(None, help="Number of seeds (runs seeds 1..N) "
                                        "[default: the preset's]."),
    preset: str = typer.Option("smoke", help=f"{' | '.join(PRESET_NAMES)}, or a preset YAML file."),
    results: Optional[str] = typer.Option(None, help="Results folder "
                                          "[default: benchmarks/results/<preset>]."),
    backbone: Optional[str] = typer.Option(None, help="Backbones, comma-separated [default: the preset's]."),
    retries: Optional[int] = typer.Option(None, help="Extra attempts for a failing run "
                                          "[default: the preset's]."),
    data_dir: Optional[str] = typer.Option(None, help="Built parquet folder (cjkv build-data) "
                                           "[default: the preset's, else releases/xtreme-cjkv-phonemic/data]."),
    dictionary_dir: Optional[str] = typer.Option(None, help="Pivot dictionaries (cjkv build-dict) "
                                                 "[default: the preset's, else build/dictionaries]."),
    workers: Optional[int] = typer.Option(None, help="Processes sharing the grid [default: the preset's]."),
    threads: Optional[int] = typer.Option(None, help="Torch threads per process, 0 = torch's default "
                                          "[default: the preset's]."),
    allow_dirty: bool = typer.Option(False, "--allow-dirty", help="Run on uncommitted code changes "
                                     "(recorded in every run, with the patch); refused otherwise."),
) -> None:
    """Run a grid of training runs (system x backbone x task x pair x seed); finished runs are skipped."""
    try:  # every name is checked before torch is imported (cjkv_phon.bench.runner)
        names.check_preset(preset)
        for value in _split(model) or ():
            names.check_variant(value)
        for value in _split(task) or ():
            names.check_task(value)
        for value in _split(pair) or ():
            names.check_pair(value)
        for value in _split(backbone) or ():
            names.check_backbone(value)
    except names.UnknownName as err:
        fail(str(err), code=2)
    from cjkv_phon.bench.presets import load_preset

    try:
        cfg = load_preset(preset, {"models": _split(model), "tasks": _split(task), "pairs": _split(pair),
                                   "seeds": seeds, "results_dir": results, "backbones": _split(backbone),
                                   "retries": retries, "workers": workers, "threads": threads,
                                   "allow_dirty": allow_dirty or None},
                          train={"data_dir": data_dir, "dictionary_dir": dictionary_dir})
        for value in cfg.backbones:
            names.check_backbone(value)
    except (ValueError, FileNotFoundError) as err:
        fail(str(err), code=2)
    except KeyError as err:
        fail(str(err.args[0]), code=2)
    from cjkv_phon.bench.code_record import DirtyTree
    from cjkv_phon.bench.runner import run_bench

    try:
        records = run_bench(cfg, show_progress=True)
    except DirtyTree as err:
        fail(str(err), code=2)
    print_table(bench_table(records))
    if any(r["bench"]["status"] == "failed" for r in records):
        raise typer.Exit(1)


@app.command("leaderboard")
def leaderboard_cli(
    results: Path = typer.Option(RESULTS_DIR, help="Folder searched (recursively) for results.json."),
    fmt: str = typer.Option("md", "--format", help="md | csv | tex."),
    plot: Optional[Path] = typer.Option(None, help="Also write a PNG bar chart of target F1 here."),
    significance_json: Optional[Path] = typer.Option(
        None, "--significance-json", help="Also write the significance tests as JSON here "
        "(e.g. <results>/significance.json)."),
    resamples: int = typer.Option(1000, min=1, help="Paired-bootstrap replicates."),
) -> None:
    """Our results (mean ± std over seeds) beside the paper's Tables 3, 4 and 6, with Δ vs finetune,
    its paired-bootstrap 95% interval and ASO's ε_min."""
    try:
        names.check("format", fmt, ("md", "csv", "tex"))
    except names.UnknownName as err:
        fail(str(err), code=2)
    from cjkv_phon.bench.leaderboard import plot_leaderboard, render_leaderboard, write_significance
    from cjkv_phon.bench.significance import SignificanceConfig

    config = SignificanceConfig(n_resamples=resamples)
    try:  # bad or foreign results files, a missing or empty folder, an output onto a folder: one line
        typer.echo(render_leaderboard(results, fmt, config))
        if plot is not None:
            console(stderr=True).print(f"plot written to {plot_leaderboard(results, plot, significance=config)}")
        if significance_json is not None:
            console(stderr=True).print(
                f"significance written to {write_significance(results, significance_json, config)}")
    except (ValueError, OSError) as err:  # InputError is a ValueError: file and reason
        fail(f"{err.filename}: {err.strerror}" if isinstance(err, OSError) and err.strerror else str(err))
