"""MUSE -> English-pivot bilingual dictionaries with transcriptions -> span code-switching."""
