"""Universal Dependencies CoNLL-U -> UDPOS sentences, following XTREME's conversion exactly.

A CoNLL-U sentence (``ID FORM LEMMA UPOS XPOS FEATS HEAD DEPREL DEPS MISC``, TAB-separated; only
ID, FORM, UPOS and HEAD matter here)::

    # text = vámonos al mar
    1-2   vámonos   _     _     _  _  _  _    _  _
    1     vamos     ir    VERB  _  _  0  root _  _
    2     nos       nos   PRON  _  _  1  obj  _  _
    3-4   al        _     _     _  _  _  _    _  _
    3     a         a     ADP   _  _  5  case _  _
    4     el        el    DET   _  _  5  det  _  _
    5     mar       mar   NOUN  _  _  1  obl  _  _

becomes the UDPOS tokens ``vámonos/VERB al/ADP mar/NOUN``. XTREME runs ud-conversion-tools'
``conllu_to_conll.py --replace_subtokens_with_fused_forms`` and then ``utils_preprocess.py``
(``udpos_preprocess``); the rules reproduced here are:

* a multiword token (``3-4``) becomes one token with its fused form and the UPOS of the span member
  closest to the root (fewest steps up the HEAD column); on a tie, the UPOS ranked first in
  ``resources/ud_fused_head_pos.yaml``. So ``al`` above is ``ADP`` (3 and 4 are both one step below 5,
  a tie that ADP wins over DET);
* empty nodes (``5.1``) are skipped;
* sentences whose forms are hidden (all, or all but one, ``_``; e.g. Japanese BCCWJ) are dropped;
* spaces and ZERO WIDTH NON-JOINER inside a form are removed (Vietnamese ``hải quân`` -> ``hảiquân``);
* every treebank file of a language and split is read in sorted file-name order and concatenated.

The UD 2.5 files XTREME uses per language and split are listed in ``resources/ud25_treebanks.csv``; a
folder missing one of them for a requested split is an error naming the missing files.
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml

from cjkv_phon.data.xtreme import (ReadResult, SentenceCollector, decode_lines, ends_sentence,
                                   line_problem, shown_line, token_problem)
from cjkv_phon.errors import InputError
from cjkv_phon.provenance import sha256_file
from cjkv_phon.schema import LANGS, SPLITS, UDPOS_LABELS

log = logging.getLogger(__name__)

N_COLUMNS = 10
HIDDEN_FORM = "_"
_TREEBANKS = "ud25_treebanks.csv"
_HEAD_POS = "ud_fused_head_pos.yaml"


@dataclass(frozen=True)
class Word:
    """One syntactic word of a CoNLL-U sentence (what the reader needs of it)."""

    id: int
    form: str
    upos: str
    head: int
    line: int


@dataclass
class UdSentence:
    """The words and multiword-token spans of one CoNLL-U sentence, as read."""

    words: list[Word] = field(default_factory=list)
    fused: list[tuple[int, int, str]] = field(default_factory=list)   # (start, end, form)


def _resource_text(name: str) -> str:
    return resources.files("cjkv_phon.resources").joinpath(name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def head_pos_precedence() -> tuple[str, ...]:
    """The UPOS tie-break order for fused-form heads (``resources/ud_fused_head_pos.yaml``)."""
    where = f"cjkv_phon/resources/{_HEAD_POS}"
    data = yaml.safe_load(_resource_text(_HEAD_POS))
    order = data.get("precedence") if isinstance(data, dict) else None
    if not isinstance(order, list) or not order:
        raise InputError("needs a non-empty 'precedence' list", path=where, value=data)
    unknown = [p for p in order if p not in UDPOS_LABELS]
    if unknown:
        raise InputError("precedence lists unknown UPOS", path=where, value=unknown)
    return tuple(order)


@lru_cache(maxsize=1)
def treebank_table() -> dict[tuple[str, str], tuple[str, ...]]:
    """``(lang, split) -> UD 2.5 file names`` from ``resources/ud25_treebanks.csv``, checked on load."""
    where = f"cjkv_phon/resources/{_TREEBANKS}"
    lines = _resource_text(_TREEBANKS).splitlines()
    numbered = [(i, ln) for i, ln in enumerate(lines, start=1) if ln.strip() and not ln.startswith("#")]
    reader = csv.DictReader(io.StringIO("\n".join(ln for _, ln in numbered)))
    if reader.fieldnames != ["lang", "split", "file"]:
        raise InputError("header must be lang,split,file", path=where, line=numbered[0][0],
                         value=reader.fieldnames)
    table: dict[tuple[str, str], list[str]] = {}
    for (line_no, _), row in zip(numbered[1:], reader):
        lang, split, name = row["lang"], row["split"], row["file"]
        if lang not in LANGS or split not in SPLITS or not name.startswith(f"{lang}_") \
                or not name.endswith(f"-ud-{split}.conllu"):
            raise InputError("expected a known lang, split and a <lang>_<tb>-ud-<split>.conllu name",
                             path=where, line=line_no, value=row)
        table.setdefault((lang, split), []).append(name)
    return {k: tuple(sorted(v)) for k, v in table.items()}


def treebank_files(ud_dir: str | Path, lang: str, split: str) -> list[Path]:
    """The CoNLL-U files that make up UDPOS ``lang``/``split``, in XTREME's (sorted) order.

    Raises:
        FileNotFoundError: a file XTREME uses is missing, or there is nothing for ``lang``/``split``.
    """
    ud_dir = Path(ud_dir)
    expected = treebank_table().get((lang, split), ())
    missing = [name for name in expected if not (ud_dir / name).is_file()]
    if missing:
        raise FileNotFoundError(f"UDPOS {lang} {split} needs every UD 2.5 treebank XTREME uses; "
                                f"missing from {ud_dir}: {', '.join(missing)}")
    found = sorted(ud_dir.glob(f"{lang}_*-ud-{split}.conllu"))
    extra = [p.name for p in found if p.name not in expected]
    if extra:
        log.info("UDPOS %s %s: also using treebank files not in XTREME's UD 2.5 set: %s",
                 lang, split, ", ".join(extra))
    if not found:
        raise FileNotFoundError(f"no UD treebank for {lang} {split} in {ud_dir}: expected "
                                f"{lang}_<treebank>-ud-{split}.conllu")
    return found


def parse_word_line(fields: list[str], line_no: int, sent: UdSentence) -> None:
    """Add one token line to ``sent``; raise ``ValueError(reason)`` if it is malformed."""
    if len(fields) != N_COLUMNS:
        raise ValueError(f"{len(fields)} TAB-separated columns, expected {N_COLUMNS}")
    wid, form, upos, head = fields[0], fields[1], fields[3], fields[6]
    if "." in wid:
        return  # an empty node of the enhanced graph: not a surface token
    if "-" in wid:
        start, _, end = wid.partition("-")
        if not (start.isdigit() and end.isdigit() and int(start) < int(end)):
            raise ValueError(f"bad multiword token range {wid!r}")
        sent.fused.append((int(start), int(end), form))
        return
    expected = len(sent.words) + 1
    if not wid.isdigit() or int(wid) != expected:
        raise ValueError(f"word ID {wid!r} out of sequence, expected {expected}")
    if upos not in UDPOS_LABELS:
        raise ValueError(f"unknown UPOS {upos!r}; valid: {', '.join(UDPOS_LABELS)}")
    if not head.isdigit():
        raise ValueError(f"HEAD {head!r} is not a word index")
    sent.words.append(Word(int(wid), form, upos, int(head), line_no))


def _depth(words: list[Word], wid: int) -> int:
    """Steps from word ``wid`` up the HEAD column to the root (0); a cycle raises ``ValueError``."""
    steps, node = 0, wid
    while node != 0:
        if steps > len(words) or node > len(words):
            raise ValueError(f"HEAD column of word {wid} has a cycle or points outside the sentence")
        node = words[node - 1].head
        steps += 1
    return steps


def span_head(words: list[Word], start: int, end: int, precedence: tuple[str, ...]) -> Word:
    """The member of ``words[start..end]`` (1-based, inclusive) whose UPOS the fused form keeps.

    The member closest to the root wins; among equally high members, the UPOS ranked first in
    ``precedence`` (unlisted ones last), then the leftmost.
    """
    span = words[start - 1:end]
    depths = [_depth(words, w.id) for w in span]
    top = [w for w, d in zip(span, depths) if d == min(depths)]
    rank = {pos: i for i, pos in enumerate(precedence)}
    return min(top, key=lambda w: rank.get(w.upos, len(precedence)))


def fuse(sent: UdSentence, precedence: tuple[str, ...]) -> list[Word]:
    """The sentence's surface tokens: each multiword span replaced by its fused form."""
    if any(end > len(sent.words) for _, end, _ in sent.fused):
        raise ValueError("multiword token range goes past the last word")
    replaced: dict[int, Word] = {}
    covered: set[int] = set()
    for start, end, form in sent.fused:
        head = span_head(sent.words, start, end, precedence)
        replaced[start] = Word(start, form, head.upos, head.head, sent.words[start - 1].line)
        covered.update(range(start, end + 1))
    return [replaced.get(w.id, w) for w in sent.words if w.id not in covered or w.id in replaced]


