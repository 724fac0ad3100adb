"""Japanese: readings in context -> IPA (epitran ``jpn-Kana``) and Hepburn romaji, in two schemes.

``native``: the joined sentence is analysed by fugashi with unidic-lite, after folding old kanji
forms (kyūjitai, frequent in UDPOS ja's Meiji-era "Modern" treebank and unknown to unidic-lite) to
their modern forms with OpenCC's ``JPVariants`` table (從 -> 従, 號 -> 号; one character to one, so
offsets hold; failed and passed-through text keeps the original spelling). Each morpheme's reading is its
``pron`` field (the pronunciation: particle は is ワ, を is オ, long vowels written ー as in トーキョー),
not ``kana`` (the spelling in kana: ハ, ヲ, トウキョウ); ``kana`` is used only where ``pron`` is missing.
The reading goes to IPA with epitran's ``jpn-Kana`` map (one instance per process) and to Hepburn
romaji with the kana table ``resources/phonemize/ja_hepburn.csv`` (pykakasi's own readings, spelled
as pykakasi spells them: long vowels doubled, トーキョー -> ``tookyoo``; checked equal to pykakasi on
every reading of 3000 PAN-X sentences, and ~30x faster).
Pitch accent is not marked.

Splitting a reading over tokens (PAN-X ja is one character per token). A morpheme inside one token
keeps its whole reading. A morpheme that crosses token boundaries (社長 over 社 | 長) is split by
:func:`~cjkv_phon.data.phonemize.kana.align_morae`, which aligns the ``kana`` spelling mora by mora
with the characters (kana match themselves; a kanji prefers one of its own readings; else a
proportional share, the earlier token taking the extra mora); the same mora spans are then cut from
``pron`` when it has as many morae (it does unless a vowel was merged), else from ``kana``.
A token part that gets no mora is read on its own (status ``fallback``).

Fallback route (status ``fallback``): a morpheme without a usable reading (out-of-vocabulary kanji)
is read character by character, each kanji as fugashi reads it alone; kana read themselves. Latin,
digits and symbols pass through; a character nothing can read (hangul, 𠮷 unknown alone) is ``failed``.

Sound across token edges: a reading piece that ends in ッ or ン is converted together with the next
piece's first mora, whose own conversion is then cut off again, so 日 | 本 (ニッ | ポン) gives
``ɲip`` | ``poɴ`` and ``nip`` | ``pon`` instead of a glottal stop and ``nitsu``.

``paper``: the seed paper's chain. Each token alone goes through pykakasi (Hepburn), then the
romaji is read as Latin text (:mod:`~cjkv_phon.data.phonemize.latin`). pykakasi silently drops text
after a character it does not know and characters outside the BMP, so its segments must join back to
the input; where they do not, the token is converted character by character (``fallback``) and a
character that still gives nothing is ``failed``.
"""

from __future__ import annotations

import bisect
import unicodedata
from importlib import metadata
from itertools import accumulate
from typing import Callable, Sequence

import fugashi
import pykakasi

from cjkv_phon.data.phonemize.base import Phonemizer, Transcription, register
from cjkv_phon.data.phonemize.epitran_engine import FastEpitran
from cjkv_phon.data.phonemize.kana import (align_morae, katakana_to_hepburn, morae, reading_variants,
                                           to_katakana)
from cjkv_phon.data.phonemize.latin import latin_to_ipa
from cjkv_phon.data.phonemize.tables import opencc_char_map
from cjkv_phon.data.phonemize.scripts import (STATUS_FAILED, STATUS_FALLBACK, STATUS_OK, STATUS_PASS,
                                              Piece, combine, failed, passthrough, script_of)
from cjkv_phon.data.phonemize.tokens import (PASSTHROUGH_SCRIPTS, Span, TokenwisePhonemizer,
                                             assemble)

JAPANESE_SCRIPTS = frozenset({"han", "kana"})
# A reading piece ending in these changes with the next sound (gemination, nasal place).
_CONTEXT_ENDS = frozenset("ッン")
# (start, end, kind, text): kind is the status; for ok/fallback, text is a katakana reading.
Segment = tuple[int, int, str, str]
_MISSING = object()  # memo sentinel: a memoised value may itself be None


def hepburn(kakasi: pykakasi.kakasi, text: str) -> str | None:
    """Hepburn romaji of ``text`` by pykakasi, or None if pykakasi lost part of it.

    pykakasi drops text after an unknown kanji (東京镕タワー gives ``toukyou`` + ``waa``) and
    characters outside the BMP; its segments' ``orig`` must join back to ``text`` and each segment
    must have a non-empty romaji.
    """
    segments = kakasi.convert(text)
    if "".join(s["orig"] for s in segments) != text or not all(s["hepburn"] for s in segments):
        return None
    return "".join(s["hepburn"] for s in segments)


def is_reading(kana: str | None) -> bool:
    """A usable unidic reading: non-empty katakana (unidic writes ``*`` or nothing when it has none)."""
    return bool(kana) and all("\u30a1" <= c <= "\u30fa" or c == "ー" for c in kana)


