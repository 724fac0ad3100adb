"""``cjkv phonemize``: transcribe any CJKV text (a thin shell over :func:`cjkv_phon.corpus.phonemize.phonemize`).

Examples:
    echo "银行行长" | cjkv phonemize --lang zh
    cjkv phonemize corpus.txt --lang ja --tokenize words -o corpus.jsonl --workers 2
    cjkv phonemize tokens.parquet --lang vi -o out.parquet --engine ray --ray-address auto

The library is imported inside the command, so ``cjkv --help`` never loads the phonemizers.
"""

from __future__ import annotations

import signal
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from cjkv_phon.cli.app import app
from cjkv_phon.cli.console import fail


def _one_line(err: BaseException) -> str:
    """An error as one line: an ``OSError`` with its path and reason (``str`` of one may lack the
    path, and Arrow's carry a C++ source location on further lines)."""
    if isinstance(err, OSError) and err.strerror:
        where = f"{err.filename}: " if err.filename else ""
        return f"{where}{err.strerror}"
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


def summary_table(report) -> Table:  # noqa: ANN001  (PhonemizeReport; imported lazily)
    """Sentences, tokens and tokens per status, with the share of each status."""
    table = Table("sentences", "tokens", *report.status_counts, "seconds",
                  title=f"cjkv phonemize -> {report.output or 'stdout'} ({report.format}, "
                        f"{report.tokenize}, {report.engine})")
    share = lambda k: f"{report.status_counts[k]} ({report.status_counts[k] / report.tokens:.1%})" \
        if report.tokens else "0"  # noqa: E731
    table.add_row(str(report.sentences), str(report.tokens), *(share(k) for k in report.status_counts),
                  f"{report.timings['total_s']:.1f}")
    return table


@app.command("phonemize")
def phonemize_cli(
    input: str = typer.Argument("-", help="Text lines, .jsonl, .parquet (file or folder of shards), "
                                          "a datasets save_to_disk folder, or - for stdin."),
    lang: str = typer.Option(..., "--lang", "-l", help="Language of the text: zh, ja, ko or vi."),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Output file (.jsonl, .parquet, "
                                         ".tsv) [default: TSV on stdout]."),
    fmt: Optional[str] = typer.Option(None, "--format", help="jsonl | parquet | tsv [default: from "
                                      "the output's suffix]."),
    scheme: str = typer.Option("native", help="Transcription scheme: native | paper."),
    tokenize: Optional[str] = typer.Option(None, help="chars | words | pretokenized [default: "
                                           "pretokenized for a tokens column, else chars for zh/ja, "
                                           "words for ko/vi]."),
    column: Optional[str] = typer.Option(None, help="Sentence column of a table input [default: "
                                         "tokens if present, else text]."),
    split: Optional[str] = typer.Option(None, help="Split of a DatasetDict folder."),
    engine: str = typer.Option("local", help="local | ray."),
    workers: int = typer.Option(1, help="Local worker processes (output is the same for any number)."),
    start_method: str = typer.Option("auto", help="How local workers start: auto (fork where safe, "
                                     "else spawn) | fork | spawn."),
    batch_size: int = typer.Option(500, help="Sentences per batch."),
    ray_address: Optional[str] = typer.Option(None, help="Existing Ray cluster (e.g. auto, "
                                              "ray://head:10001) [default: a new local Ray]."),
    ray_cpus: Optional[int] = typer.Option(None, help="CPUs of the local Ray [default: all]."),
    overwrite_columns: bool = typer.Option(False, "--overwrite-columns", help="Let the transcription "
                                           "replace input columns named ipa, romanized, status (or tokens "
                                           "when it is not the sentence column) [default: an error]."),
    allow_empty: bool = typer.Option(False, "--allow-empty", help="Accept an input without sentences "
                                     "[default: an error]."),
) -> None:
    """Transcribe text into tokens, IPA, Romanized and status, with build-data's readings."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from cjkv_phon.corpus.phonemize import PhonemizeConfig, phonemize
    from cjkv_phon.errors import InputError
    from cjkv_phon.workers.lifetime import Interrupted, signals_as_interrupt

    try:
        cfg = PhonemizeConfig(lang=lang, input=input, output=output, format=fmt, scheme=scheme,
                              tokenize=tokenize, column=column, split=split, engine=engine,
                              workers=workers, start_method=start_method, batch_size=batch_size,
                              ray_address=ray_address, ray_cpus=ray_cpus,
                              overwrite_columns=overwrite_columns, allow_empty=allow_empty)
    except ValueError as err:  # unknown language, scheme, format...: a usage error
        fail(str(err), code=2)
    console = Console(stderr=True)  # stdout may be the output itself
    columns = (TextColumn("phonemizing"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        # Refreshed per batch, not by rich's timer thread: with no other thread running, the
        # local engine can fork its workers from a parent that has set up once (workers/pool.py).
        # SIGTERM/SIGHUP unwind like Ctrl-C: the workers are killed and the temporary output removed.
        with signals_as_interrupt(), \
                Progress(*columns, console=console, transient=True, auto_refresh=False,
                         disable=not console.is_terminal) as progress:   # no stray line off a terminal
            bar = progress.add_task("sentences", total=None)

            def advance(n: int) -> None:
                progress.advance(bar, n)
                progress.refresh()

            report = phonemize(cfg, on_batch=advance)
    except KeyboardInterrupt as err:  # Ctrl-C, or SIGTERM/SIGHUP unwound the same way (Interrupted)
        signum = err.signum if isinstance(err, Interrupted) else signal.SIGINT
        unwritten = "" if output is None else f"; {output} is not written"
        fail(f"stopped by {signal.Signals(signum).name}; the workers are stopped{unwritten}",
             code=128 + signum)
    except (OSError, InputError, ValueError, RuntimeError, OverflowError) as err:
        # OSError: a missing input, a full disk, an output whose folder is a file, a device that
        # refuses writes; each is one line naming the path (never a traceback).
        fail(_one_line(err))
    console.print(summary_table(report))
