"""Tokens -> subword pieces, each piece projected back onto the dataset tokens it covers (issue 20, item 1).

PAN-X zh/ja are tokenised one character per token. Tokenising each token ON ITS OWN (the
``is_split_into_words`` convention, ``per-token``) gives a SentencePiece backbone such as e5-small or
XLM-R a bare ``▁`` before every character (``日`` -> ``▁`` ``日``), an input it never saw in
pretraining. Three tokenisations are registered (``TOKENISATIONS``):

* ``natural`` (the default): the sentence is written the way the language writes it (no spaces between
  two tokens of an unspaced language, ``dictionary.script.convention(lang).joiner``; one space
  otherwise), tokenised once, and every piece is projected back onto the tokens its characters fall in
  (the tokenizer's offsets). ``日本語の`` -> ``▁`` ``日本語`` ``の``: the piece ``日本語`` covers three
  character tokens, which then SHARE it (``first`` 0, ``last`` 2). Spaced languages (ko, vi) tokenise
  exactly as ``per-token`` does.
* ``per-token``: each token alone; what every run before issue 20 used.
* ``per-token-no-bare``: ``per-token`` minus the bare word-boundary piece (``▁``) whenever the token has
  another piece.

Chosen by the intrinsic check ``benchmarks/tokenisation_check.py`` (pretrained e5-small, MUSE pivot
pairs, centred cosine, precision@1): see its results file. WordPiece tokenizers (mBERT) split CJK
characters apart themselves and have no bare ``▁`` piece, so for them the three agree on Han text.

A piece's ``first``..``last`` tokens all own it: pooling (``pooling.mean_pool``) gives each of them the
piece's vector and the phonemic / language embeddings added to a shared piece are the mean over its
tokens (``pooling.broadcast_to_subwords``). Every token owns at least one piece (``unk`` if the tokenizer
drops it, e.g. a stray control character).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from cjkv_phon.dictionary.script import convention

TOKENISATIONS = ("natural", "per-token", "per-token-no-bare")
DEFAULT_TOKENISATION = "natural"
# The word-boundary marker of SentencePiece vocabularies (XLM-R, e5): alone it is a "bare" piece.
BOUNDARY = "\u2581"


@dataclass(frozen=True)
class Pieces:
    """The subword ids of one token sequence and, per piece, the first and last token it covers.

    Example: tokens ``日 本 語 の`` under ``natural`` ->
    ``Pieces(ids=(6, 2104, 30), first=(0, 0, 3), last=(0, 2, 3))`` (``▁``, ``日本語``, ``の``).
    """

    ids: tuple[int, ...]
    first: tuple[int, ...]
    last: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.ids)

    def per_token(self, num_tokens: int) -> list[int]:
        """How many pieces START at each token (a token inside a shared piece counts 0)."""
        counts = [0] * num_tokens
        for f in self.first:
            counts[f] += 1
        return counts


def check_tokenisation(name: str) -> str:
    """``name`` if it is a registered tokenisation; ``ValueError`` listing the valid ones otherwise."""
    if name not in TOKENISATIONS:
        raise ValueError(f"unknown tokenisation {name!r}; valid: {', '.join(TOKENISATIONS)}")
    return name


def join_tokens(tokens: Sequence[str], langs: Sequence[str]) -> tuple[str, list[tuple[int, int]]]:
    """The sentence as its languages write it, and each token's ``(start, end)`` character span.

    Two neighbouring tokens are joined without a space only when both belong to an unspaced language
    (zh, ja: ``convention(lang).joiner == ""``); a code-switched Vietnamese word inside a Chinese
    sentence keeps its spaces.
    """
    parts: list[str] = []
    spans: list[tuple[int, int]] = []
    pos = 0
    for j, (tok, lang) in enumerate(zip(tokens, langs, strict=True)):
        if j and not (convention(langs[j - 1]).joiner == "" and convention(lang).joiner == ""):
            parts.append(" ")
            pos += 1
        parts.append(tok)
        spans.append((pos, pos + len(tok)))
        pos += len(tok)
    return "".join(parts), spans


class SubwordEncoder:
    """Encodes token sequences into ``Pieces`` under one tokenisation, for one fast tokenizer.

    Args:
        tokenizer: a Hugging Face fast tokenizer (offsets are needed by ``natural``).
        tokenisation: one of ``TOKENISATIONS``.
    """

    def __init__(self, tokenizer, tokenisation: str = DEFAULT_TOKENISATION) -> None:
        self.tokenizer = tokenizer
        self.tokenisation = check_tokenisation(tokenisation)
        self.unk_id = tokenizer.unk_token_id
        bare = tokenizer.convert_tokens_to_ids(BOUNDARY) if BOUNDARY in tokenizer.get_vocab() else None
        self.bare_id = bare if bare is not None and bare != self.unk_id else None
        self._cache: dict[str, list[int]] = {}

    def token_pieces(self, text: str, pieces: Callable[[str], list[int]] | None = None) -> list[int]:
        """Subword ids of one token on its own (never empty: ``[unk]`` when the tokenizer yields nothing).

        Under ``per-token-no-bare`` the bare ``▁`` is dropped when the token has another piece.

        Args:
            text: the token.
            pieces: the tokenisation of one string to start from (a collator's, e.g. sampled
                segmentations); default the tokenizer's, cached.
        """
        if pieces is None:
            ids = self._cache.get(text)
            if ids is None:
                ids = self._cache[text] = self.tokenizer(text, add_special_tokens=False)["input_ids"] or [self.unk_id]
        else:
            ids = pieces(text)
        if self.tokenisation == "per-token-no-bare" and len(ids) > 1 and self.bare_id in ids:
            ids = [i for i in ids if i != self.bare_id] or ids
        return ids

    def encode(self, tokens: Sequence[str], langs: Sequence[str],
               pieces: Callable[[str], list[int]] | None = None) -> Pieces:
        """The pieces of ``tokens`` (with their per-token languages) under this tokenisation.

        ``pieces`` replaces the tokenizer for one token in the ``per-token`` tokenisations.
        """
        if self.tokenisation != "natural":
            ids, first = [], []
            for j, tok in enumerate(tokens):
                own = self.token_pieces(tok, pieces)
                ids += own
                first += [j] * len(own)
            return Pieces(tuple(ids), tuple(first), tuple(first))
        return self._natural(tokens, langs)

    def _natural(self, tokens: Sequence[str], langs: Sequence[str]) -> Pieces:
        """Tokenise the joined sentence once and project each piece onto the tokens it overlaps."""
        if not tokens:
            return Pieces((), (), ())
        text, spans = join_tokens(tokens, langs)
        owner = [-1] * len(text)                        # token index of every character, -1 for spaces
        for j, (a, b) in enumerate(spans):
            owner[a:b] = [j] * (b - a)
        enc = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
        placed: list[tuple[int, int, int, int]] = []    # (first, order, last, id)
        for order, (pid, (a, b)) in enumerate(zip(enc["input_ids"], enc["offset_mapping"])):
            covered = [owner[c] for c in range(a, b) if owner[c] >= 0]
            if covered:
                first, last = min(covered), max(covered)
            else:                                        # an empty or space-only piece: the next token's
                first = last = next((j for j, (s, _) in enumerate(spans) if s >= a), len(tokens) - 1)
            placed.append((first, order, last, pid))
        owned = set()
        for first, _, last, _ in placed:
            owned.update(range(first, last + 1))
        placed += [(j, -1, j, self.unk_id) for j in range(len(tokens)) if j not in owned]
        placed.sort()
        return Pieces(tuple(p[3] for p in placed), tuple(p[0] for p in placed), tuple(p[2] for p in placed))
