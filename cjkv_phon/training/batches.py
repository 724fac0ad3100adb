"""Sentences -> model inputs: examples, subword encoding, long-sentence splitting and collation.

Data flow: a parquet table (``cjkv_phon.data.release_reader.load_split``) becomes a list of ``Example`` (one per
sentence: tokens, per-token phonemes and language ids, tags). A ``Collator`` turns a list of examples
into a ``Batch`` of padded tensors. Every token is tokenised ON ITS OWN (the
``is_split_into_words`` convention), so the subwords of token ``w`` are exactly the pieces of ``w`` and
``word_index`` maps each subword back to its token for both tokenizer families (WordPiece ``##`` pieces,
SentencePiece ``▁`` pieces, CJK characters). A token whose text tokenises to nothing (a stray control
character) gets the ``unk`` piece, so every token owns at least one subword and pooling never divides
by zero.

Sentences longer than ``max_subwords`` (specials included) are SPLIT at token boundaries into chunks
that are encoded independently; ``rejoin`` puts the chunks' predictions back in sentence order. Only a
single token longer than the whole budget is cut (its first pieces are kept), which never happens on
PAN-X/UDPOS with a 128 budget but keeps the code total.

Example:
    >>> collator = Collator(tokenizer, labels=PANX_LABELS, max_subwords=128, phonemes="ipa")
    >>> examples = examples_from_table(load_split(data, "panx", "zh", "train"), "ipa", "train.parquet")
    >>> batch = collator.collate(split_examples(examples, collator))
    >>> batch.input_ids.shape, batch.phon_ids.shape      # [B, S], [B, W, P]
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, fields, replace
from typing import Callable, Iterable, Sequence

import pyarrow as pa
import torch

from cjkv_phon.dictionary.codeswitch import code_switch
from cjkv_phon.errors import InputError
from cjkv_phon.schema import LANGS

# Language-embedding ids: the XTREME codes in schema order (zh ja ko vi), fixed so a checkpoint's LE
# rows mean the same language in every run.
LANG_IDS: dict[str, int] = {lang: i for i, lang in enumerate(LANGS)}
log = logging.getLogger(__name__)
IGNORE = -100  # tag id at padded word positions (ignored by the CE loss; masked out of the CRF)


@dataclass(frozen=True)
class Example:
    """One sentence (or one chunk of a long sentence) ready for encoding.

    Attributes:
        id: the sentence id from the parquet ``id`` column.
        tokens: orthographic tokens.
        phonemes: per-token transcription (IPA or Romanization, per the run's ``phonemes``).
        langs: per-token language code; differs from the sentence language after code-switching.
        tags: per-token tag strings, or None for unlabelled data.
        chunk: index of this chunk within its sentence (0 for sentences that were not split).
    """

    id: str
    tokens: tuple[str, ...]
    phonemes: tuple[str, ...]
    langs: tuple[str, ...]
    tags: tuple[str, ...] | None
    chunk: int = 0


@dataclass
class Batch:
    """Padded tensors for B examples; S subwords, W words, P phoneme pieces per word.

    ``word_index[b, s]`` is the word that subword ``s`` belongs to, -1 for specials and padding.
    ``phon_ids[b, w, :]`` are the phoneme pieces of word ``w`` (padded with 0, see ``phon_mask``).
    """

    input_ids: torch.Tensor       # [B, S] long
    attention_mask: torch.Tensor  # [B, S] long (1 = real subword)
    word_index: torch.Tensor      # [B, S] long, -1 off-word
    word_mask: torch.Tensor       # [B, W] bool
    phon_ids: torch.Tensor        # [B, W, P] long
    phon_mask: torch.Tensor       # [B, W, P] bool
    lang_ids: torch.Tensor        # [B, W] long, LANG_IDS
    tags: torch.Tensor            # [B, W] long, IGNORE at padding (all IGNORE when unlabelled)
    examples: list[Example]       # the examples in batch order (ids, tokens, chunk numbers)

    @property
    def num_words(self) -> int:
        """W, the padded word length."""
        return int(self.word_mask.shape[1])

    def to(self, device: torch.device | str) -> "Batch":
        """A copy with every tensor on ``device``."""
        moved = {f.name: getattr(self, f.name) for f in fields(self)}
        return Batch(**{k: (v.to(device) if isinstance(v, torch.Tensor) else v) for k, v in moved.items()})


def examples_from_table(table: pa.Table, phonemes: str, where: str,
                        require_phonemes: bool = True) -> list[Example]:
    """Read a sentence table (``schema.SENTENCE_SCHEMA``) into examples.

    Args:
        table: rows ``{id, lang, tokens, tags, ipa, romanized, ...}``, e.g.
            ``{"id": "panx.zh.train.0", "lang": "zh", "tokens": ["北", "京"], "ipa": ["pei˨˩˦", "tɕiŋ˥"]}``.
        phonemes: ``"ipa"`` or ``"romanized"``, the column used as the phonemic input.
        where: the file the table came from, for error messages.
        require_phonemes: raise when a token has an empty transcription (PE needs one per token).

    Raises:
        InputError: the phoneme column is missing or a token's transcription is empty; the message
            names the file, the row (1-based) and the sentence id.
    """
    if phonemes not in table.schema.names:
        raise InputError(f"no {phonemes!r} column: this dataset has no transcriptions (columns "
                         f"{table.schema.names}); build it with `cjkv build-data`", path=where)
    cols = table.select(["id", "lang", "tokens", "tags", phonemes]).to_pydict()
    out = []
    for row, (sid, lang, toks, tags, phon) in enumerate(zip(cols["id"], cols["lang"], cols["tokens"],
                                                            cols["tags"], cols[phonemes]), start=1):
        phon = phon or []
        if require_phonemes and (len(phon) != len(toks) or any(not p for p in phon)):
            raise InputError(f"sentence {sid!r} lacks {phonemes} transcriptions for some tokens; "
                             "PhoneXL needs one per token", path=where, line=row, value=phon)
        out.append(Example(id=sid, tokens=tuple(toks), phonemes=tuple(p or t for p, t in zip(phon, toks))
                           if phon else tuple(toks), langs=(lang,) * len(toks),
                           tags=tuple(tags) if tags is not None else None))
    return out


class Collator:
    """Tokenises examples with one tokenizer and pads them into ``Batch`` tensors.

    Tokenisation of each distinct token string is cached: PAN-X zh/ja have a few thousand distinct
    characters, so after the first epoch encoding is dictionary look-ups.

    Args:
        tokenizer: a Hugging Face fast tokenizer (already extended with IPA symbols if wanted).
        labels: tag names in id order (``schema.LABELS[task]``).
        max_subwords: the per-sequence budget, specials included.
        max_phoneme_pieces: cap on the pieces of one token's transcription (a long Vietnamese
            syllable in IPA is ~6 pieces; the cap bounds ``P`` against pathological strings).
        phoneme_encoder: ``(transcription, language) -> ids`` for the phonemic input, e.g. a
            ``phoneme_symbols.SegmentEncoder``; None = the tokenizer's pieces of the transcription.
    """

    def __init__(self, tokenizer, labels: Sequence[str], max_subwords: int,
                 max_phoneme_pieces: int = 16,
                 phoneme_encoder: Callable[[str, str], list[int]] | None = None) -> None:
        self.tokenizer = tokenizer
        self.labels = tuple(labels)
        self.label_ids = {lab: i for i, lab in enumerate(self.labels)}
        self.max_subwords = max_subwords
        self.max_phoneme_pieces = max_phoneme_pieces
        self.cls_id, self.sep_id = _special_ids(tokenizer)
        self.pad_id = tokenizer.pad_token_id
        self.unk_id = tokenizer.unk_token_id
        self._cache: dict[str, list[int]] = {}
        self.phoneme_encoder = phoneme_encoder
        self.vocab = None            # a trim.VocabMap once the model's table is trimmed (use_vocab)
        self.unmapped = 0            # ids outside a trimmed vocabulary met so far (read as unk)

    def phoneme_ids(self, text: str, lang: str) -> list[int]:
        """Ids of one token's transcription: the phoneme encoder's, or the tokenizer's pieces."""
        return self.phoneme_encoder(text, lang) if self.phoneme_encoder is not None else self.pieces(text)

    def use_vocab(self, vocab) -> None:
        """Collate into the rows of a trimmed embedding table (``trim.VocabMap``) from now on.

        ``pieces`` keeps returning tokenizer ids (lengths and budgets are the same in both spaces);
        only the tensors ``collate`` builds, and ``model_ids``, are in the model's rows.
        """
        self.vocab = vocab

    def model_ids(self, ids: torch.Tensor) -> torch.Tensor:
        """Tokenizer ids -> the model's embedding rows: the identity unless the vocabulary is trimmed.

        An id the trimmed table lacks (text from outside the run's data) reads as ``unk``, with a warning.
        """
        if self.vocab is None:
            return ids
        rows, missing = self.vocab.remap(ids, self.vocab.row(self.unk_id))
        if missing:
            if not self.unmapped:
                log.warning("%d subword ids are not in the trimmed vocabulary; they read as unk "
                            "(text from outside the run's data?)", missing)
            self.unmapped += missing
        return rows

    def pieces(self, text: str) -> list[int]:
        """Subword ids of one token (never empty: ``[unk]`` when the tokenizer yields nothing)."""
        ids = self._cache.get(text)
        if ids is None:
            ids = self.tokenizer(text, add_special_tokens=False)["input_ids"] or [self.unk_id]
            self._cache[text] = ids
        return ids

    def collate(self, examples: Sequence[Example]) -> Batch:
        """Pad ``examples`` (each within the subword budget, see ``split_examples``) into a Batch."""
        b = len(examples)
        seqs = [self._subwords(ex) for ex in examples]
        s = max(len(ids) for ids, _ in seqs)
        w = max(len(ex.tokens) for ex in examples)
        phon = [[self.phoneme_ids(p, lang)[: self.max_phoneme_pieces] for p, lang in zip(ex.phonemes, ex.langs)]
                for ex in examples]
        p = max(len(x) for sent in phon for x in sent)
        input_ids = torch.full((b, s), self.pad_id, dtype=torch.long)
        word_index = torch.full((b, s), -1, dtype=torch.long)
        phon_ids = torch.zeros((b, w, p), dtype=torch.long)
        phon_mask = torch.zeros((b, w, p), dtype=torch.bool)
        lang_ids = torch.zeros((b, w), dtype=torch.long)
        tags = torch.full((b, w), IGNORE, dtype=torch.long)
        word_mask = torch.zeros((b, w), dtype=torch.bool)
        for i, (ex, (ids, widx)) in enumerate(zip(examples, seqs)):
            input_ids[i, : len(ids)] = torch.tensor(ids)
            word_index[i, : len(widx)] = torch.tensor(widx)
            n = len(ex.tokens)
            word_mask[i, :n] = True
            lang_ids[i, :n] = torch.tensor([LANG_IDS[lang] for lang in ex.langs])
            for j, pieces in enumerate(phon[i]):
                phon_ids[i, j, : len(pieces)] = torch.tensor(pieces)
                phon_mask[i, j, : len(pieces)] = True
            if ex.tags is not None:
                tags[i, :n] = torch.tensor([self._label_id(t, ex) for t in ex.tags])
        attention_mask = (torch.arange(s)[None, :] < torch.tensor([len(x[0]) for x in seqs])[:, None])
        # phoneme ids are E_word rows (remapped when trimmed) unless they index PE's own table
        if getattr(self.phoneme_encoder, "word_rows", True):
            phon_ids = self.model_ids(phon_ids)
        return Batch(self.model_ids(input_ids), attention_mask.long(), word_index, word_mask,
                     phon_ids, phon_mask, lang_ids, tags, list(examples))

    def _label_id(self, tag: str, ex: Example) -> int:
        if tag not in self.label_ids:
            raise InputError(f"sentence {ex.id!r}: tag not in the label set {list(self.labels)}",
                             value=tag)
        return self.label_ids[tag]

    def _subwords(self, ex: Example) -> tuple[list[int], list[int]]:
        """``([cls] + pieces + [sep], word index per subword)``; one token's pieces are capped."""
        budget = self.max_subwords - 2
        ids, widx = [self.cls_id], [-1]
        for j, tok in enumerate(ex.tokens):
            pieces = self.pieces(tok)[:budget]
            ids += pieces
            widx += [j] * len(pieces)
        if len(ids) - 1 > budget:
            raise ValueError(f"example {ex.id!r} chunk {ex.chunk} has {len(ids) - 1} subwords, over "
                             f"the budget {budget}: split it with split_examples first")
        return ids + [self.sep_id], widx + [-1]


