"""Phonemic-embedding (PE) designs with their own table: ``TrainConfig.pe_design`` (issue 14, part 2).

``shared`` (the default) needs nothing from this module: PE is the mean of the backbone's word-embedding
rows (E_word) of the token's phoneme symbols (model.py). The other designs give PE a table of its OWN,
so that the orthographic input rows are never moved by the phonemic input and PE can start small:

* ``table`` (the paper's released code): a separate embedding table over the tokenizer pieces of the
  IPA strings (the tokenizer is IPA-extended as for ``shared`` when ``extend_vocab``), holding ONLY the
  pieces the run may see (``vocab_sources``: source train/dev + target train, never a test split) plus
  one unknown row (row 0) for everything else: 6,937 rows for PAN-X zh-vi and 8,595 for ja-ko with
  e5-small (pe_intrinsic.json), instead of 2.5 x 10^5.
* ``segments``: a separate table over panphon IPA segments with unified Chao tones
  (``phoneme_symbols.phoneme_segments``): ``tɕ`` ``tʰ`` ``˧˥`` are one symbol each, the same in zh and vi.
* ``features`` (ours): the ``segments`` symbols, each embedded as ``W f(s) + R[s]``: a learnt linear
  projection ``W`` of the segment's articulatory feature vector ``f(s)`` (panphon's 24 features plus
  our tone dimensions, ``segment_features``) and a zero-initialised residual row ``R[s]``. Sounds that
  are alike start close in every language before any training (cosine of the features survives a
  random projection to H dimensions); ``R`` lets training separate them where the task needs it.

Initialisation (why small): the table (and ``W``) is drawn from N(0, ``PE_INIT_STD``^2) with
``PE_INIT_STD = 0.02 x 0.1 = 0.002``, a tenth of BERT's ``initializer_range``. A PE row then has norm
~0.002 x sqrt(H) = 0.04 at H = 384, 2.5% of an e5-small word-embedding row (mean norm 1.59,
per-dimension std 0.078, measured), so the encoder starts near its pretrained input distribution and PE grows only as far as
the gradients make it; the zero-initialised gate (``options: {pe_gate: true}``) multiplies any design's
PE and starts it at exactly 0. Feature vectors are centred on the run's phone inventory and
L2-normalised before ``W`` (``inventory_features``), so every row with features has the same expected
scale as a ``table`` row.

Every table is created under ``model.component_rng(init_seed, "pe_table")`` (the projection under
``"pe_projection"``), so two runs with one seed start with the same PE whatever ran before.

The tokenizer: ``table`` extends it with the unknown IPA characters as ``shared`` does (so the
orthographic input is the same as in a ``shared`` run); ``segments`` / ``features`` leave the tokenizer
and E_word untouched (the orthographic input is then exactly fine-tuning's). The PE table is not under
``backbone.``, so with ``head_lr`` it trains at the head's learning rate, like LE and the gate.

Ids: the collator's ``phoneme_encoder`` is a ``SymbolEncoder``, which returns rows of the PE table
(``word_rows = False``: the collator does not remap them through a trimmed E_word, and vocabulary
trimming does not count them as E_word rows).
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any, Callable, Hashable, Iterable, Sequence

import torch
from torch import nn

from cjkv_phon.training.model import component_rng
from cjkv_phon.training.phoneme_symbols import GLOTTAL, is_tone, phoneme_segments, segment_inventory

log = logging.getLogger(__name__)

PE_INIT_STD = 0.02 * 0.1          # a tenth of BERT's initializer_range (see the module docstring)
UNKNOWN_ROW = 0                   # row 0 of every own table: a symbol outside the run's inventory
PANPHON_FEATURES = 24
# Tone letters have no panphon features; they get their own dimensions (Chao levels 1..5 as -1..1).
TONE_FEATURES = ("tone", "pitch_start", "pitch_end", "rising", "falling", "dipping", "peaking", "level",
                 "glottalised")
CHAO_LEVELS = {"˥": 5, "˦": 4, "˧": 3, "˨": 2, "˩": 1}
FEATURE_DIMS = PANPHON_FEATURES + len(TONE_FEATURES)
_CG = 10                          # panphon's index of 'cg' (constricted glottis)


class SymbolEncoder:
    """``encoder(ipa, lang) -> rows of the design's own PE table`` (row 0 = unknown symbol).

    Args:
        design: ``table`` | ``segments`` | ``features``.
        symbols: the run's inventory in row order (rows 1..n); pieces are tokenizer ids, segments strings.
        split: ``(ipa, lang) -> symbols`` of one token's transcription.
    """

    word_rows = False             # ids index the PE table, not E_word (collator, trim.py)

    def __init__(self, design: str, symbols: Sequence[Hashable], split: Callable[[str, str], list]) -> None:
        self.design = design
        self.symbols = list(symbols)
        self.rows = {s: i + 1 for i, s in enumerate(self.symbols)}
        self.split = split
        self._cache: dict[tuple[str, str], list[int]] = {}

    @property
    def num_rows(self) -> int:
        """Rows of the PE table: the inventory plus the unknown row."""
        return len(self.symbols) + 1

    def __call__(self, ipa: str, lang: str) -> list[int]:
        key = (ipa, lang)
        out = self._cache.get(key)
        if out is None:
            out = [self.rows.get(s, UNKNOWN_ROW) for s in self.split(ipa, lang)] or [UNKNOWN_ROW]
            self._cache[key] = out
        return out

    def build_table(self, hidden_size: int, init_seed: int | None) -> "SymbolTable":
        """The design's PE module for this inventory."""
        return DESIGNS[self.design](self, hidden_size, init_seed)


