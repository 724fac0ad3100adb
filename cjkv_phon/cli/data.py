"""CLI commands for the data stage (registered on the shared app).

``cjkv build-data`` reads the recipe (default ``pipelines/build-data.yaml``), applies the flags and calls
:func:`~cjkv_phon.data.build.build_data` under a progress bar; ``cjkv verify-data`` calls
:func:`~cjkv_phon.data.release.verify_release`; ``cjkv stats`` calls
:func:`~cjkv_phon.data.stats.compute_stats`. Each renders its result with rich.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from cjkv_phon.cli.app import app
from cjkv_phon.data.build import BuildDataConfig, BuildReport, build_data, plan_jobs, resolve_source
from cjkv_phon.errors import InputError
from cjkv_phon.recipes import load_config
from cjkv_phon.schema import STATUSES

DEFAULT_RECIPE = Path("pipelines/build-data.yaml")
DEFAULT_RELEASE = Path("releases/xtreme-cjkv-phonemic")


def _csv(value: str | None) -> tuple[str, ...] | None:
    """``"panx,udpos"`` -> ``("panx", "udpos")``; None stays None (the recipe decides)."""
    return tuple(v.strip() for v in value.split(",") if v.strip()) if value else None


def build_table(report: BuildReport) -> Table:
    """One row per file plus a total row: sentences, tokens, status counts, seconds."""
    table = Table("file", "sentences", "tokens", *STATUSES, "skipped", "seconds",
                  title=f"cjkv build-data -> {report.release_dir}")
    for f in report.files:
        table.add_row(f.path, str(f.sentences), str(f.tokens),
                      *(str(f.status_counts.get(s, 0)) for s in STATUSES), str(len(f.skipped)),
                      "up to date" if f.up_to_date else f"{f.seconds:.1f}")
    tot = report.totals()
    table.add_row(f"total ({tot.get('files', 0)} files)", str(tot.get("sentences", 0)),
                  str(tot.get("tokens", 0)), *(str(tot.get(s, 0)) for s in STATUSES),
                  str(len(report.skipped)), f"{report.seconds:.1f}", style="bold")
    return table


def _build_with_progress(cfg: BuildDataConfig, console: Console) -> BuildReport:
    total = len(plan_jobs(cfg, resolve_source(cfg.source, cfg.hub_revision))[0])
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        bar = progress.add_task("building files", total=total)
        return build_data(cfg, on_file_done=lambda f: progress.update(
            bar, advance=1, description=f"{f.path} ({f.sentences} sentences)"))


@app.command("build-data")
def build_data_cli(
    recipe: Optional[Path] = typer.Option(None, help=f"Recipe YAML [default: {DEFAULT_RECIPE} if present]."),
    source: Optional[str] = typer.Option(None, help="XTREME download/ folder, UD CoNLL-U folder, or 'hf'."),
    tasks: Optional[str] = typer.Option(None, help="Comma-separated tasks: panx,udpos."),
    langs: Optional[str] = typer.Option(None, help="Comma-separated languages: zh,ja,ko,vi."),
    splits: Optional[str] = typer.Option(None, help="Comma-separated splits: train,dev,test."),
    scheme: Optional[str] = typer.Option(None, help="Transcription scheme: native | paper."),
    out: Optional[str] = typer.Option(None, help="Release folder [default: releases/<name>]."),
    workers: Optional[int] = typer.Option(None, help="Processes phonemizing files in parallel."),
    max_sentences: Optional[int] = typer.Option(None, help="Keep the first N sentences per file."),
    skip_malformed: Optional[bool] = typer.Option(None, "--skip-malformed/--no-skip-malformed",
                                                  help="Report and skip malformed sentences."),
) -> None:
    """Build the phonemic XTREME release: parquet per (task, lang, split), card and manifest."""
    overrides = dict(source=source, tasks=_csv(tasks), langs=_csv(langs), splits=_csv(splits),
                     scheme=scheme, out=out, workers=workers, max_sentences=max_sentences,
                     skip_malformed=skip_malformed)
    path = recipe or (DEFAULT_RECIPE if DEFAULT_RECIPE.is_file() else None)
    try:
        cfg = load_config(BuildDataConfig, path, overrides)
    except ValueError as err:  # unknown task/lang/split or bad setting: a usage error
        raise typer.BadParameter(str(err)) from None
    console = Console()
    try:
        report = _build_with_progress(cfg, console)
    except (FileNotFoundError, InputError) as err:  # bad or missing input: a message, not a traceback
        console.print(f"[red]error:[/red] {escape(str(err))}")
        raise typer.Exit(code=1) from None
    console.print(build_table(report))


@app.command("verify-data")
def verify_data_cli(
    release_dir: Path = typer.Argument(DEFAULT_RELEASE, help="Release folder with manifest.json."),
) -> None:
    """Check a built release against its manifest (missing or changed files fail)."""
    # Imported per command: every command module loads when `cjkv` starts, so --help stays fast.
    from cjkv_phon.data.release import verify_release

    report = verify_release(release_dir)
    console = Console()
    for problem in report.problems:
        console.print(f"[red]FAIL[/red] {problem}")
    console.print(f"{report.checked} files listed, {len(report.problems)} problems in {release_dir}")
    if not report.ok:
        raise typer.Exit(code=1)


def stats_tables(stats: dict[str, Any]) -> list[Table]:
    """Rich tables for :func:`compute_stats` output: sizes/statuses and the pairs' overlap."""
    sizes = Table("task", "lang", "sentences", "tokens", "distinct", *STATUSES, "IPA symbols",
                  title=f"built data in {stats['data_dir']}")
    for task, langs in stats["tasks"].items():
        for lang, s in langs.items():
            sizes.add_row(task, lang, str(s["sentences"]), str(s["tokens"]), str(s["distinct_tokens"]),
                          *(str(s["status_counts"][k]) for k in STATUSES), str(len(s["ipa_inventory"])))
    overlap = Table("task", "pair", "IPA 1-gram", "IPA 2-gram", "IPA 3-gram", "chars", "token types",
                    title="overlap of the paper's pairs (Jaccard; tones stripped)")
    for task, pairs in stats["overlap"].items():
        for pair, o in pairs.items():
            overlap.add_row(task, pair, *(f"{o[k]:.3f}" for k in (
                "ipa_1gram_jaccard", "ipa_2gram_jaccard", "ipa_3gram_jaccard",
                "orth_char_jaccard", "orth_token_jaccard")))
    return [sizes, overlap]


@app.command("stats")
def stats_cli(
    data_dir: Path = typer.Argument(DEFAULT_RELEASE / "data", help="A release's data/ folder."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Also write the statistics as JSON."),
) -> None:
    """Sizes, statuses, IPA inventories and zh-vi / ja-ko phonemic vs orthographic overlap."""
    from cjkv_phon.atomic import write_json
    from cjkv_phon.data.stats import compute_stats  # loads panphon: only when asked for

    stats = compute_stats(data_dir)
    if json_out is not None:
        write_json(json_out, stats)
    for table in stats_tables(stats):
        Console().print(table)
    if json_out is None:
        Console().print_json(json.dumps({"overlap": stats["overlap"]}))
