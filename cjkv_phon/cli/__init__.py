"""Typer CLI ``cjkv``: thin commands that parse options and call the library.

Each stage's commands live in their own module (data, dictionary, train, bench) and register on ``app``.
"""

from cjkv_phon.cli.app import app
from cjkv_phon.cli import bench as _bench  # noqa: F401  (registers commands)
from cjkv_phon.cli import data as _data  # noqa: F401
from cjkv_phon.cli import dictionary as _dictionary  # noqa: F401
from cjkv_phon.cli import g2p as _g2p  # noqa: F401
from cjkv_phon.cli import phonemize as _phonemize  # noqa: F401
from cjkv_phon.cli import train as _train  # noqa: F401


def main() -> None:
    """Console-script entry point."""
    app()


__all__ = ["app", "main"]