def _pieces_splitter(tokenizer) -> Callable[[str, str], list]:
    unk = tokenizer.unk_token_id

    def split(ipa: str, lang: str) -> list[int]:
        return tokenizer(ipa, add_special_tokens=False)["input_ids"] or [unk]
    return split


def build_encoder(design: str, tokenizer, seen: Iterable[tuple[Sequence[str], Sequence[str]]],
                  phoneme_units: str = "pieces") -> SymbolEncoder:
    """The encoder of ``design`` over the symbols of ``seen`` (``vocab_sources.zero_shot_transcriptions``).

    ``table`` reads tokenizer pieces (extend the tokenizer first if wanted); ``segments`` / ``features``
    read phoneme segments and leave the tokenizer and E_word as they are.

    Raises:
        ValueError: an unknown design, or ``table`` with ``phoneme_units="segments"`` (that is the
            ``segments`` design).
    """
    if design not in DESIGNS:
        raise ValueError(f"unknown pe_design {design!r} for an own PE table; valid: {', '.join(DESIGNS)}")
    seen = list(seen)
    if design == "table":
        if phoneme_units != "pieces":
            raise ValueError("pe_design 'table' embeds tokenizer pieces; for a table over phoneme segments "
                             "use pe_design 'segments' (with phoneme_units 'pieces')")
        split = _pieces_splitter(tokenizer)
        symbols = sorted({i for ipa, langs in seen for tok, lang in zip(ipa, langs) for i in split(tok, lang)})
    else:
        split = phoneme_segments
        symbols = segment_inventory(seen)
    encoder = SymbolEncoder(design, symbols, split)
    log.info("pe_design %s: own PE table of %d rows (%d symbols + unknown)", design, encoder.num_rows,
             len(symbols))
    return encoder