def _special_ids(tokenizer) -> tuple[int, int]:
    """Sequence start/end ids for BERT ([CLS]/[SEP]) and XLM-R (<s>/</s>) tokenizers alike."""
    start = tokenizer.cls_token_id if tokenizer.cls_token_id is not None else tokenizer.bos_token_id
    end = tokenizer.sep_token_id if tokenizer.sep_token_id is not None else tokenizer.eos_token_id
    if start is None or end is None:
        raise ValueError(f"tokenizer {type(tokenizer).__name__} has no cls/bos or sep/eos token")
    return start, end


def split_example(ex: Example, collator: Collator) -> list[Example]:
    """Split one example at token boundaries so each chunk fits ``max_subwords`` (specials included).

    Example:
        With a budget of 6 subwords (4 after [CLS]/[SEP]) and tokens of 2, 2, 1, 3 pieces, the chunks
        are tokens [0, 1], [2, 3] (4 and 4 pieces).
    """
    budget = collator.max_subwords - 2
    chunks: list[Example] = []
    start, used = 0, 0
    for j, tok in enumerate(ex.tokens):
        n = min(len(collator.pieces(tok)), budget)
        if used + n > budget and j > start:
            chunks.append(_slice(ex, start, j, len(chunks)))
            start, used = j, 0
        used += n
    chunks.append(_slice(ex, start, len(ex.tokens), len(chunks)))
    return chunks


