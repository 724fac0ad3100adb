"""Phonemes as the encoder sees them: one symbol per sound, the same symbol in every language.

The default phonemic input (``phoneme_units="pieces"``) runs each token's IPA through the backbone's
orthographic tokenizer: for e5 / XLM-R that is ~3.5 SentencePiece pieces per token, mostly single
characters, with stray bare ``▁`` pieces inside words (``laɪ˧˥`` -> ``▁la ɪ ˧ ▁ ˥``), and the same sound
gets different ids in different contexts. With ``phoneme_units="segments"`` a transcription is instead

* split into phone segments with panphon (``data.phonemize.ipa.ipa_segments``: a segment keeps its
  diacritics and modifier letters, a tie bar joins an affricate, ``tɕ`` ``ʈʰ`` ``ŋ͡m`` are ONE symbol),
* with ONE tone inventory: Chao tone letters, one symbol per contour (``˧˥``, ``˨˩˦``). Mandarin is
  already written that way by our zh phonemizer. Vietnamese (viphoneme's digits 1-6) is mapped to
  Northern Vietnamese contours (``VI_TONE_CHAO``): 1 ngang ``˧`` (33), 2 huyền ``˨˩`` (21), 3 ngã
  ``˧˥`` + ``ˀ`` (glottalised rising), 4 hỏi ``˧˩˧`` (313, the Northern dipping contour; Southern
  speech is 214), 5 sắc ``˧˥`` (35), 6 nặng ``˨˩`` + ``ˀ`` (glottalised low falling). The
  glottalisation of ngã / nặng is a separate symbol ``ˀ``, so the contour symbols are shared with
  Mandarin as our zh phonemizer writes it (sắc and tone 2 are both ``˧˥``; hỏi and tone 3 both
  ``˧˩˧``).
  Level tones are one letter in both languages (zh tone 1 ``˥`` = 55, vi ngang ``˧`` = 33).
  ja / ko transcriptions carry no tone letters and are segmented as they are.

Each segment is then ONE id (``SegmentEncoder``): a segment that is already a single entry of the
backbone's vocabulary (``a``, ``n``, ``k`` ...) keeps its pretrained row; every other segment gets
its own new row of E_word beyond the tokenizer's ids (``SegmentEncoder.build``: the table grows only
when needed, new rows initialised like ``vocab.init_added_rows``). The segments are NOT added to the
tokenizer, so the orthographic tokenisation is unchanged (adding ``ts`` as a tokenizer token would
split every ``ts`` in ordinary words). The PE of a token is still the mean of its symbols' rows
(model.py), so every PE design that reads ``Batch.phon_ids`` works on segments unchanged; issue 14's
pe-table / pe-segments / pe-features designs can read ``phoneme_segments`` directly.

The symbol inventory is chosen from what a zero-shot run may see (``vocab_sources``), never from a
test split; a segment first seen at test time maps to the unknown token.
"""

from __future__ import annotations

import logging
from typing import Iterable, Sequence

import torch

from cjkv_phon.data.phonemize.ipa import ipa_segments
from cjkv_phon.training.vocab import init_added_rows

log = logging.getLogger(__name__)

PHONEME_UNITS = ("pieces", "segments")
GLOTTAL = "ˀ"
# viphoneme's tone digits (Northern dialect) -> Chao contour symbols (+ glottalisation), see above.
VI_TONE_CHAO: dict[str, tuple[str, ...]] = {
    "1": ("˧",), "2": ("˨˩",), "3": ("˧˥", GLOTTAL), "4": ("˧˩˧",), "5": ("˧˥",), "6": ("˨˩", GLOTTAL),
}
TONE_LETTERS = frozenset("˥˦˧˨˩")


def phoneme_segments(ipa: str, lang: str) -> list[str]:
    """One token's IPA as segments with unified tones.

    Example:
        >>> phoneme_segments("viət6", "vi")
        ['v', 'i', 'ə', 't', '˨˩', 'ˀ']
        >>> phoneme_segments("t͡ɕiŋ˥", "zh")
        ['t͡ɕ', 'i', 'ŋ', '˥']
        >>> phoneme_segments("2009", "vi")          # a numeral, not tones
        ['2', '0', '0', '9']
    """
    out: list[str] = []
    for seg in ipa_segments(ipa):
        if seg.isdigit():
            # A vi tone digit closes a syllable (one digit after a sound); any other run of digits is
            # a numeral passed through as it is written, one symbol per digit.
            if lang == "vi" and seg in VI_TONE_CHAO and out and not out[-1].isdigit() and not is_tone(out[-1]):
                out += VI_TONE_CHAO[seg]
            else:
                out += list(seg)
        else:
            out.append(seg)
    return out


def segment_inventory(transcriptions: Iterable[tuple[Sequence[str], Sequence[str]]]) -> list[str]:
    """Sorted distinct segments of ``(per-token IPA, per-token language)`` sentences."""
    return sorted({seg for ipa, langs in transcriptions for tok, lang in zip(ipa, langs)
                   for seg in phoneme_segments(tok, lang)})


def is_tone(symbol: str) -> bool:
    """A unified tone symbol (a run of Chao letters)."""
    return bool(symbol) and all(ch in TONE_LETTERS for ch in symbol)


class SegmentEncoder:
    """Maps a token's transcription to one id per segment: ``encoder(ipa, lang) -> [ids]``.

    Args:
        ids: segment -> row of E_word.
        unk_id: the id of a segment outside ``ids`` (first seen outside the inventory).
    """

    def __init__(self, ids: dict[str, int], unk_id: int) -> None:
        self.ids = dict(ids)
        self.unk_id = unk_id
        self._cache: dict[tuple[str, str], list[int]] = {}

    def __call__(self, ipa: str, lang: str) -> list[int]:
        key = (ipa, lang)
        out = self._cache.get(key)
        if out is None:
            out = [self.ids.get(s, self.unk_id) for s in phoneme_segments(ipa, lang)] or [self.unk_id]
            self._cache[key] = out
        return out

    @classmethod
    def build(cls, tokenizer, model: torch.nn.Module, segments: Sequence[str], seed: int = 0,
              extend: bool = True) -> "SegmentEncoder":
        """Ids for ``segments``: an existing single vocabulary entry, else (with ``extend``) a new row.

        New rows start at ``len(tokenizer)`` (never below the rows the tokenizer owns) and the table is
        grown only when they do not fit; it never shrinks. Without ``extend`` the others are unknown.
        """
        unk = tokenizer.unk_token_id
        ids: dict[str, int] = {}
        new: list[str] = []
        for seg in segments:
            tid = tokenizer.convert_tokens_to_ids(seg)
            if tid is not None and tid != unk:
                ids[seg] = tid
            elif extend:
                new.append(seg)
        rows = model.get_input_embeddings().num_embeddings
        first = len(tokenizer)
        if new:
            if first + len(new) > rows:
                with torch.random.fork_rng(devices=[]):
                    model.resize_token_embeddings(first + len(new), mean_resizing=False)
            new_ids = list(range(first, first + len(new)))
            init_added_rows(model.get_input_embeddings().weight, new_ids, min(first, rows), seed)
            ids.update(zip(new, new_ids))
        log.info("phoneme segments: %d symbols, %d pretrained vocabulary rows, %d new rows (table %d -> %d)",
                 len(segments), len(ids) - len(new), len(new), rows,
                 model.get_input_embeddings().num_embeddings)
        return cls(ids, unk)
