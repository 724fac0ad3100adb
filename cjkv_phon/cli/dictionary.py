"""CLI commands for the dictionary stage (registered on the shared app)."""

from cjkv_phon.cli.app import app  # noqa: F401
