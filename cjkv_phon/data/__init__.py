"""Sources -> sentences -> phonemizers -> aligned parquet (``build_data``) -> release card and manifest."""
