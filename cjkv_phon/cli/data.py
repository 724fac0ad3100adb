"""CLI commands for the data stage (registered on the shared app).

``cjkv build-data`` reads the recipe (default ``pipelines/build-data.yaml``), applies the flags and calls
:func:`~cjkv_phon.data.build.build_data` with progress (a bar on a terminal, log lines elsewhere);
``cjkv verify-data`` calls :func:`~cjkv_phon.data.release.verify_release`; ``cjkv stats`` calls
:func:`~cjkv_phon.data.stats.compute_stats`. The library is imported inside each command, so ``cjkv
--help`` never loads pyarrow or the phonemizers.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer
from rich.table import Table

from cjkv_phon.cli.app import app
from cjkv_phon.cli.console import console, fail, print_table
from cjkv_phon.cli.progress import build_progress
from cjkv_phon.errors import InputError, NothingToBuild

if TYPE_CHECKING:
    from cjkv_phon.data.build_plan import BuildReport

DEFAULT_RECIPE = Path("pipelines/build-data.yaml")
DEFAULT_RELEASE = Path("releases/xtreme-cjkv-phonemic")
STATUSES = ("ok", "fallback", "passthrough", "failed")  # cjkv_phon.schema.STATUSES (checked by a test)
_RECIPE = "[default: the recipe's"


def _csv(value: str | None) -> tuple[str, ...] | None:
    """``"panx,udpos"`` -> ``("panx", "udpos")``; None stays None (the recipe decides)."""
    return tuple(v.strip() for v in value.split(",") if v.strip()) if value else None


def build_table(report: "BuildReport") -> Table:
    """One row per file (task, lang, split) plus a total row: sentences, tokens, statuses, seconds."""
    table = Table("task", "lang", "split", "sentences", "tokens", *STATUSES, "skipped", "seconds",
                  title=f"cjkv build-data -> {report.release_dir}")
    for f in report.files:
        table.add_row(f.task, f.lang, f.split, str(f.sentences), str(f.tokens),
                      *(str(f.status_counts.get(s, 0)) for s in STATUSES), str(len(f.skipped)),
                      "up to date" if f.up_to_date else f"{f.seconds:.1f}")
    tot = report.totals()
    table.add_row("total", f"{tot.get('files', 0)} files", "", str(tot.get("sentences", 0)),
                  str(tot.get("tokens", 0)), *(str(tot.get(s, 0)) for s in STATUSES),
                  str(len(report.skipped)), f"{report.seconds:.1f}", style="bold")
    return table


@app.command("build-data")
def build_data_cli(
    recipe: Optional[Path] = typer.Option(None, help=f"Recipe YAML [default: {DEFAULT_RECIPE} if present]."),
    source: Optional[str] = typer.Option(None, help="XTREME download/ folder, UD CoNLL-U folder, or 'hf' "
                                         f"{_RECIPE}; built-in: ../shared/data/xtreme]."),
    tasks: Optional[str] = typer.Option(None, help=f"Comma-separated tasks: panx,udpos {_RECIPE}; "
                                        "built-in: all]."),
    langs: Optional[str] = typer.Option(None, help=f"Comma-separated languages: zh,ja,ko,vi {_RECIPE}; "
                                        "built-in: all]."),
    splits: Optional[str] = typer.Option(None, help=f"Comma-separated splits: train,dev,test {_RECIPE}; "
                                         "built-in: all]."),
    scheme: Optional[str] = typer.Option(None, help=f"Transcription scheme: native | paper {_RECIPE}; "
                                         "built-in: native]."),
    layout: Optional[str] = typer.Option(None, help="Token layout: xtreme | paper (PAN-X Korean split into "
                                         f"characters, as the paper's released files) {_RECIPE}; built-in: xtreme]."),
    out: Optional[str] = typer.Option(None, help=f"Release folder {_RECIPE}; built-in: releases/<name>]."),
    workers: Optional[int] = typer.Option(None, help=f"Processes phonemizing files in parallel {_RECIPE}; "
                                          "built-in: 1]."),
    max_sentences: Optional[int] = typer.Option(None, help="Keep the first N sentences per file "
                                                f"{_RECIPE}; built-in: all]."),
    skip_malformed: Optional[bool] = typer.Option(None, "--skip-malformed/--no-skip-malformed",
                                                  help="Report and skip malformed sentences "
                                                  f"{_RECIPE}; built-in: no].", show_default=False),
    allow_empty: Optional[bool] = typer.Option(None, "--allow-empty/--no-allow-empty",
                                               help="Build an empty source file as a 0-row file instead "
                                               f"of failing {_RECIPE}; built-in: no].", show_default=False),
) -> None:
    """Build the phonemic XTREME release: parquet per (task, lang, split), card and manifest."""
    from cjkv_phon.data.build import build_data
    from cjkv_phon.data.build_plan import BuildDataConfig
    from cjkv_phon.workers.lifetime import Interrupted, signals_as_interrupt
    from cjkv_phon.recipes import load_config

    overrides = dict(source=source, tasks=_csv(tasks), langs=_csv(langs), splits=_csv(splits),
                     scheme=scheme, layout=layout, out=out, workers=workers, max_sentences=max_sentences,
                     skip_malformed=skip_malformed, allow_empty=allow_empty)
    path = recipe or (DEFAULT_RECIPE if DEFAULT_RECIPE.is_file() else None)
    try:
        cfg = load_config(BuildDataConfig, path, overrides)
    except (ValueError, FileNotFoundError) as err:  # unknown task/lang/split or bad setting
        fail(str(err), code=2)
    try:
        with signals_as_interrupt(), build_progress(console()) as progress:
            report = build_data(cfg, on_file_done=progress.file_done, on_plan=progress.planned,
                                on_progress=progress.sentences)
    except KeyboardInterrupt as err:  # Ctrl-C, or SIGTERM/SIGHUP unwound the same way (Interrupted)
        signum = err.signum if isinstance(err, Interrupted) else signal.SIGINT
        fail(f"stopped by {signal.Signals(signum).name}; nothing was promoted, the workers are "
             "stopped and the staging folder is removed", code=128 + signum)
    except (OSError, ValueError, NothingToBuild) as err:  # bad or missing input (InputError), a
        fail(str(err))                                   # source that lacks a task, a full disk
    print_table(build_table(report))


@app.command("verify-data")
def verify_data_cli(
    release_dir: Path = typer.Argument(DEFAULT_RELEASE, help="Release folder with manifest.json."),
) -> None:
    """Check a built release against its manifest: missing, changed or unlisted files, stale staging."""
    from cjkv_phon.data.release import verify_release

    try:
        report = verify_release(release_dir)
    except (FileNotFoundError, InputError) as err:
        fail(str(err))
    for problem in report.problems:  # one line each, never wrapped: grep-able
        typer.echo(f"FAIL {problem}")
    typer.echo(f"{report.checked} files listed, {len(report.problems)} problems in {release_dir}")
    if not report.ok:
        raise typer.Exit(code=1)


def stats_tables(stats: dict[str, Any]) -> list[Table]:
    """Tables for :func:`compute_stats` output: sizes/statuses and the pairs' overlap."""
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
    json_out: Optional[str] = typer.Option(
        None, "--json", help="Write the statistics as JSON to this file, or to stdout with '-' "
                             "(then no tables) [default: tables only]."),
) -> None:
    """Sizes, statuses, IPA inventories and zh-vi / ja-ko phonemic vs orthographic overlap."""
    from cjkv_phon.atomic import write_json
    from cjkv_phon.data.stats import compute_stats  # loads panphon: only when asked for

    if not data_dir.is_dir():
        fail(f"no data folder {data_dir} (a release's data/ folder; run cjkv build-data)")
    try:
        stats = compute_stats(data_dir)
    except (FileNotFoundError, InputError) as err:
        fail(str(err))
    if json_out == "-":
        typer.echo(json.dumps(stats, ensure_ascii=False, indent=2, sort_keys=True))
        return
    if json_out is not None:
        try:
            write_json(json_out, stats)
        except (OSError, ValueError) as err:  # a folder or a full disk where the JSON goes
            fail(str(err))
    for table in stats_tables(stats):
        print_table(table)