def _slice(ex: Example, start: int, end: int, chunk: int) -> Example:
    return replace(ex, tokens=ex.tokens[start:end], phonemes=ex.phonemes[start:end],
                   langs=ex.langs[start:end], tags=None if ex.tags is None else ex.tags[start:end],
                   chunk=chunk)


def split_examples(examples: Iterable[Example], collator: Collator) -> list[Example]:
    """``split_example`` over a list, keeping sentence order (chunks of a sentence stay adjacent)."""
    return [chunk for ex in examples for chunk in split_example(ex, collator)]


def rejoin(chunks: Sequence[Example], predictions: Sequence[Sequence[str]]) -> dict[str, list[str]]:
    """Concatenate per-chunk predictions back into one list per sentence id, in chunk order.

    Raises:
        ValueError: the chunks of a sentence are not numbered 0, 1, 2, ... (a lost or duplicated chunk).
    """
    parts: dict[str, dict[int, Sequence[str]]] = {}
    for ex, pred in zip(chunks, predictions, strict=True):
        if len(pred) != len(ex.tokens):
            raise ValueError(f"{ex.id} chunk {ex.chunk}: {len(pred)} predictions for {len(ex.tokens)} tokens")
        parts.setdefault(ex.id, {})[ex.chunk] = pred
    out = {}
    for sid, by_chunk in parts.items():
        if sorted(by_chunk) != list(range(len(by_chunk))):
            raise ValueError(f"{sid}: chunks {sorted(by_chunk)} are not 0..{len(by_chunk) - 1}")
        out[sid] = [tag for k in range(len(by_chunk)) for tag in by_chunk[k]]
    return out