# ---- articulatory features ------------------------------------------------------------------------
def tone_features(symbol: str) -> list[float]:
    """Our tone dimensions (``TONE_FEATURES``) of a Chao tone symbol or the glottalisation mark ``ˀ``.

    Levels 1..5 map to -1..1; the contour's shape is read off its letters: ``˧˥`` (35) rises,
    ``˨˩`` (21) falls, ``˨˩˦`` / ``˧˩˧`` dip, a single letter is level. ``ˀ`` (ngã / nặng) is only
    ``glottalised``. Anything else: all zeros.
    """
    v = [0.0] * len(TONE_FEATURES)
    if symbol == GLOTTAL:
        v[TONE_FEATURES.index("glottalised")] = 1.0
        return v
    if not is_tone(symbol):
        return v
    levels = [(CHAO_LEVELS[c] - 3) / 2 for c in symbol]
    start, end, inner = levels[0], levels[-1], levels[1:-1]
    v[0], v[1], v[2] = 1.0, start, end
    v[3] = float(end > start)
    v[4] = float(end < start)
    v[5] = float(bool(inner) and min(inner) < min(start, end))
    v[6] = float(bool(inner) and max(inner) > max(start, end))
    v[7] = float(all(x == start for x in levels))
    return v


@lru_cache(maxsize=None)
def segment_features(segment: str) -> tuple[float, ...]:
    """``FEATURE_DIMS`` numbers for one segment, L2-normalised (zeros where nothing is known).

    Phones: panphon's 24 features (+1 / 0 / -1) from ``FeatureTable.word_to_vector_list(seg,
    numeric=True)``, averaged where panphon reads the segment as several (``tɕ`` without a tie bar).
    Tones and ``ˀ``: only the tone dimensions (``tone_features``; ``ˀ`` also sets panphon's ``cg``,
    constricted glottis, as for creaky voice). Numerals and symbols panphon does not know: zeros
    (their PE is then their residual row alone, which starts at 0).
    """
    from cjkv_phon.data.phonemize.ipa import _feature_table

    if is_tone(segment) or segment == GLOTTAL:
        phone = [0.0] * PANPHON_FEATURES
        if segment == GLOTTAL:
            phone[_CG] = 1.0
        vec = phone + tone_features(segment)
    else:
        rows = _feature_table().word_to_vector_list(segment, numeric=True) if not segment.isdigit() else []
        phone = [sum(col) / len(rows) for col in zip(*rows)] if rows else [0.0] * PANPHON_FEATURES
        vec = list(phone) + [0.0] * len(TONE_FEATURES)
    norm = sum(x * x for x in vec) ** 0.5
    return tuple(x / norm for x in vec) if norm > 0 else tuple(vec)


def inventory_features(symbols: Sequence[str]) -> torch.Tensor:
    """``[1 + n, FEATURE_DIMS]`` feature rows of an inventory (row 0, the unknown symbol: zeros).

    The panphon part is centred on the inventory's phones before the rows are L2-normalised again:
    raw panphon vectors share a large common component (most features are -1 for most segments), so
    every word's PE would start nearly parallel (mean cosine 0.71 between RANDOM zh-vi dictionary
    pairs, 0.73 between true ones); centred, PE carries the contrasts between sounds (random 0.24,
    true 0.29: the gap goes from 0.018 to 0.052, benchmarks/results/pe_intrinsic.json). Tone dimensions are not centred
    (they are zero for phones), and rows without features stay zero.
    """
    rows = torch.tensor([[0.0] * FEATURE_DIMS] + [list(segment_features(s)) for s in symbols],
                        dtype=torch.float32)
    phones = rows[:, :PANPHON_FEATURES].abs().sum(1) > 0
    phones &= rows[:, PANPHON_FEATURES:].abs().sum(1) == 0          # not ˀ (which also sets cg)
    if int(phones.sum()) > 1:
        rows[phones, :PANPHON_FEATURES] -= rows[phones, :PANPHON_FEATURES].mean(0)
    return rows / rows.norm(dim=1, keepdim=True).clamp(min=1e-12)


