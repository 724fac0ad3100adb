"""CLI commands for the dictionary stage (registered on the shared app).

``cjkv build-dict`` is a thin shell over :func:`cjkv_phon.dictionary.build.build_dict`: it reads the
recipe, applies the flags, builds, and prints a summary table (plus the coverage table with --report).
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from typing import TYPE_CHECKING

import typer
from rich.table import Table

from cjkv_phon.cli.app import app
from cjkv_phon.cli.console import fail, print_table

if TYPE_CHECKING:
    from cjkv_phon.dictionary.build import BuildDictReport

DEFAULT_RECIPE = Path("pipelines/build-dict.yaml")
R = "[default: the recipe's"


def summary_tables(report: "BuildDictReport") -> list[Table]:
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
    pair: Optional[list[str]] = typer.Option(None, "--pair", help=f"Pair such as zh-vi (repeatable) {R}: zh-vi, ja-ko]."),
    all_pairs: bool = typer.Option(False, "--all", help="All 12 ordered pairs of zh, ja, ko, vi."),
    recipe: Optional[Path] = typer.Option(None, help=f"Recipe [default: {DEFAULT_RECIPE} if present]."),
    scheme: Optional[str] = typer.Option(None, help=f"Transcription scheme: native | paper {R}: native]."),
    muse_dir: Optional[str] = typer.Option(None, help=f"Folder of MUSE en-X.txt / X-en.txt files {R}: ../shared/data/muse]."),
    out: Optional[str] = typer.Option(None, "--out", help=f"Output folder {R}: build/dictionaries]."),
    union: Optional[bool] = typer.Option(None, "--union/--no-union", help=f"Also pivot via X-en files {R}: no].", show_default=False),
    keep_identical: Optional[bool] = typer.Option(None, "--keep-identical", help=f"Keep aaa -> aaa pairs {R}: no].", show_default=False),
    keep_noise: Optional[bool] = typer.Option(
        None, "--keep-noise", help=f"Keep targets equal to the pivot or not in the target script, "
        f"and sources not in the source script (Latin-script zh/ja words) {R}: no].",
        show_default=False),
    skip_malformed: Optional[bool] = typer.Option(None, "--skip-malformed", help=f"Skip bad MUSE lines {R}: no].", show_default=False),
    max_entries: Optional[int] = typer.Option(None, help=f"Keep the N best-supported entries {R}: all]."),
    report: Optional[bool] = typer.Option(None, "--report", help=f"Also write the coverage report {R}: no].", show_default=False),
) -> None:
    """Build English-pivot MUSE dictionaries with transcriptions (parquet + paper-layout TSV)."""
    from cjkv_phon.dictionary.build import BuildDictConfig, build_dict
    from cjkv_phon.dictionary.pivot import VALID_PAIRS
    from cjkv_phon.recipes import load_config

    pairs = VALID_PAIRS if all_pairs else (tuple(pair) if pair else None)
    overrides = dict(pairs=pairs, scheme=scheme, muse_dir=muse_dir, out_dir=out, use_reverse=union,
                     keep_identical=keep_identical, keep_noise=keep_noise, skip_malformed=skip_malformed,
                     max_entries=max_entries, report=report)
    path = recipe or (DEFAULT_RECIPE if DEFAULT_RECIPE.is_file() else None)
    try:
        cfg = load_config(BuildDictConfig, path, overrides)
    except (ValueError, FileNotFoundError) as err:  # unknown pair or bad setting: a usage error
        fail(str(err), code=2)
    try:
        result = build_dict(cfg)
    except (ValueError, OSError) as err:  # InputError is a ValueError: file, line and value
        fail(f"{err.filename}: {err.strerror}" if isinstance(err, OSError) and err.strerror else str(err))
    for table in summary_tables(result):
        print_table(table)