def clean_form(form: str) -> str:
    """XTREME's clean-up of a form: spaces and ZERO WIDTH NON-JOINER removed."""
    return form.replace("\u200c", "").replace(" ", "")


def hidden_forms(tokens: list[Word]) -> bool:
    """True for a sentence whose forms are withheld (XTREME keeps it only if at most len-2 are ``_``)."""
    n_hidden = sum(w.form == HIDDEN_FORM for w in tokens)
    return n_hidden > 0 and n_hidden >= len(tokens) - 1


def _emit(out: SentenceCollector, sent: UdSentence, precedence: tuple[str, ...]) -> None:
    """Turn one complete CoNLL-U sentence into collector tokens (or a malformed mark)."""
    if not sent.words or out.current_is_bad:
        out.close()
        return
    try:
        tokens = fuse(sent, precedence)
    except ValueError as err:
        out.bad(sent.words[0].line, str(err), sent.words[0].form)
        out.close()
        return
    if hidden_forms(tokens):
        log.debug("%s:%d: sentence with hidden forms dropped (as XTREME does)",
                  out.path, tokens[0].line)
        out.discard()  # no id consumed: XTREME's files never had this sentence
        return
    for w in tokens:
        form = clean_form(w.form)
        problem = token_problem(form)
        if problem:
            out.bad(w.line, problem, w.form)
        else:
            out.add(w.line, form, w.upos)
    out.close()


