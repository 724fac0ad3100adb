"""``cjkv eval-g2p``: transcription accuracy against pronunciation lexicons (thin: parses, calls
:func:`~cjkv_phon.data.g2p_eval.evaluate_g2p`, renders a table, writes JSON)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from cjkv_phon.cli.app import app


@app.command("eval-g2p")
def eval_g2p_cli(
    lexicon_dir: Path = typer.Option(Path("../shared/data/lexicons"), help="Folder of lexicon TSVs."),
    lexicons: Optional[str] = typer.Option(None, help="Comma-separated lexicon names [default: all]."),
    schemes: str = typer.Option("native", help="Comma-separated schemes: native,paper."),
    layouts: str = typer.Option("word,data", help="Comma-separated layouts: word,data."),
    limit: int = typer.Option(0, help="Entries sampled per lexicon (0: all of them)."),
    seed: int = typer.Option(0, help="Seed of the sample."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the full results as JSON."),
) -> None:
    """Phone and word error rates per language, scheme and token layout, with top confusions."""
    from cjkv_phon.atomic import write_json
    from cjkv_phon.data.g2p_eval import LEXICONS, G2PEvalConfig, evaluate_g2p

    split = lambda v: tuple(x.strip() for x in v.split(",") if x.strip())  # noqa: E731
    try:
        cfg = G2PEvalConfig(lexicon_dir=str(lexicon_dir),
                            lexicons=split(lexicons) if lexicons else tuple(LEXICONS),
                            schemes=split(schemes), layouts=split(layouts),
                            limit=limit or None, seed=seed)
    except ValueError as err:
        raise typer.BadParameter(str(err)) from None
    console = Console()
    try:
        report = evaluate_g2p(cfg, on_done=lambda key, s: console.print(
            f"{key}: PER {100 * s['per']:.2f}%  WER {100 * s['wer']:.1f}%  ({s['entries']} entries)"))
    except FileNotFoundError as err:
        console.print(f"[red]error:[/red] {err}")
        raise typer.Exit(code=1) from None
    table = Table("lexicon", "scheme", "layout", "entries", "PER", "WER", "top confusions",
                  title="cjkv eval-g2p (tones stripped, notation normalised on both sides)")
    for name, by_scheme in report["results"].items():
        for scheme, by_layout in by_scheme.items():
            for layout, s in by_layout.items():
                top = " ".join(f"{k}:{v}" for k, v in list(s["top_confusions"].items())[:5])
                table.add_row(name, scheme, layout, str(s["entries"]), f"{100 * s['per']:.2f}%",
                              f"{100 * s['wer']:.1f}%", top)
    console.print(table)
    if json_out is not None:
        write_json(json_out, report)
        console.print(f"written to {json_out}")
