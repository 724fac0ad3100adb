"""The one Typer application; each ``cli/<stage>.py`` module adds its commands to it."""

import logging

import typer

app = typer.Typer(
    name="cjkv",
    help="cjkv-phon: phonemic datasets, pivot dictionaries and PhoneXL training for CJKV transfer.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug messages.")) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s", force=True)
