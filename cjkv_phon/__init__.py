"""cjkv-phon: cross-lingual transfer among Chinese, Japanese, Korean and Vietnamese through phonemic transcription.

Data flow, one subpackage per stage (a stage never imports from a later one):

    data/        XTREME PAN-X / UDPOS / CoNLL-U -> sentences -> phonemizers -> aligned parquet
    dictionary/  MUSE -> English-pivot dictionary -> span code-switching
    training/    parquet + dictionary -> batches -> model -> losses -> trainer -> results JSON
    bench/       systems (one file each) -> grid runner -> leaderboard
"""

__version__ = "0.1.0"
