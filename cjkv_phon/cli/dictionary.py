"""CLI commands for the dictionary stage (registered on the shared app).

``cjkv build-dict`` is a thin shell over :func:`cjkv_phon.dictionary.build.build_dict`: it reads the
recipe, applies the flags, builds, and prints a summary table (plus the coverage table with --report).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from cjkv_phon.cli.app import app
from cjkv_phon.dictionary.build import BuildDictConfig, BuildDictReport, build_dict
from cjkv_phon.dictionary.pivot import VALID_PAIRS
from cjkv_phon.recipes import load_config

DEFAULT_RECIPE = Path("pipelines/build-dict.yaml")


def summary_tables(report: BuildDictReport) -> list[Table]:
    """Rich tables for a build: per-pair statistics, MUSE scripts, and coverage when present."""
    folders = sorted({str(p.parquet.parent) for p in report.pairs})
    pairs = Table("pair", "entries", "sources", "targets", "transl./source",
                  title=f"pivot dictionaries in {', '.join(folders)}")
    for p in report.pairs:
        pairs.add_row(p.pair, str(p.entries), str(p.sources), str(p.targets),
                      f"{p.mean_translations:.2f}")
    scripts = Table("MUSE file", "traditional", "simplified", "both", "mixed", "unknown",
                    title="script of zh/ja MUSE words (hanzidentifier)")
    for name, counts in report.script_counts.items():
        scripts.add_row(name, *(str(counts[k]) for k in ("traditional", "simplified", "both",
                                                         "mixed", "unknown")))
    tables = [pairs, scripts]
    if report.coverage:
        cols = ("token_match", "span_match", "token_match_folded", "span_match_folded")
        cov = Table("task", "pair", "lang", "split", "tokens", "token", "span", "token+fold",
                    "span+fold", title=f"dataset tokens covered by dictionary keys "
                                       f"({report.coverage_path})")
        for row in report.coverage:
            cov.add_row(row["task"], row["pair"], row["lang"], row["split"], str(row["tokens"]),
                        *(f"{row[c]:.1%}" for c in cols))
        tables.append(cov)
    return tables


@app.command("build-dict")
def build_dict_cli(
    pair: Optional[list[str]] = typer.Option(None, "--pair", help="Pair such as zh-vi (repeatable)."),
    all_pairs: bool = typer.Option(False, "--all", help=f"All 12 pairs: {' '.join(VALID_PAIRS)}."),
    recipe: Optional[Path] = typer.Option(None, help=f"Recipe (default: {DEFAULT_RECIPE} if present)."),
    scheme: Optional[str] = typer.Option(None, help="Transcription scheme: native | paper."),
    muse_dir: Optional[str] = typer.Option(None, help="Folder of MUSE en-X.txt / X-en.txt files."),
    out: Optional[str] = typer.Option(None, "--out", help="Output folder."),
    union: Optional[bool] = typer.Option(None, "--union/--no-union", help="Also pivot via X-en files."),
    keep_identical: Optional[bool] = typer.Option(None, "--keep-identical", help="Keep aaa -> aaa pairs."),
    keep_noise: Optional[bool] = typer.Option(None, "--keep-noise",
                                              help="Keep targets equal to the pivot or not in the target script."),
    skip_malformed: Optional[bool] = typer.Option(None, "--skip-malformed", help="Skip bad MUSE lines."),
    max_entries: Optional[int] = typer.Option(None, help="Keep the N best-supported entries."),
    report: Optional[bool] = typer.Option(None, "--report", help="Also write the coverage report."),
) -> None:
    """Build English-pivot MUSE dictionaries with transcriptions (parquet + paper-layout TSV)."""
    pairs = VALID_PAIRS if all_pairs else (tuple(pair) if pair else None)
    overrides = dict(pairs=pairs, scheme=scheme, muse_dir=muse_dir, out_dir=out, use_reverse=union,
                     keep_identical=keep_identical, keep_noise=keep_noise, skip_malformed=skip_malformed,
                     max_entries=max_entries, report=report)
    path = recipe or (DEFAULT_RECIPE if DEFAULT_RECIPE.is_file() else None)
    try:
        cfg = load_config(BuildDictConfig, path, overrides)
    except ValueError as err:  # unknown pair or bad setting: a usage error, not a crash
        raise typer.BadParameter(str(err)) from None
    result = build_dict(cfg)
    for table in summary_tables(result):
        Console().print(table)
