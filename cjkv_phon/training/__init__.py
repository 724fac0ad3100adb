"""Parquet + dictionary -> batches -> model -> losses -> trainer -> results JSON."""
