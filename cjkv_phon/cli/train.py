"""CLI commands for the train stage (registered on the shared app)."""

from cjkv_phon.cli.app import app  # noqa: F401
