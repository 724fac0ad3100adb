"""Kana helpers for Japanese: morae, and splitting a word's reading over its characters.

PAN-X ja gives one character per token, so the reading of a multi-character word (社長, read シャチョウ)
must be split over its tokens (社 | 長). :func:`align_morae` does it with a small dynamic programme
over morae (not kana: ``シャ`` is one mora and never splits):

* a kana character must take exactly its own mora (``い`` in 長い takes イ);
* a kanji prefers a span that is one of its known readings (its reading as a word on its own, that
  reading's rendaku-voiced and geminated forms), cost 0 — 社 alone reads シャ, so 社長 splits as
  シャ | チョウ although 長 alone reads ナガ;
* otherwise a kanji costs 2 plus the distance from a proportional share of the morae (jukujikun such
  as 大人 オトナ, 今日 キョウ split by length), and a character with no mora at all costs 10;
* a kanji's span that would start with the second half of a long vowel (``ー``, ``ウ`` after an o or
  u mora, ``イ`` after an e mora: 路上 ロジョウ, 指定 シテイ), or with ``ン`` or ``ッ`` (no reading
  starts so), costs :data:`LONG_VOWEL_START` more, so the long vowel stays with the character whose
  syllable it lengthens (路 | 上 ロ | ジョウ, not
  ロジョ | ウ); a reading that does start so (子牛 コ | ウシ) is still found by the zero-cost pass;
* ties give the extra mora to the earlier character (大人 -> オト | ナ).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import Callable

from cjkv_phon.data.phonemize.tables import read_table

_HIRAGANA_FIRST, _HIRAGANA_LAST, _KATAKANA_SHIFT = 0x3041, 0x3096, 0x60
# Combining dakuten and handakuten: カ + ゛ composes to ガ, ホ + ゜ to ポ (rendaku, 日本 ニッポン).
_VOICING_MARKS = ("\u3099", "\u309a")
_GEMINATING_ENDS = frozenset("ツクチキ")  # 日 ニチ -> ニッ in 日本 ニッポン, 学 ガク -> ガッ in 学校
ITERATION_MARK = "々"
_MAX_SPAN = 6  # morae one character can take (承 uketamawa(ru) is the long end)
# Extra cost of a kanji span that starts inside a long vowel (module docstring): more than the
# proportional share can give back (a tie is decided by 0.5), less than a kana's mismatch (4).
LONG_VOWEL_START = 3.0
# (vowel of a mora, next mora) pairs that read as one long vowel: トウ, スウ, ケイ.
_LONG_PAIRS = frozenset({("o", "ウ"), ("u", "ウ"), ("e", "イ")})
_NEVER_FIRST = frozenset({"ー", "ン", "ッ"})


@lru_cache(maxsize=1)
def small_kana() -> frozenset[str]:
    """Kana that join the mora before them (``resources/phonemize/ja_kana.csv``, role ``small``)."""
    rows = read_table("ja_kana.csv", ("kana", "role"), ("note",))
    return frozenset(r["kana"] for r in rows if r["role"] == "small")


def to_katakana(text: str) -> str:
    """Hiragana -> katakana (the blocks are parallel, 0x60 apart); other characters unchanged."""
    return "".join(chr(ord(c) + _KATAKANA_SHIFT) if _HIRAGANA_FIRST <= ord(c) <= _HIRAGANA_LAST
                   else c for c in text)


def morae(kana: str) -> list[str]:
    """Split a katakana reading into morae: ``"シャチョー"`` -> ``["シャ", "チョ", "ー"]``."""
    small = small_kana()
    out: list[str] = []
    for ch in kana:
        if out and ch in small:
            out[-1] += ch
        else:
            out.append(ch)
    return out


def reading_variants(reading: str) -> frozenset[str]:
    """A kanji reading and its sandhi forms inside words.

    Rendaku voicing of the first mora (ホン -> ボン, ポン) and gemination of a final ツクチキ (ニチ -> ニッ).
    """
    out = {reading}
    for mark in _VOICING_MARKS:
        voiced = unicodedata.normalize("NFC", reading[:1] + mark)
        if len(voiced) == 1:
            out.add(voiced + reading[1:])
    for form in list(out):
        if len(form) > 1 and form[-1] in _GEMINATING_ENDS:
            out.add(form[:-1] + "ッ")
    return frozenset(out)


def _is_kana(char: str) -> bool:
    return "\u3041" <= char <= "\u30ff"


def mora_vowel(mora: str) -> str:
    """The vowel letter a katakana mora ends in (``"ショ"`` -> ``"o"``; ``""`` for ン ッ ー)."""
    roman = katakana_to_hepburn(mora) if mora not in ("ー", "ッ", "ン") else ""
    return roman[-1] if roman[-1:] in tuple("aiueo") else ""


def starts_in_long_vowel(previous: str, mora: str) -> bool:
    """True when ``mora`` after ``previous`` cannot begin a kanji's reading: the second half of a
    long vowel (ー, トウ, ケイ), or ン / ッ, which no reading starts with."""
    return mora in _NEVER_FIRST or (mora_vowel(previous), mora) in _LONG_PAIRS


def _cost(kana: str | None, piece: str, size: int, share: float, readings: frozenset[str]) -> float:
    """Cost of giving one character (its katakana if it is kana, else its readings) ``piece``."""
    if size == 0:
        return 10.0
    if kana is not None:  # a kana character reads itself
        return 0.0 if kana == piece else 4.0 + abs(size - 1)
    return 0.0 if piece in readings else 2.0 + abs(size - share)


def _exact(surface: str, mora_list: list[str], options: list[frozenset[str]],
           i: int = 0, j: int = 0) -> list[tuple[int, int]] | None:
    """A zero-cost alignment (every character takes one of its own readings), longest first, or None.

    Most words split this way (社長, 日本), so the full programme below runs only for the rest.
    """
    if i == len(surface):
        return [] if j == len(mora_list) else None
    for size in range(min(_MAX_SPAN, len(mora_list) - j), 0, -1):
        if "".join(mora_list[j:j + size]) in options[i]:
            rest = _exact(surface, mora_list, options, i + 1, j + size)
            if rest is not None:
                return [(j, j + size), *rest]
    return None


def align_morae(surface: str, mora_list: list[str],
                candidates: Callable[[str], frozenset[str]]) -> list[tuple[int, int]]:
    """Give each character of ``surface`` a contiguous span ``[a, b)`` of ``mora_list``.

    Example:
        >>> align_morae("社長", morae("シャチョウ"), lambda c: {"社": {"シャ"}}.get(c, frozenset()))
        [(0, 1), (1, 3)]
    """
    options = [frozenset({to_katakana(c)}) if _is_kana(c) else frozenset(candidates(c)) for c in surface]
    for i in range(1, len(surface)):
        if surface[i] == ITERATION_MARK:  # 々 repeats the character before it (津々 シン | シン)
            options[i] = options[i - 1]
    exact = _exact(surface, mora_list, options)
    if exact is not None:
        return exact
    return _programme(surface, mora_list, options)


def _programme(surface: str, mora_list: list[str],
               options: list[frozenset[str]]) -> list[tuple[int, int]]:
    """The minimum-cost alignment (module docstring), by dynamic programming over (chars, morae)."""
    n, k = len(surface), len(mora_list)
    share = k / max(n, 1)
    kana = [to_katakana(c) if _is_kana(c) else None for c in surface]
    # With enough morae, every character takes at least one (a character left silent is what the
    # fallback route is for) and leaves one for each character after it.
    least = 1 if k >= n else 0
    inf = float("inf")
    best = [[inf] * (k + 1) for _ in range(n + 1)]
    back = [[0] * (k + 1) for _ in range(n + 1)]
    best[0][0] = 0.0
    for i in range(n):
        for j in range(k + 1):
            if best[i][j] == inf:
                continue
            most = min(_MAX_SPAN, k - j - least * (n - i - 1))
            # A kanji span starting inside a long vowel (module docstring).
            inside = kana[i] is None and 0 < j < k and starts_in_long_vowel(mora_list[j - 1], mora_list[j])
            for size in range(least, most + 1):
                piece = "".join(mora_list[j:j + size])
                cost = best[i][j] + _cost(kana[i], piece, size, share, options[i])
                if inside and size:
                    cost += LONG_VOWEL_START
                if cost <= best[i + 1][j + size]:  # "<=": a later start wins, i.e. earlier chars longer
                    best[i + 1][j + size], back[i + 1][j + size] = cost, j
    if best[n][k] == inf:  # more morae than _MAX_SPAN per character: plain proportional split
        sizes = [k // n + (1 if i < k % n else 0) for i in range(n)]
        starts = [sum(sizes[:i]) for i in range(n)]
        return [(a, a + size) for a, size in zip(starts, sizes)]
    spans, j = [], k
    for i in range(n, 0, -1):
        spans.append((back[i][j], j))
        j = back[i][j]
    return spans[::-1]


@lru_cache(maxsize=1)
def _hepburn_table() -> dict[str, str]:
    """Katakana mora -> Hepburn (``resources/phonemize/ja_hepburn.csv``, pykakasi 2.3.0's readings)."""
    return {row["kana"]: row["hepburn"] for row in read_table("ja_hepburn.csv", ("kana", "hepburn"))}


def katakana_to_hepburn(kana: str) -> str:
    """Hepburn romaji of a katakana reading, spelled as pykakasi spells it (long vowels doubled).

    A table lookup per mora instead of a pykakasi call (pykakasi also computes Kunrei and passport
    forms and runs its kanji dictionary: ~30x slower). ッ doubles the next consonant (``t`` before
    ``ch``: マッチ ``matchi``), ー repeats the letter before it (トーキョー ``tookyoo``), ン before a
    vowel is ``n'`` (ケンイチ ``ken'ichi``); a character the table lacks is copied.

    Example:
        >>> katakana_to_hepburn("ニッポン")
        'nippon'
    """
    table = _hepburn_table()
    out: list[str] = []
    pending_geminate = False
    i = 0
    while i < len(kana):
        size = 2 if kana[i:i + 2] in table else 1
        chunk = kana[i:i + size]
        i += size
        if chunk == "ッ":
            if pending_geminate:
                out.append("tsu")
            pending_geminate = True
            continue
        if chunk == "ー":
            roman = out[-1][-1] if out and out[-1] else "-"
        else:
            roman = table.get(chunk, chunk)
        if out and out[-1] == "n" and kana[i - size - 1:i - size] == "ン" and roman[:1] in tuple("aiueo"):
            out.append("'")  # syllabic n before a vowel: ken'ichi (pykakasi writes kinya, not kin'ya)
        if pending_geminate:
            geminate = "t" if roman.startswith("ch") else roman[0] if roman[:1] not in "aiueo" else ""
            out.append(geminate if geminate else "tsu")
            pending_geminate = False
        out.append(roman)
    if pending_geminate:
        out.append("tsu")
    return "".join(out)
