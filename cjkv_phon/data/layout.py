"""Token layouts of a release: XTREME's words, or the paper's characters for PAN-X Korean.

The paper's released PAN-X Korean files split every word into its characters (Hangul syllables, and Latin
letters, digits and punctuation alike); the first character keeps the word's tag and the others continue
it (``I-X`` after ``B-X`` or ``I-X``, ``O`` after ``O``). Its JA->KO numbers are measured on that layout,
ours on XTREME's words, and the two are not the same task: a one-word entity of three syllables is one
token in one and three in the other, which changes what a tagger trained on Japanese characters (98% of
PAN-X ja entities span several characters) must do. ``cjkv build-data --layout paper`` builds the
character layout so a model can be evaluated on both (issue 20, item 8).

The layout is applied to the sentences read from the source, before phonemizing, so every character
gets its own transcription. Files the layout does not touch are built exactly as under ``xtreme``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Callable, Iterable

from cjkv_phon.data.sentences import Sentence
from cjkv_phon.errors import check_choice

DEFAULT_LAYOUT = "xtreme"


def _continue_tag(tag: str) -> str:
    """The tag of a word's second and later characters: inside the word's entity, or ``O``."""
    return f"I-{tag[2:]}" if tag.startswith(("B-", "I-")) else "O"


def split_into_characters(sentence: Sentence) -> Sentence:
    """The paper's layout of one sentence: every token split into characters (code points, after the
    reader's NFC normalisation, so a Hangul syllable is one), the first keeping the token's tag.

    Unlabelled sentences (``tags is None``) are split the same way and stay unlabelled.
    """
    tokens: list[str] = []
    tags: list[str] = []
    for k, token in enumerate(sentence.tokens):
        chars = list(token)
        tokens += chars
        if sentence.tags is not None:
            tag = sentence.tags[k]
            tags += [tag] + [_continue_tag(tag)] * (len(chars) - 1)
    return replace(sentence, tokens=tuple(tokens), tags=None if sentence.tags is None else tuple(tags))


# layout -> {(task, lang): transform}; a (task, lang) not listed keeps XTREME's tokens under that layout.
LAYOUTS: dict[str, dict[tuple[str, str], Callable[[Sentence], Sentence]]] = {
    "xtreme": {},
    "paper": {("panx", "ko"): split_into_characters},
}


def check_layout(layout: str) -> str:
    """``layout`` if it is known, else ``ValueError`` listing the valid ones."""
    check_choice("layout", layout, tuple(LAYOUTS))
    return layout


def applies(layout: str, task: str, lang: str) -> bool:
    """Whether ``layout`` changes the files of ``task``/``lang`` (so their build state must say so)."""
    return (task, lang) in LAYOUTS[check_layout(layout)]


def apply_layout(sentences: Iterable[Sentence], layout: str, task: str, lang: str) -> tuple[Sentence, ...]:
    """The sentences of one file in ``layout`` (unchanged where the layout does not apply)."""
    transform = LAYOUTS[check_layout(layout)].get((task, lang))
    return tuple(sentences) if transform is None else tuple(transform(s) for s in sentences)


def layout_counts(sentences: Iterable[Sentence]) -> dict[str, int]:
    """Sentences, tokens, entities (seqeval's default chunking, as the metric reads them) and entities
    one token long: the figures that tell the two layouts apart."""
    from seqeval.metrics.sequence_labeling import get_entities     # the metric's own chunking

    out: Counter[str] = Counter(sentences=0, tokens=0, entities=0, single_token_entities=0)
    for s in sentences:
        out["sentences"] += 1
        out["tokens"] += len(s.tokens)
        if s.tags is not None:
            entities = get_entities(list(s.tags))
            out["entities"] += len(entities)
            out["single_token_entities"] += sum(1 for _, start, end in entities if start == end)
    return dict(out)