def read_conllu(paths: list[Path], *, lang: str, split: str, skip_malformed: bool = False,
                max_sentences: int | None = None) -> ReadResult:
    """Read CoNLL-U files, concatenated in the given order, as UDPOS sentences.

    Args:
        paths: the treebank files (see :func:`treebank_files` for XTREME's set and order).
        lang, split: recorded in each sentence; ids ``udpos.<lang>.<split>.<index>`` run on across files.
        skip_malformed: drop (and record) sentences with a malformed line instead of raising.
        max_sentences: stop after this many sentences.

    Raises:
        InputError: a malformed line (bad column count, ID, UPOS or HEAD; encoding problems; a form
            with whitespace other than spaces), unless ``skip_malformed``.
    """
    precedence = head_pos_precedence()
    out = SentenceCollector(Path(paths[0]) if paths else Path("."), "udpos", lang, split,
                            skip_malformed)
    for path in paths:
        out.path = Path(path)
        sent = UdSentence()
        for line_no, text, raw in decode_lines(out.path):
            if max_sentences is not None and out.index >= max_sentences:
                return out.result()
            problem = line_problem(text, line_no)
            if ends_sentence(text, problem, skip_malformed):
                _emit(out, sent, precedence)
                sent = UdSentence()
                continue
            if problem is None and text.startswith("#"):  # type: ignore[union-attr]
                continue
            if problem is None:
                try:
                    parse_word_line(text.split("\t"), line_no, sent)  # type: ignore[union-attr]
                    continue
                except ValueError as err:
                    problem = str(err)
            out.bad(line_no, problem, shown_line(text, raw))
        if max_sentences is None or out.index < max_sentences:
            _emit(out, sent, precedence)
    return out.result()


@dataclass(frozen=True)
class ConlluSource:
    """A folder of UD CoNLL-U files as a build source for UDPOS (picklable, for worker processes)."""

    root: str
    kind: str = "conllu"

    def files(self, task: str, lang: str, split: str) -> list[Path]:
        """The treebank files that make up one split (raises if XTREME's set is incomplete)."""
        if task != "udpos":
            raise ValueError(f"a CoNLL-U folder ({self.root}) provides udpos only, not {task!r}; "
                             "pass --tasks udpos or an XTREME folder")
        return treebank_files(self.root, lang, split)

    def fingerprint(self, task: str, lang: str, split: str) -> dict[str, str]:
        """Input identity for the build state: ``{treebank file name: sha256}``."""
        return {p.name: sha256_file(p) for p in self.files(task, lang, split)}

    def read(self, task: str, lang: str, split: str, *, skip_malformed: bool = False,
             max_sentences: int | None = None) -> ReadResult:
        """Read one UDPOS split from its treebanks."""
        return read_conllu(self.files(task, lang, split), lang=lang, split=split,
                           skip_malformed=skip_malformed, max_sentences=max_sentences)
