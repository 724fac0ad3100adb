"""Chinese: hanzi -> numbered pinyin -> IPA (Chao tone letters), in two schemes.

``native``: readings come from pypinyin over the whole sentence, so a polyphone is read from its
phrase (行 is *hang2* in 银行 and *xing2* in 行走; 重 is *zhong4* in 重要, *chong2* in 重复). PAN-X zh
is one character per token and mixes Traditional and Simplified script (SOURCES.md), while pypinyin's
phrase table is Simplified (銀行 alone would read *yin2 xing2*). So the sentence is first folded
character by character to Simplified with OpenCC's ``TSCharacters`` table, using only the characters
that have exactly one Simplified form (乾 -> 干/乾 is left alone), which keeps offsets 1:1. Phrases
(words of two or more characters after pypinyin's segmentation) are read from the folded text; a
character standing alone is read from its original form, so a fold that merges two characters
(髮 fà and 發 fā both -> 发) does not change a single character's reading. Pinyin -> IPA is
dragonmapper's table.

Tone sandhi of 一 and 不 is applied by rule everywhere (:func:`yi_bu_sandhi`: 不对 bu2, 一样 yi2,
一天 yi4, 第一 yi1), as dictionaries write them in phrases; other tones are citation tones (no
third-tone sandhi).

``paper``: the seed paper's chain, character by character with dragonmapper (its hanzi -> pinyin
gives each character's most frequent reading, so 行 is always *xing2*), then dragonmapper's IPA.

Romanized (both schemes): pinyin with tone numbers, neutral tone 5, ü written ``ü`` (``lü4``, ``le5``),
one syllable per character, a multi-character token's syllables joined without a separator (the tone
digits mark the boundaries). IPA: one dragonmapper syllable per character, joined the same way
(``yin2hang2`` -> ``in˧˥xɑŋ˧˥``). Tones are Chao tone letters (see ``strip_tones``).
A syllable dragonmapper cannot map (interjections such as *m2*, *ng4*, *ê1*) gets the Latin-letter
reading of its pinyin, status ``fallback``; a character with no pinyin at all is ``failed``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import metadata
from typing import Callable

from dragonmapper import hanzi as dm_hanzi
from dragonmapper import transcriptions as dm_trans
from pypinyin import Style, pinyin
from pypinyin.seg.mmseg import seg as mmseg

from cjkv_phon.data.phonemize.base import Phonemizer
from cjkv_phon.data.phonemize.latin import latin_to_ipa
from cjkv_phon.data.phonemize.registry import register
from cjkv_phon.data.phonemize.scripts import (STATUS_FALLBACK, STATUS_OK, Piece, combine, failed,
                                              passthrough, script_of, script_pattern)
from cjkv_phon.data.phonemize.tables import opencc_char_map
from cjkv_phon.data.phonemize.tokens import (PASSTHROUGH_SCRIPTS, Span, TokenwisePhonemizer,
                                             assemble)
from cjkv_phon.data.phonemize.transcription import Transcription

# A numbered pinyin syllable as pypinyin/dragonmapper write it; anything else is "no pinyin".
_NUMBERED = re.compile(r"^[a-zü]+[1-5]?$")


def _no_pinyin(chars: str) -> list[list[str]]:
    """pypinyin ``errors`` callback: one empty reading per character, so outputs stay 1:1."""
    return [[""] for _ in chars]


def _pinyin_of(text: str) -> list[str]:
    """Numbered pinyin per character of ``text`` (``""`` where a character has none)."""
    out = [syl[0] for syl in pinyin(text, style=Style.TONE3, neutral_tone_with_five=True,
                                    v_to_u=True, errors=_no_pinyin)]
    out = [s if _NUMBERED.match(s) else "" for s in out]
    if len(out) == len(text):
        return out
    # pypinyin did not give one reading per character: read the characters one by one instead.
    return [_pinyin_of(c)[0] for c in text] if len(text) > 1 else [""]


# Numerals: 一 next to one of these (or after 第) is counted and keeps its citation tone yi1.
_NUMERALS = frozenset("零〇一二三四五六七八九十百千万萬亿億两兩第")


def yi_bu_sandhi(text: str, readings: list[str]) -> list[str]:
    """The tone sandhi of 一 and 不 applied by rule, everywhere (pypinyin's phrase table has it only
    for the phrases it lists: 不对 bu2 but 不去 bu4, 一样 yi1).

    不 is bu2 before a 4th tone, else bu4; 一 is yi2 before a 4th (or neutral) tone and yi4 before
    tones 1-3, except when counted (next to a numeral, after 第) or with no syllable after it: yi1.
    The convention of Mandarin dictionaries' phrase entries (ipa-dict: 一样 i˧˥jɑŋ˥˩); third-tone
    sandhi is not applied (citation tones).
    """
    out = list(readings)
    for i, char in enumerate(text):
        if char not in "一不" or not out[i]:
            continue
        nxt = out[i + 1] if i + 1 < len(out) else ""
        tone = nxt[-1] if nxt[-1:].isdigit() else ""
        if char == "不":
            out[i] = "bu2" if tone == "4" else "bu4"
            continue
        counted = (i and text[i - 1] in _NUMERALS) or (i + 1 < len(text) and text[i + 1] in _NUMERALS)
        if counted or not tone:
            out[i] = "yi1"
        else:
            out[i] = "yi2" if tone in "45" else "yi4"
    return out


def syllable_piece(syllable: str) -> Piece:
    """One numbered pinyin syllable as IPA (``ok``), or its Latin-letter reading (``fallback``)."""
    try:
        return Piece(dm_trans.pinyin_syllable_to_ipa(syllable), syllable, STATUS_OK)
    except ValueError:
        return Piece(latin_to_ipa(syllable), syllable, STATUS_FALLBACK)


def _memoise(func: Callable[[str], object], cache: bool) -> Callable[[str], object]:
    """``func`` with an unbounded per-instance cache when caching is on (units repeat a lot)."""
    return lru_cache(maxsize=None)(func) if cache else func


@register("native", "zh")
class NativeZh(Phonemizer):
    """Phrase-aware pypinyin readings over the whole sentence, then dragonmapper IPA."""

    def __init__(self, cache: bool = True) -> None:
        super().__init__(cache)
        self._fold = opencc_char_map("TSCharacters.txt")
        self._phrase = _memoise(_pinyin_of, cache)
        self._syllable = _memoise(syllable_piece, cache)
        self._piece = lru_cache(maxsize=None)(self._char_piece) if cache else self._char_piece

    def versions(self) -> dict[str, str]:
        return {name: metadata.version(name) for name in
                ("pypinyin", "dragonmapper", "opencc-python-reimplemented")}

    def _transcribe(self, tokens: tuple[str, ...]) -> Transcription:
        """Read the joined sentence, then give each character's syllable back to its token."""
        text = "".join(tokens)
        readings = self.readings(text)
        spans: list[Span] = [(i, i + 1, self._piece(char, syllable))
                             for i, (char, syllable) in enumerate(zip(text, readings))]
        return assemble(tokens, spans)

    def readings(self, text: str) -> list[str]:
        """Numbered pinyin per character of a sentence, from its phrases (``""``: no pinyin).

        Each run of hanzi is segmented by pypinyin's own maximum-matching segmenter (what
        ``pypinyin.pinyin`` does inside, without its slower per-character script split).

        Example:
            >>> NativeZh().readings("去銀行")
            ['qu4', 'yin2', 'hang2']
        """
        folded = text.translate(self._fold)
        out = [""] * len(text)
        for run in script_pattern("han").finditer(folded):
            pos = run.start()
            for word in mmseg.cut(run.group()):
                # A phrase is read folded; a lone character from its original form (see module doc).
                out[pos:pos + len(word)] = self._phrase(word if len(word) > 1 else text[pos])
                pos += len(word)
        return yi_bu_sandhi(folded, out)

    def _char_piece(self, char: str, syllable: str) -> Piece:
        script = script_of(char)
        if script != "han":
            return passthrough(char) if script in PASSTHROUGH_SCRIPTS else failed(char)
        return self._syllable(syllable) if syllable else failed(char)


@register("paper", "zh")
class PaperZh(TokenwisePhonemizer):
    """The seed paper's chain: dragonmapper hanzi -> pinyin -> IPA, one character at a time."""

    own_scripts = frozenset({"han"})

    def __init__(self, cache: bool = True) -> None:
        super().__init__(cache)
        # Tokens are memoised whole; multi-character words (UDPOS) share their characters, so the
        # dragonmapper lookup (the costly step) is memoised per character too.
        self._char = _memoise(self._char_uncached, cache)

    def versions(self) -> dict[str, str]:
        return {"dragonmapper": metadata.version("dragonmapper")}

    def _run(self, text: str) -> Piece:
        return combine(self._char(c) for c in text)

    @staticmethod
    def _char_uncached(char: str) -> Piece:
        syllable = dm_hanzi.to_pinyin(char, accented=False)
        return syllable_piece(syllable) if _NUMBERED.match(syllable) else failed(char)
