"""Latin-script romanization read as if it were Latin text: the paper scheme's "IPA" for ja and ko.

The seed paper romanized Japanese (pykakasi Hepburn) and Korean (Revised Romanization) and then turned
the romanization into IPA as Latin-script text, not with a Japanese or Korean phonology. We make that
rule explicit as the table ``resources/phonemize/latin_ipa.csv`` (letters and digraphs -> IPA, read
longest match first): ``shachou`` -> ``ʃat͡ʃou``, ``hangugeo`` -> ``hanɡuɡeo``. The same table gives
the ``fallback`` IPA of foreign (non-Vietnamese) Latin words in Vietnamese text.

Letters are lower-cased; a letter with a diacritic the table lacks is read as its base letter
(``é`` -> ``e``); anything else (digits, hyphens, apostrophes) is copied as written.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from cjkv_phon.data.phonemize.tables import read_table


@lru_cache(maxsize=1)
def _rules() -> tuple[dict[str, str], int]:
    """The grapheme -> IPA table and its longest grapheme length."""
    table = {row["grapheme"]: row["ipa"]
             for row in read_table("latin_ipa.csv", ("grapheme", "ipa"), ("note",))}
    return table, max(map(len, table))


def _base_letter(ch: str) -> str:
    """``ch`` without its combining marks (``ế`` -> ``e``); ``ch`` itself if it has none."""
    return unicodedata.normalize("NFD", ch)[0]


def latin_to_ipa(text: str) -> str:
    """Read Latin-script ``text`` letter by letter with the table (longest match first).

    Example:
        >>> latin_to_ipa("Tsuchiya")
        't͡sut͡ʃija'
    """
    table, longest = _rules()
    text = unicodedata.normalize("NFC", text).lower()
    out: list[str] = []
    i = 0
    while i < len(text):
        for size in range(min(longest, len(text) - i), 0, -1):
            ipa = table.get(text[i:i + size])
            if ipa is not None:
                out.append(ipa)
                i += size
                break
        else:
            ch = text[i]
            out.append(table.get(_base_letter(ch), ch))
            i += 1
    return "".join(out)
