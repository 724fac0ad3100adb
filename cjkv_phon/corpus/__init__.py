"""``cjkv phonemize``: read any CJKV corpus, transcribe it on local processes or Ray, write it."""
