"""CLI commands for the data stage (registered on the shared app)."""

from cjkv_phon.cli.app import app  # noqa: F401
