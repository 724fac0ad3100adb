"""The one Typer application; each ``cli/<stage>.py`` module adds its commands to it.

Help is plain click help (``rich_markup_mode=None``): option texts are shown verbatim, so
``[default: ...]`` in a help string is not swallowed as markup, and defaults are always shown.
"""

import logging
from typing import Optional

import typer

import cjkv_phon

app = typer.Typer(
    name="cjkv",
    help="cjkv-phon: phonemic datasets, pivot dictionaries and PhoneXL training for CJKV transfer.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"show_default": True},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"cjkv {cjkv_phon.__version__}")
        raise typer.Exit()


@app.callback()
def _root(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug messages."),
          version: Optional[bool] = typer.Option(None, "--version", callback=_version, is_eager=True,
                                                 help="Print the version and exit.")) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s", force=True)