def with_next_mora(convert: Callable[[str], str], piece: str, next_mora: str) -> str:
    """Convert ``piece`` as it sounds before ``next_mora`` (matters after ッ and ン only)."""
    if next_mora and piece[-1:] in _CONTEXT_ENDS:
        full, tail = convert(piece + next_mora), convert(next_mora)
        if tail and full.endswith(tail) and len(full) > len(tail):
            return full[:-len(tail)]
    return convert(piece)


@register("native", "ja")
class NativeJa(Phonemizer):
    """fugashi + unidic-lite readings of the whole sentence, epitran IPA, table Hepburn."""

    def __init__(self, cache: bool = True) -> None:
        super().__init__(cache)
        self._tagger = fugashi.Tagger()
        # epitran's map-and-rules engine without the panphon feature table we never use (~4 s and
        # ~100 MB per instance) and with rules skipped where they cannot match (same output).
        self._epitran = FastEpitran("jpn-Kana")
        self._fold = opencc_char_map("JPVariants.txt")
        # Field positions of the readings in unidic's CSV feature string (see _morphemes).
        fields = self._tagger("日本")[0].feature._fields
        self._kana_at, self._pron_at = fields.index("kana"), fields.index("pron")
        self._memo: dict[tuple, object] = {}
        # unidic feature line -> (kana, pron): a word's line recurs with every occurrence.
        self._fields: dict[str, tuple[str | None, str | None]] = {}

    def versions(self) -> dict[str, str]:
        return {name: metadata.version(name)
                for name in ("fugashi", "unidic-lite", "epitran", "opencc-python-reimplemented")}

    def _transcribe(self, tokens: tuple[str, ...]) -> Transcription:
        """Analyse the joined sentence, split readings at token edges, convert each piece."""
        original = "".join(tokens)
        text = original.translate(self._fold)
        cuts = list(accumulate(map(len, tokens)))  # token end offsets
        segments: list[Segment] = []
        for start, end, kana, pron in self._morphemes(text):
            first = bisect.bisect_right(cuts, start)  # token edges strictly inside the morpheme
            inner = tuple(c - start for c in cuts[first:bisect.bisect_left(cuts, end, first)])
            surface = text[start:end]
            found = self._cached(("m", surface, kana, pron, inner), self._segments, surface, kana,
                                 pron, inner)
            segments.extend(found if start == 0 else
                            [(start + a, start + b, kind, piece) for a, b, kind, piece in found])
        return assemble(tokens, self._spans(segments, original))

    def _cached(self, key: tuple, func: Callable, *args):  # type: ignore[no-untyped-def]
        """Memoise ``func(*args)`` under ``key`` when caching is on (one dict for all units)."""
        if not self.cache:
            return func(*args)
        found = self._memo.get(key, _MISSING)
        if found is _MISSING:
            found = self._memo[key] = func(*args)
        return found

    def _morphemes(self, text: str) -> list[tuple[int, int, str | None, str | None]]:
        """``(start, end, kana, pron)`` per morpheme; characters MeCab skipped come with no reading."""
        out, pos = [], 0
        for word in self._tagger(text):
            surface = word.surface
            at = text.find(surface, pos) if surface else -1
            if at < 0:
                continue
            if at > pos:
                out.append((pos, at, None, None))
            out.append((at, at + len(surface), *self._readings(word)))
            pos = at + len(surface)
        if pos < len(text):
            out.append((pos, len(text), None, None))
        return out

    def _readings(self, word: fugashi.UnidicNode) -> tuple[str | None, str | None]:
        """A morpheme's ``kana`` and ``pron`` fields.

        fugashi's ``feature`` parses all 26 fields into a named tuple on every access; splitting the
        raw CSV ourselves halves the tagging cost. A field holding a comma is quoted, so such a
        (rare) line goes through fugashi's parser. Unknown words carry fewer fields: no reading.
        """
        raw = word.feature_raw
        found = self._fields.get(raw) if self.cache else None
        if found is None:
            found = self._parse_readings(word, raw)
            if self.cache:
                self._fields[raw] = found
        return found

    def _parse_readings(self, word: fugashi.UnidicNode, raw: str) -> tuple[str | None, str | None]:
        """``_readings`` uncached (the same feature line recurs for every occurrence of a word)."""
        if '"' in raw:
            return word.feature.kana, word.feature.pron
        parts = raw.split(",")
        if len(parts) <= max(self._kana_at, self._pron_at):
            return None, None
        return parts[self._kana_at], parts[self._pron_at]

    def _segments(self, surface: str, kana: str | None, pron: str | None,
                  cuts: tuple[int, ...]) -> list[Segment]:
        """One morpheme's reading pieces, split at the token edges ``cuts`` (offsets in ``surface``)."""
        reading = pron if is_reading(pron) else kana if is_reading(kana) else None
        if reading is None or any(script_of(c) not in JAPANESE_SCRIPTS for c in surface):
            return self._fallback_segments(surface, cuts)
        if not cuts:
            return [(0, len(surface), STATUS_OK, reading)]
        spelled = morae(kana if is_reading(kana) else reading)
        spoken = morae(reading)
        source = spoken if len(spoken) == len(spelled) else spelled
        spans = align_morae(surface, spelled, self._candidates)
        out: list[Segment] = []
        edges = [0, *cuts, len(surface)]
        for a, b in zip(edges, edges[1:]):
            piece = "".join("".join(source[x:y]) for x, y in spans[a:b])
            if piece:
                out.append((a, b, STATUS_OK, piece))
            else:  # the token part got no mora: read it on its own
                out.extend(self._fallback_segments(surface[a:b], (), a))
        return out

    def _fallback_segments(self, surface: str, cuts: tuple[int, ...], offset: int = 0) -> list[Segment]:
        """Character by character: kana read themselves, kanji as read alone, the rest by script."""
        out: list[Segment] = []
        for i, char in enumerate(surface):
            script = script_of(char)
            if script == "kana":
                kind, piece = STATUS_OK, to_katakana(unicodedata.normalize("NFKC", char))
            elif script == "han":
                piece = self._cached(("c", char), self._char_reading, char)
                kind = STATUS_FALLBACK if piece else STATUS_FAILED
                piece = piece or char
            else:
                kind, piece = (STATUS_PASS if script in PASSTHROUGH_SCRIPTS else STATUS_FAILED), char
            prev = out[-1] if out else None
            # Join a kana run (an unknown katakana word) unless a token edge falls between.
            if prev and prev[2] == kind == STATUS_OK and script == "kana" and i not in cuts:
                out[-1] = (prev[0], offset + i + 1, kind, prev[3] + piece)
            else:
                out.append((offset + i, offset + i + 1, kind, piece))
        return out

    def _char_reading(self, char: str) -> str:
        """A kanji's reading as a word on its own (``""`` if unidic has none)."""
        parts = [w.feature.pron for w in self._tagger(char)]
        return "".join(parts) if parts and all(is_reading(p) for p in parts) else ""

    def _candidates(self, char: str) -> frozenset[str]:
        """Readings a kanji may take inside a word: its lone readings and their sandhi forms."""
        def compute(c: str) -> frozenset[str]:
            readings = {w.feature.kana for w in self._tagger(c)} | {self._char_reading(c)}
            return frozenset().union(*(reading_variants(r) for r in readings if is_reading(r)))
        return self._cached(("k", char), compute, char)

    def _spans(self, segments: list[Segment], original: str) -> list[Span]:
        """Segments -> pieces; a reading is converted with the next reading's first mora in view.

        Passed-through and failed pieces take their text from ``original`` (before kanji folding).
        """
        spans: list[Span] = []
        append = spans.append
        for i, (start, end, kind, text) in enumerate(segments):
            if kind == STATUS_PASS:
                append((start, end, passthrough(original[start:end])))
            elif kind == STATUS_FAILED:
                append((start, end, failed(original[start:end])))
            else:
                next_mora = self._next_mora(segments, i) if text[-1:] in _CONTEXT_ENDS else ""
                piece = self._cached((kind, text, next_mora), self._reading_piece, kind, text, next_mora)
                append((start, end, piece if piece is not None else failed(original[start:end])))
        return spans

    def _reading_piece(self, kind: str, text: str, next_mora: str) -> Piece | None:
        """One reading piece converted (memoised whole, Piece included); None if epitran gives nothing."""
        ipa, rom = self._convert(text, next_mora)
        return Piece(ipa, rom, kind) if ipa else None

    @staticmethod
    def _next_mora(segments: list[Segment], i: int) -> str:
        """The first mora of the reading right after segment ``i`` (``""`` if none follows at once)."""
        if i + 1 == len(segments):
            return ""
        start, _, kind, text = segments[i + 1]
        adjacent = start == segments[i][1] and kind in (STATUS_OK, STATUS_FALLBACK)
        return morae(text)[0] if adjacent else ""

    def _convert(self, reading: str, next_mora: str) -> tuple[str, str]:
        """IPA and Hepburn of one katakana reading piece."""
        ipa = with_next_mora(self._epitran.transliterate, reading, next_mora)
        rom = with_next_mora(katakana_to_hepburn, reading, next_mora)
        return ipa, rom


@register("paper", "ja")
class PaperJa(TokenwisePhonemizer):
    """The seed paper's chain: pykakasi Hepburn per token, then the romaji read as Latin text."""

    own_scripts = JAPANESE_SCRIPTS

    def __init__(self, cache: bool = True) -> None:
        super().__init__(cache)
        self._kakasi = pykakasi.kakasi()

    def versions(self) -> dict[str, str]:
        return {"pykakasi": metadata.version("pykakasi")}

    def _run(self, text: str) -> Piece:
        romaji = hepburn(self._kakasi, text)
        if romaji is not None:
            return Piece(latin_to_ipa(romaji), romaji, STATUS_OK)
        return combine(self._char(c) for c in text)

    def _char(self, char: str) -> Piece:
        romaji = hepburn(self._kakasi, char)
        return Piece(latin_to_ipa(romaji), romaji, STATUS_FALLBACK) if romaji else failed(char)
