"""Katakana reading -> IPA, one string per kana character, so a reading splits over any tokens.

Why not epitran's ``jpn-Kana`` rules on each token's piece: PAN-X ja is one character per token,
and a piece such as ``ャ`` or ``ッ`` or ``ー`` means nothing alone (epitran copies ``ャ`` through and
writes ``ッ`` at a piece end as a glottal stop), while its rules written for whole words fire at
every piece start (``ɾ -> ɖ / # _`` turns every token-initial r into ɖ). So the reading of a whole
morpheme is converted here, and every kana character gets the part of the IPA it accounts for:

* units: the reading is split greedily into the longest units of epitran's ``jpn-Kana`` map (``キャ``,
  ``シェ``, ``キ``), completed by ``resources/phonemize/ja_kana_ipa.csv`` (lone small kana, ``ヴ``);
  a two-kana unit gives its vowel to the small kana and the rest to the first (``キャ`` -> ``kʲ`` |
  ``a``);
* ``ッ`` doubles the first consonant of the next unit (``kʲat`` | ``to``), and is ``ʔ`` before a vowel
  or at the end;
* ``ン`` by the next sound: ``m`` before p b m, ``n`` before t d n ɾ z ʑ (an affricate after ン), ``ɲ`` before ɲ,
  ``ŋ`` before k g, ``ɴ`` at the end, and the nasal glide ``ɰ̃`` before vowels, glides and fricatives
  (the WikiPron/Vance convention; epitran writes a nasal vowel copy there);
* ``ー``, and a vowel kana after the same vowel or ``イ`` after e and ``ウ`` after o (epitran's
  ``ei -> eː``, ``oɯ -> oː``), lengthen the vowel: ``ː``; a vowel kana after a long vowel is a vowel
  of its own (エーイチ ``eːit͡ɕi``). Readings are converted one morpheme at a
  time, so this never joins two words (unidic's ``pron`` already writes most long vowels ``ー``).

``next_kana`` is the first unit of the following reading, which decides ``ッ`` and ``ン`` at the end;
``prev_vowel`` the vowel the previous reading ends in, for a reading that is one vowel kana (MeCab
splits unknown kana words: いくど|う|おん, whose う lengthens the o before it).
"""

from __future__ import annotations

import csv
import io
import unicodedata
from functools import lru_cache
from importlib import resources

from cjkv_phon.data.phonemize.tables import read_table

_SMALL_VOWEL = {"ァ": "a", "ィ": "i", "ゥ": "ɯ", "ェ": "e", "ォ": "o", "ャ": "a", "ュ": "ɯ", "ョ": "o",
                "ヮ": "a"}
_VOWELS = "aiɯeo"
_KANA_VOWEL = {"ア": "a", "イ": "i", "ウ": "ɯ", "エ": "e", "オ": "o"}
# A vowel kana after these vowels lengthens them (エイ, オウ: epitran's and WikiPron's reading).
_DIPHTHONG_LONG = frozenset({("e", "イ"), ("o", "ウ")})
_LABIAL, _CORONAL, _VELAR = ("p", "b", "m"), ("t", "d", "n", "ɾ", "z", "ʑ"), ("k", "ɡ", "g")


@lru_cache(maxsize=1)
def units() -> tuple[dict[str, str], int]:
    """Kana unit -> IPA: epitran's ``jpn-Kana`` map, then our completions; and the longest unit."""
    text = (resources.files("epitran") / "data" / "map" / "jpn-Kana.csv").read_text(encoding="utf-8")
    table: dict[str, str] = {}
    for row in csv.DictReader(io.StringIO(text)):
        table.setdefault(row["Orth"], unicodedata.normalize("NFC", row["Phon"]))
    for row in read_table("ja_kana_ipa.csv", ("kana", "ipa"), ("note",)):
        table.setdefault(row["kana"], row["ipa"])
    return table, max(map(len, table))


def split_units(kana: str) -> list[str]:
    """Greedy longest-match units: ``"キャット"`` -> ``["キャ", "ッ", "ト"]`` (unknown chars alone)."""
    table, longest = units()
    out, i = [], 0
    while i < len(kana):
        for size in range(min(longest, len(kana) - i), 0, -1):
            if kana[i:i + size] in table or size == 1:
                out.append(kana[i:i + size])
                i += size
                break
    return out