# ---- the PE modules ----------------------------------------------------------------------------------
class SymbolTable(nn.Module):
    """``table`` and ``segments``: one freshly initialised row per symbol, N(0, PE_INIT_STD^2)."""

    def __init__(self, encoder: SymbolEncoder, hidden_size: int, init_seed: int | None) -> None:
        super().__init__()
        self.design = encoder.design
        with component_rng(init_seed, "pe_table"):
            self.embeddings = nn.Embedding(encoder.num_rows, hidden_size)
            nn.init.normal_(self.embeddings.weight, std=PE_INIT_STD)

    @property
    def num_rows(self) -> int:
        return int(self.embeddings.num_embeddings)

    def symbol_vectors(self, ids: torch.Tensor) -> torch.Tensor:
        """Embeddings of symbol rows ``ids`` [...] -> [..., H]."""
        return self.embeddings(ids)

    def forward(self, phon_ids: torch.Tensor, phon_mask: torch.Tensor) -> torch.Tensor:
        """PE [B, W, H]: the mean symbol vector of each token (``phon_ids`` [B, W, P], masked)."""
        emb = self.symbol_vectors(phon_ids)                                   # [B, W, P, H]
        m = phon_mask.unsqueeze(-1).to(emb.dtype)                             # [B, W, P, 1]
        return (emb * m).sum(2) / m.sum(2).clamp(min=1.0)                     # [B, W, H]


class FeatureTable(SymbolTable):
    """``features``: symbol vector = ``W f(s) + R[s]``, ``f`` fixed (buffer), ``W`` small, ``R`` = 0 at start."""

    def __init__(self, encoder: SymbolEncoder, hidden_size: int, init_seed: int | None) -> None:
        nn.Module.__init__(self)
        self.design = encoder.design
        self.register_buffer("features", inventory_features(encoder.symbols))    # [n, D], row 0 = unknown
        with component_rng(init_seed, "pe_projection"):
            self.projection = nn.Linear(FEATURE_DIMS, hidden_size, bias=False)
            nn.init.normal_(self.projection.weight, std=PE_INIT_STD)
        with component_rng(init_seed, "pe_table"):   # nn.Embedding's own init draws, then zeroed
            self.embeddings = nn.Embedding(encoder.num_rows, hidden_size)     # the residual rows
        nn.init.zeros_(self.embeddings.weight)

    def symbol_vectors(self, ids: torch.Tensor) -> torch.Tensor:
        f = self.features[ids].to(self.projection.weight.dtype)              # [..., D]
        return self.projection(f) + self.embeddings(ids)                      # [..., H]


DESIGNS: dict[str, type[SymbolTable]] = {"table": SymbolTable, "segments": SymbolTable, "features": FeatureTable}


def pe_record(design: str, model: nn.Module) -> dict[str, Any]:
    """What results.json records of the run's PE (``phoneme_vocabulary``): design, rows, parameters."""
    table = getattr(model, "pe_table", None)
    if table is None:
        return {"pe_design": design, "pe_table": "E_word (shared with the orthography)"}
    return {"pe_design": design, "pe_symbols": "tokenizer pieces" if design == "table" else "phoneme segments",
            "pe_table_rows": table.num_rows,
            "pe_parameters": sum(p.numel() for p in table.parameters()), "pe_init_std": PE_INIT_STD}


def unknown_share(collator, examples) -> dict[str, Any]:
    """How many of the PE pieces of ``examples`` fall on the unknown symbol (issue 20, item 2).

    The unknown id is row 0 of an own PE table (``SymbolEncoder``), the segment encoder's ``unk_id``, or
    the tokenizer's unk id when PE reads E_word rows; pieces are capped per token as in collation.

    Returns:
        ``{"pieces": n, "unknown": k, "share": k / n}`` (share None without pieces).
    """
    encoder = collator.phoneme_encoder
    if isinstance(encoder, SymbolEncoder):
        unk = UNKNOWN_ROW
    else:
        unk = getattr(encoder, "unk_id", collator.unk_id)
    pieces = unknown = 0
    for ex in examples:
        for text, lang in zip(ex.phonemes, ex.langs):
            ids = collator.phoneme_ids(text, lang)[: collator.max_phoneme_pieces]
            pieces += len(ids)
            unknown += sum(i == unk for i in ids)
    return {"pieces": pieces, "unknown": unknown, "share": round(unknown / pieces, 5) if pieces else None}