def code_switch_examples(examples: Sequence[Example], collator: Collator, dictionary, lang: str,
                         target_lang: str, ratio: float, rng: random.Random,
                         phonemes: str = "ipa") -> list[Example]:
    """Code-switch each example with the pivot dictionary, then split to the subword budget.

    Switched tokens get the dictionary's transcription of the run's kind (``phonemes``: its IPA, or
    its Romanization for PhoneXL-Romanized) and ``target_lang`` as their language; tags
    follow the switched spans (``dictionary.codeswitch.code_switch``). Called by systems in
    ``prepare``, i.e. afresh every step. An example keeps its id, so its chunks stay recognisable.

    Args:
        examples: source examples; their ``phonemes`` stand for both transcription columns, since only
            the run's own kind (IPA or Romanization) is carried through.
        collator: for the subword budget of the (possibly longer) switched sentences.
        dictionary: a ``PivotDictionary`` with ``lang`` and ``target_lang`` as its sides.
        lang, target_lang: the examples' language and the language switched into.
        ratio: probability that each label-safe dictionary span is switched (``r``).
        rng: the step's random stream.
        phonemes: ``"ipa"`` or ``"romanized"``, the kind the examples carry (``TrainConfig.phonemes``).
    """
    if phonemes not in ("ipa", "romanized"):
        raise ValueError(f"unknown phonemes {phonemes!r}; valid: ipa, romanized")
    out = []
    for ex in examples:
        sw = code_switch(ex.tokens, ex.phonemes, ex.phonemes, ex.tags, lang, dictionary, ratio, rng,
                         target_lang=target_lang)
        out.append(replace(ex, tokens=sw.tokens, phonemes=sw.romanized if phonemes == "romanized" else sw.ipa,
                           langs=sw.langs, tags=sw.tags))
    return split_examples(out, collator)
