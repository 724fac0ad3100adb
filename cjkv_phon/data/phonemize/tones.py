"""Remove each language's tone marks from IPA.

The data keep tones, one convention per language, written in ``resources/phonemize/tones.csv``:
zh Chao tone letters (``xɑŋ˧˥``), vi viphoneme's tone numbers (``viət6``), ja pitch accent not marked,
ko no tones. ``strip_tones`` gives the segmental string, e.g. for inventories or a tone-free ablation.
"""

from __future__ import annotations

import re
from functools import lru_cache

from cjkv_phon.data.phonemize.tables import read_table, table_path
from cjkv_phon.errors import InputError
from cjkv_phon.schema import LANGS


@lru_cache(maxsize=1)
def _patterns() -> dict[str, re.Pattern[str] | None]:
    """Compiled tone pattern per language (None where the language marks no tone)."""
    out: dict[str, re.Pattern[str] | None] = {}
    for line, row in enumerate(read_table("tones.csv", ("lang", "convention"), ("pattern",)), start=2):
        if row["lang"] not in LANGS:
            raise InputError("unknown language", table_path("tones.csv"), line, row["lang"])
        try:
            out[row["lang"]] = re.compile(row["pattern"]) if row["pattern"] else None
        except re.error as err:
            raise InputError(f"bad regex: {err}", table_path("tones.csv"), line, row["pattern"]) from err
    missing = sorted(set(LANGS) - set(out))
    if missing:
        raise InputError(f"no tone convention for {missing}", table_path("tones.csv"))
    return out


def strip_tones(ipa: str, lang: str) -> str:
    """``ipa`` without ``lang``'s tone marks: ``strip_tones("in˧˥xɑŋ˧˥", "zh") == "inxɑŋ"``.

    Raises:
        ValueError: ``lang`` is not one of zh ja ko vi.
    """
    patterns = _patterns()
    if lang not in patterns:
        raise ValueError(f"unknown language {lang!r}; valid: {', '.join(LANGS)}")
    pattern = patterns[lang]
    return pattern.sub("", ipa) if pattern is not None else ipa