def _nasal(next_ipa: str) -> str:
    """ン before a sound whose IPA starts ``next_ipa`` (``""``: nothing follows)."""
    if not next_ipa:
        return "ɴ"
    if next_ipa.startswith(_LABIAL):
        return "m"
    if next_ipa.startswith(("ɲ",)):
        return "ɲ"
    if next_ipa.startswith(_VELAR):
        return "ŋ"
    if next_ipa.startswith(_CORONAL):
        return "n"
    return "ɰ̃"


def _geminate(next_ipa: str) -> str:
    """ッ before a sound whose IPA starts ``next_ipa``: its first consonant, or ʔ."""
    if not next_ipa or next_ipa[0] in _VOWELS or next_ipa[0] in "jɰw":
        return "ʔ"
    return next_ipa[0]  # t of t͡ɕ, k of kʲ: the closure is what doubles


def kana_ipa(kana: str, next_kana: str = "", prev_vowel: str = "") -> list[str]:
    """One IPA string per character of the katakana reading ``kana`` (module docstring).

    Example:
        >>> kana_ipa("キャット")
        ['kʲ', 'a', 't', 'to']
    """
    table, _ = units()
    parts = split_units(kana)
    base = [table.get(u, "") for u in parts]
    nxt = table.get(split_units(next_kana)[0], "") if next_kana else ""
    out: list[str] = []
    last_vowel = prev_vowel  # the vowel just before the reading (lengthening across a split)
    for k, (unit, ipa) in enumerate(zip(parts, base)):
        follow = base[k + 1] if k + 1 < len(parts) else nxt
        if unit == "ッ":
            pieces = [_geminate(follow)]
        elif unit == "ン":
            pieces = [_nasal(follow)]
        elif unit == "ー":
            pieces = ["ː"]
        elif unit in _KANA_VOWEL and last_vowel and (
                last_vowel == _KANA_VOWEL[unit] or (last_vowel, unit) in _DIPHTHONG_LONG):
            pieces = ["ː"]
        elif not ipa:
            pieces = [unit]  # not kana the table knows: copied (the invariant marks it failed)
        elif len(unit) == 2 and unit[1] in _SMALL_VOWEL and ipa.endswith(_SMALL_VOWEL[unit[1]]) \
                and len(ipa) > len(_SMALL_VOWEL[unit[1]]):
            vowel = _SMALL_VOWEL[unit[1]]
            pieces = [ipa[:-len(vowel)], vowel]
        elif len(unit) == 2:
            pieces = [ipa, ""]
        else:
            pieces = [ipa]
        if len(pieces) < len(unit):
            pieces += [""] * (len(unit) - len(pieces))
        out.extend(pieces)
        # After a long vowel (ー, or a kana that lengthened one) a vowel kana is a vowel of its own
        # (エーイチ: the イ of 一 is i, not a second length mark).
        last_vowel = ipa[-1] if ipa and ipa[-1] in _VOWELS and pieces != ["ː"] else ""
    return out


def kana_hepburn(kana: str, next_kana: str = "") -> list[str]:
    """One Hepburn string per katakana character, spelled as :func:`katakana_to_hepburn` spells it.

    A two-kana unit's vowel letter goes to its small kana (``キャ`` -> ``ky`` | ``a``), ``ッ`` gets
    the consonant letter it doubles (``t`` before ``ch``), ``ー`` repeats the vowel letter.

    Example:
        >>> kana_hepburn("キャット")
        ['ky', 'a', 't', 'to']
    """
    from cjkv_phon.data.phonemize.kana import katakana_to_hepburn

    parts = split_units(kana)
    roman = [katakana_to_hepburn(u) for u in parts]
    nxt = katakana_to_hepburn(split_units(next_kana)[0]) if next_kana else ""
    out: list[str] = []
    for k, (unit, rom) in enumerate(zip(parts, roman)):
        follow = roman[k + 1] if k + 1 < len(parts) else nxt
        if unit == "ッ":
            pieces = ["t" if follow.startswith("ch") else follow[:1]
                      if follow[:1] and follow[0] not in "aiueo" else "tsu"]
        elif unit == "ー":
            previous = "".join(out)
            pieces = [previous[-1] if previous and previous[-1] in "aiueo" else "-"]
        elif len(unit) == 2 and len(rom) > 1 and rom[-1] in "aiueo":
            pieces = [rom[:-1], rom[-1]]
        else:
            pieces = [rom] + [""] * (len(unit) - 1)
        out.extend(pieces)
    return out


def final_vowel(kana: str) -> str:
    """The vowel a katakana reading ends in (``""`` after ン ッ or a consonant-final unit)."""
    ipa = "".join(kana_ipa(kana))
    return ipa[-1] if ipa and ipa[-1] in _VOWELS else ""
