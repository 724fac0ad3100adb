"""CLI commands for the bench stage (registered on the shared app)."""

from cjkv_phon.cli.app import app  # noqa: F401
