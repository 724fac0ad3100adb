"""Japanese: readings in context -> IPA (epitran ``jpn-Kana``) and Hepburn romaji, in two schemes.

``native``: the joined sentence is analysed by fugashi with unidic-lite, after folding old kanji
forms (kyūjitai, frequent in UDPOS ja's Meiji-era "Modern" treebank and unknown to unidic-lite) to
their modern forms with OpenCC's ``JPVariants`` table (從 -> 従, 號 -> 号; one character to one, so
offsets hold; failed and passed-through text keeps the original spelling). Each morpheme's reading is its
``pron`` field (the pronunciation: particle は is ワ, を is オ, long vowels written ー as in トーキョー),
not ``kana`` (the spelling in kana: ハ, ヲ, トウキョウ); ``kana`` is used only where ``pron`` is missing.
The reading of each morpheme goes to IPA with :func:`~cjkv_phon.data.phonemize.kana_ipa.kana_ipa`
(epitran's ``jpn-Kana`` unit map, context rules written for split readings: one IPA string per kana
character) and to Hepburn romaji with the kana table ``resources/phonemize/ja_hepburn.csv`` (pykakasi's
own readings, spelled as pykakasi spells them: long vowels doubled, トーキョー -> ``tookyoo``).
Pitch accent is not marked.

Splitting a reading over tokens (PAN-X ja is one character per token). A morpheme inside one token
keeps its whole reading. A kana word split over tokens gives each character its own kana of the
reading (one kana per character: は -> ワ, a long ウ -> ー), small kana, ッ and ー included. A morpheme
with kanji that crosses token boundaries (社長 over 社 | 長) is split by
:func:`~cjkv_phon.data.phonemize.kana.align_morae`, which aligns the ``kana`` spelling mora by mora
with the characters (kana match themselves; a kanji prefers one of its own readings; else a
proportional share, the earlier token taking the extra mora); the same mora spans are then cut from
``pron`` when it has as many morae (it does unless a vowel was merged), else from ``kana``.
The whole reading is then converted at once and each token takes the IPA of its own kana, so the
one-character layout reads exactly like the word (キャット -> ``kʲ | a | t | to``; no rule meant for
a word start fires at each token). A token part that gets no mora is read on its own (``fallback``).
MeCab splits before a small kana (りゃ as り + ゃ) are joined back; unidic's emphatic word-final ッ
for a spelled つ (あつ) is read as spelled.

Fallback route (status ``fallback``): a morpheme without a usable reading (out-of-vocabulary kanji)
is read character by character, each kanji as fugashi reads it alone, else by pykakasi's kanji
dictionary (unidic has 演 only inside words); kana read themselves. Latin, digits and symbols pass
through; a character nothing can read (hangul, 𠮷 unknown alone) is ``failed``.

Sound across token and morpheme edges: a reading that ends in ッ or ン is converted with the next
reading's first mora in view, so 日 | 本 (ニッ | ポン) gives ``ɲip`` | ``poɴ`` and ``nip`` | ``pon``
instead of a glottal stop and ``nitsu``; a reading that is one vowel kana lengthens the vowel before
it (いくど|う: ``doː``).

Why fugashi + unidic-lite and not pyopenjtalk-plus (the most accurate reader measured here,
../shared/G2P-TOOLS.md): it analyses ~39k characters/s against fugashi's ~750k on PAN-X ja (measured
on 3000 PAN-X ja train sentences), i.e. ~37 s more worker time per build for 1.4M Japanese tokens,
and ~340 MB more to install (its dictionary and sudachidict_core); with the rules above the fugashi
readings reach 0.6% (hiragana) and 0.2% (katakana) phone error on the lexicons, so the change was not
worth its cost. It remains the candidate if hiragana words must improve further.

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
from typing import Callable

import fugashi
import pykakasi

from cjkv_phon.data.phonemize.base import Phonemizer
from cjkv_phon.data.phonemize.kana_ipa import final_vowel, kana_hepburn, kana_ipa
from cjkv_phon.data.phonemize.kana import (align_morae, morae, reading_variants, small_kana,
                                           to_katakana)
from cjkv_phon.data.phonemize.latin import latin_to_ipa
from cjkv_phon.data.phonemize.registry import register
from cjkv_phon.data.phonemize.tables import opencc_char_map
from cjkv_phon.data.phonemize.scripts import (STATUS_FAILED, STATUS_FALLBACK, STATUS_OK, STATUS_PASS,
                                              Piece, combine, failed, passthrough, script_of)
from cjkv_phon.data.phonemize.tokens import (PASSTHROUGH_SCRIPTS, Span, TokenwisePhonemizer,
                                             assemble)
from cjkv_phon.data.phonemize.transcription import Transcription

JAPANESE_SCRIPTS = frozenset({"han", "kana"})
# A reading piece ending in these changes with the next sound (gemination, nasal place).
_CONTEXT_ENDS = frozenset("ッン")
_VOWEL_KANA = frozenset("アイウエオ")
# (start, end, kind, text, group): kind is the status; for ok/fallback, text is a katakana reading;
# segments of one group are one morpheme's reading split over tokens, converted together.
Segment = tuple[int, int, str, str, object]
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


def _join_small_kana(morphemes: list[tuple[int, int, str | None, str | None]], text: str
                     ) -> list[tuple[int, int, str | None, str | None]]:
    """Undo MeCab splits before a small kana: ``りゃ`` analysed as り + ゃ (read ヤ) is one mora.

    A morpheme cannot start with a small kana, so such a morpheme is joined to the one before it,
    the small kana read as spelled.
    """
    small = small_kana()
    out: list[tuple[int, int, str | None, str | None]] = []
    for start, end, kana, pron in morphemes:
        if out and to_katakana(text[start]) in small:
            p_start, p_end, p_kana, p_pron = out[-1]
            tail = to_katakana(text[start:end])
            if p_end == start and is_reading(p_kana) and is_reading(p_pron) and is_reading(tail):
                out[-1] = (p_start, end, p_kana + tail, p_pron + tail)  # type: ignore[operator]
                continue
        out.append((start, end, kana, pron))
    return out


@register("native", "ja")
class NativeJa(Phonemizer):
    """fugashi + unidic-lite readings of the whole sentence, epitran IPA, table Hepburn."""

    memo_dicts = ("_memo", "_fields")

    def __init__(self, cache: bool = True) -> None:
        super().__init__(cache)
        self._tagger = fugashi.Tagger()
        # epitran's map-and-rules engine without the panphon feature table we never use (~4 s and
        # ~100 MB per instance) and with rules skipped where they cannot match (same output).
        self._kakasi = pykakasi.kakasi()  # lone kanji unidic cannot read (see _char_reading)
        self._fold = opencc_char_map("JPVariants.txt")
        # Field positions of the readings in unidic's CSV feature string (see _morphemes).
        fields = self._tagger("日本")[0].feature._fields
        self._kana_at, self._pron_at = fields.index("kana"), fields.index("pron")
        self._memo: dict[tuple, object] = {}
        # unidic feature line -> (kana, pron): a word's line recurs with every occurrence.
        self._fields: dict[str, tuple[str | None, str | None]] = {}

    def versions(self) -> dict[str, str]:
        return {name: metadata.version(name)
                for name in ("fugashi", "unidic-lite", "epitran", "opencc-python-reimplemented",
                             "pykakasi")}

    def _transcribe(self, tokens: tuple[str, ...]) -> Transcription:
        """Analyse the joined sentence, split readings at token edges, convert each piece."""
        original = "".join(tokens)
        text = original.translate(self._fold)
        cuts = list(accumulate(map(len, tokens)))  # token end offsets
        segments: list[Segment] = []
        for index, (start, end, kana, pron) in enumerate(self._morphemes(text)):
            first = bisect.bisect_right(cuts, start)  # token edges strictly inside the morpheme
            inner = tuple(c - start for c in cuts[first:bisect.bisect_left(cuts, end, first)])
            surface = text[start:end]
            found = self._cached(("m", surface, kana, pron, inner), self._segments, surface, kana,
                                 pron, inner)
            segments.extend((start + a, start + b, kind, piece, (index, group))
                            for a, b, kind, piece, group in found)
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
        return _join_small_kana(out, text)

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
        if reading and reading.endswith("ッ") and is_reading(kana) and kana.endswith("ツ"):
            # unidic's emphatic pronunciation of a word-final つ (あつ -> アッ): read it as spelled.
            reading = reading[:-1] + "ツ"
        if reading is None or any(script_of(c) not in JAPANESE_SCRIPTS for c in surface):
            return self._fallback_segments(surface, cuts)
        spelled_kana = to_katakana(unicodedata.normalize("NFKC", surface))
        kana_word = len(spelled_kana) == len(surface) == len(reading) and all(
            script_of(c) == "kana" for c in surface)
        if kana_word:
            # unidic reads a small kana it does not know as full-size (しょう -> シヨー): a small
            # kana in the spelling is small in the reading.
            small = small_kana()
            reading = "".join(s if s in small else r for s, r in zip(spelled_kana, reading))
        if not cuts:
            return [(0, len(surface), STATUS_OK, reading, 0)]
        edges = [0, *cuts, len(surface)]
        if kana_word:
            # A kana word: its reading has one kana per character (ワ for は, ー for a long ウ), so
            # each token part takes its own characters' kana, small kana and ッ ー included.
            return [(a, b, STATUS_OK, reading[a:b], 0) for a, b in zip(edges, edges[1:])]
        spelled = morae(kana if is_reading(kana) else reading)
        spoken = morae(reading)
        source = spoken if len(spoken) == len(spelled) else spelled
        spans = align_morae(surface, spelled, self._candidates)
        out: list[Segment] = []
        for a, b in zip(edges, edges[1:]):
            piece = "".join("".join(source[x:y]) for x, y in spans[a:b])
            if piece:
                out.append((a, b, STATUS_OK, piece, 0))
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
            # A kana run (an unknown katakana word) is one reading: joined within a token, and one
            # group across token edges so that it is converted as a whole.
            run = prev and prev[2] == kind == STATUS_OK and script == "kana" and \
                script_of(surface[i - 1]) == "kana"
            if run and i not in cuts:
                out[-1] = (prev[0], offset + i + 1, kind, prev[3] + piece, prev[4])
            else:
                group = prev[4] if run else ("f", offset + i)
                out.append((offset + i, offset + i + 1, kind, piece, group))
        return out

    def _char_reading(self, char: str) -> str:
        """A kanji's reading as a word on its own (``""`` if neither unidic nor pykakasi has one).

        unidic knows many kanji only inside words (演 alone has no entry, 演奏 has); pykakasi's
        kanji dictionary then gives the character's common reading (演 エン).
        """
        parts = [w.feature.pron for w in self._tagger(char)]
        if parts and all(is_reading(p) for p in parts):
            return "".join(parts)
        found = self._kakasi.convert(char)
        kana = "".join(seg["kana"] for seg in found) if found else ""
        return kana if is_reading(kana) and "".join(seg["orig"] for seg in found) == char else ""

    def _candidates(self, char: str) -> frozenset[str]:
        """Readings a kanji may take inside a word: its lone readings and their sandhi forms."""
        def compute(c: str) -> frozenset[str]:
            readings = {w.feature.kana for w in self._tagger(c)} | {self._char_reading(c)}
            return frozenset().union(*(reading_variants(r) for r in readings if is_reading(r)))
        return self._cached(("k", char), compute, char)

    def _spans(self, segments: list[Segment], original: str) -> list[Span]:
        """Segments -> pieces; each morpheme's reading is converted whole and split over its tokens.

        A group (one morpheme's reading over several tokens) is converted by :func:`kana_ipa` with
        the next reading's first mora in view (``ッ``, ``ン`` at its end), and each token part takes
        its characters' share. Passed-through and failed pieces take their text from ``original``
        (before kanji folding).
        """
        spans: list[Span] = []
        i, count = 0, len(segments)
        while i < count:
            start, end, kind, text, group = segments[i]
            if kind == STATUS_PASS:
                spans.append((start, end, passthrough(original[start:end])))
                i += 1
                continue
            if kind == STATUS_FAILED:
                spans.append((start, end, failed(original[start:end])))
                i += 1
                continue
            j = i + 1
            while j < count and segments[j][4] == group and segments[j][2] == kind \
                    and segments[j][0] == segments[j - 1][1]:
                j += 1
            parts = tuple(seg[3] for seg in segments[i:j])
            next_mora = self._next_mora(segments, j - 1) if parts[-1][-1:] in _CONTEXT_ENDS else ""
            prev_vowel = ""
            if parts[0] in _VOWEL_KANA and len(parts) == 1 and i and segments[i - 1][1] == start \
                    and segments[i - 1][2] in (STATUS_OK, STATUS_FALLBACK):
                prev_vowel = self._cached(("v", segments[i - 1][3]), final_vowel, segments[i - 1][3])
            pieces = self._cached(("g", kind, parts, next_mora, prev_vowel), self._group_pieces, kind,
                                  parts, next_mora, prev_vowel)
            for (a, b, _, _, _), piece in zip(segments[i:j], pieces):
                spans.append((a, b, piece if piece is not None else failed(original[a:b])))
            i = j
        return spans

    @staticmethod
    def _group_pieces(kind: str, parts: tuple[str, ...], next_mora: str,
                      prev_vowel: str = "") -> list[Piece | None]:
        """IPA and Hepburn of one reading split as ``parts``; a part left without sound is read alone."""
        reading = "".join(parts)
        ipa_chars = kana_ipa(reading, next_mora, prev_vowel)
        rom_chars = kana_hepburn(reading, next_mora)
        out: list[Piece | None] = []
        pos = 0
        for part in parts:
            ipa, rom = "".join(ipa_chars[pos:pos + len(part)]), "".join(rom_chars[pos:pos + len(part)])
            pos += len(part)
            if not ipa:  # e.g. a small kana whose vowel its unit kept: read the part on its own
                ipa, rom, status = "".join(kana_ipa(part)), "".join(kana_hepburn(part)), STATUS_FALLBACK
            else:
                status = kind
            out.append(Piece(ipa, rom or ipa, status) if ipa else None)
        return out

    @staticmethod
    def _next_mora(segments: list[Segment], i: int) -> str:
        """The first mora of the reading right after segment ``i`` (``""`` if none follows at once)."""
        if i + 1 == len(segments):
            return ""
        start, _, kind, text, _ = segments[i + 1]
        adjacent = start == segments[i][1] and kind in (STATUS_OK, STATUS_FALLBACK)
        return morae(text)[0] if adjacent else ""


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
