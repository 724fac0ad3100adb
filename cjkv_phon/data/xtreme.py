"""XTREME ``download/`` TSV reader: PAN-X and UDPOS files -> :class:`Sentence` objects.

The XTREME layout is ``<root>/<task>/<split>-<lang>.tsv`` with one token per line and a blank line
between sentences. A sample of ``panx/train-zh.tsv`` (``\\t`` is a TAB)::

    2\\tO
    0\\tO
    0\\tO
    9\\tO
    年\\tO

    ...

Three forms are accepted, decided once per file from its first token line so that a file never mixes
them silently:

* ``token\\ttag`` -- XTREME's preprocessed form (labelled);
* ``lang:token\\ttag`` -- the raw Rahimi et al. (2019) PAN-X form, with a language prefix on every token;
* ``token`` -- an unlabelled file (XTREME strips the test labels): the sentences get ``tags=None``.

Anything else -- a missing or unknown tag, extra columns, a control character, CR or byte-order mark
anywhere (:mod:`~cjkv_phon.data.input_rules`), bytes that are not UTF-8, an empty token or a token
with whitespace inside -- is malformed: it raises
:class:`~cjkv_phon.errors.InputError` naming file, line and content, or, with ``skip_malformed``, the
sentence that holds the line is dropped whole (so no sentence silently loses a token) and recorded.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from cjkv_phon.data.input_rules import char_problem
from cjkv_phon.data.normalize import normalize_token
from cjkv_phon.data.sentences import Sentence
from cjkv_phon.errors import InputError
from cjkv_phon.provenance import sha256_file
from cjkv_phon.schema import LABELS

log = logging.getLogger(__name__)

BOM = "\ufeff"


@dataclass(frozen=True)
class Skipped:
    """One malformed line that was skipped (with its whole sentence) under ``skip_malformed``."""

    path: str
    line: int
    reason: str
    content: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.reason} (got {self.content!r})"


@dataclass(frozen=True)
class ReadResult:
    """What a reader returns: the sentences kept and the malformed lines skipped.

    Attributes:
        sentences: kept sentences in file order; their ids count skipped sentences too, so the same
            source sentence keeps the same id whether or not malformed neighbours are skipped.
        skipped: one entry per dropped sentence (its first malformed line).
        normalised: tokens that Unicode normalisation changed (:mod:`cjkv_phon.data.normalize`).
    """

    sentences: tuple[Sentence, ...]
    skipped: tuple[Skipped, ...] = field(default=())
    normalised: int = 0


def xtreme_path(root: str | Path, task: str, lang: str, split: str) -> Path:
    """Where XTREME keeps one file: ``<root>/<task>/<split>-<lang>.tsv``."""
    return Path(root) / task / f"{split}-{lang}.tsv"


def decode_lines(path: Path) -> Iterator[tuple[int, str | None, bytes]]:
    """Yield ``(line_no, text, raw)`` for each line; ``text`` is None where the bytes are not UTF-8.

    Lines are split on ``\\n`` only, so a CR stays visible in the text and can be reported.
    The final empty piece after a trailing newline is not a line and is not yielded.
    """
    data = path.read_bytes()
    pieces = data.split(b"\n")
    if pieces and pieces[-1] == b"":
        pieces.pop()
    for i, raw in enumerate(pieces, start=1):
        try:
            yield i, raw.decode("utf-8"), raw
        except UnicodeDecodeError:
            yield i, None, raw


def line_problem(text: str | None, line_no: int) -> str | None:
    """Encoding-level problems shared by every text reader (TSV and CoNLL-U), or None.

    The character rule (:func:`~cjkv_phon.data.input_rules.char_problem`) is the same on every line.
    """
    if text is None:
        return "line is not valid UTF-8"
    return char_problem(text)


def ends_sentence(text: str | None, problem: str | None, skip_malformed: bool) -> bool:
    """Whether a line ends the current sentence: a blank line, or under ``skip_malformed`` a line
    that is blank but for a CR (a CRLF file), so skipping stays per sentence."""
    if text is None or text.rstrip("\r") != "":
        return False
    return problem is None or skip_malformed


def token_problem(token: str) -> str | None:
    """Why ``token`` cannot be a token (empty, or whitespace inside), or None."""
    if not token:
        return "empty token"
    if any(ch.isspace() for ch in token):
        return "token contains whitespace"
    return None


@dataclass(frozen=True)
class FileForm:
    """The form of one file, fixed by its first token line (see the module docstring)."""

    labelled: bool
    prefix: str  # "zh:" for the Rahimi form, "" otherwise


def _detect_form(fields: list[str], lang: str) -> FileForm:
    prefix = f"{lang}:"
    rahimi = fields[0].startswith(prefix) and len(fields[0]) > len(prefix)
    return FileForm(labelled=len(fields) >= 2, prefix=prefix if rahimi else "")


def parse_token_line(fields: list[str], form: FileForm, labels: tuple[str, ...]
                     ) -> tuple[str, str | None]:
    """Split one token line into ``(token, tag)``; raise ``ValueError(reason)`` if malformed."""
    if len(fields) > 2:
        raise ValueError(f"{len(fields)} TAB-separated columns, expected "
                         f"{'2 (token, tag)' if form.labelled else '1 (token)'}")
    if form.labelled and (len(fields) < 2 or fields[1] == ""):
        raise ValueError("missing tag in a labelled file")
    if not form.labelled and len(fields) == 2:
        raise ValueError("tag column in a file whose first token line has none")
    token = fields[0]
    if form.prefix:
        if not token.startswith(form.prefix):
            raise ValueError(f"missing {form.prefix!r} prefix in a Rahimi-form file")
        token = token[len(form.prefix):]
    problem = token_problem(token)
    if problem:
        raise ValueError(problem)
    tag = fields[1] if form.labelled else None
    if tag is not None and tag not in labels:
        raise ValueError(f"unknown tag {tag!r}; valid: {', '.join(labels)}")
    return token, tag


@dataclass
class _Pending:
    """The sentence being assembled while reading."""

    first_line: int = 0
    tokens: list[str] = field(default_factory=list)
    tags: list[str | None] = field(default_factory=list)
    bad: Skipped | None = None


class SentenceCollector:
    """Groups token lines into sentences, numbering them and dropping (or raising on) bad ones.

    Shared by the TSV and CoNLL-U readers so both apply the same skip and id rules.
    """

    def __init__(self, path: Path, task: str, lang: str, split: str, skip_malformed: bool) -> None:
        self.path, self.task, self.lang, self.split = path, task, lang, split
        self.skip_malformed = skip_malformed
        self.sentences: list[Sentence] = []
        self.skipped: list[Skipped] = []
        self.index = 0
        self.labelled = True
        self.cur = _Pending()
        self.normalised = 0

    @property
    def current_is_bad(self) -> bool:
        """Whether the sentence being read already has a malformed line (it will be dropped)."""
        return self.cur.bad is not None

    def add(self, line_no: int, token: str, tag: str | None) -> None:
        """Append a good token line to the current sentence (NFC-normalised, counted if changed)."""
        if not self.cur.tokens and self.cur.bad is None:
            self.cur.first_line = line_no
        normal = normalize_token(token)
        if normal != token:
            self.normalised += 1
        self.cur.tokens.append(normal)
        self.cur.tags.append(tag)

    def bad(self, line_no: int, reason: str, content: str) -> None:
        """Record a malformed line: raise, or mark the current sentence to be dropped."""
        if not self.skip_malformed:
            raise InputError(reason, path=self.path, line=line_no, value=content)
        if self.cur.bad is None:
            self.cur.bad = Skipped(str(self.path), line_no, reason, content)

    def discard(self) -> None:
        """Forget the current sentence without giving it an id (a sentence the source excludes)."""
        self.cur = _Pending()

    def close(self) -> None:
        """End the current sentence (at a blank line or the end of the file)."""
        cur, self.cur = self.cur, _Pending()
        if not cur.tokens and cur.bad is None:
            return
        if cur.bad is not None:
            self.skipped.append(cur.bad)
            log.warning("skipped sentence %d: %s", self.index, cur.bad)
        else:
            self.sentences.append(Sentence(
                id=f"{self.task}.{self.lang}.{self.split}.{self.index}", lang=self.lang,
                task=self.task, split=self.split, tokens=tuple(cur.tokens),
                tags=tuple(cur.tags) if self.labelled else None,  # type: ignore[arg-type]
                source=f"{self.path}:{cur.first_line}"))
        self.index += 1

    def result(self) -> ReadResult:
        """The sentences and skipped lines collected so far."""
        return ReadResult(tuple(self.sentences), tuple(self.skipped), self.normalised)


def shown_line(text: str | None, raw: bytes) -> str:
    """The line as shown in error messages; undecodable bytes appear as ``\\xNN``."""
    return text if text is not None else raw.decode("utf-8", errors="backslashreplace")


def read_xtreme_tsv(path: str | Path, *, task: str, lang: str, split: str,
                    skip_malformed: bool = False, max_sentences: int | None = None) -> ReadResult:
    """Read one XTREME PAN-X/UDPOS TSV file.

    Args:
        path: the ``.tsv`` file.
        task, lang, split: recorded in each sentence and its id ``<task>.<lang>.<split>.<index>``;
            ``task`` also selects the valid tag set and ``lang`` the Rahimi prefix.
        skip_malformed: drop (and record) sentences with a malformed line instead of raising.
        max_sentences: stop after this many sentences (counted in file order, kept or skipped).

    Returns:
        The sentences and the skipped lines.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        InputError: a malformed line, unless ``skip_malformed``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"XTREME file not found: {path}")
    labels = LABELS[task]
    out = SentenceCollector(path, task, lang, split, skip_malformed)
    form: FileForm | None = None
    for line_no, text, raw in decode_lines(path):
        if max_sentences is not None and out.index >= max_sentences:
            break
        problem = line_problem(text, line_no)
        if ends_sentence(text, problem, skip_malformed):
            out.close()
            continue
        if problem is None:
            fields = text.split("\t")  # type: ignore[union-attr]
            form = form or _detect_form(fields, lang)
            out.labelled = form.labelled
            try:
                out.add(line_no, *parse_token_line(fields, form, labels))
                continue
            except ValueError as err:
                problem = str(err)
        out.bad(line_no, problem, shown_line(text, raw))
    out.close()
    return out.result()


def count_sentences(path: str | Path) -> int:
    """Number of sentences in an XTREME TSV file (runs of non-blank lines), without validating it."""
    count, in_sentence = 0, False
    with open(path, "rb") as f:
        for raw in f:
            blank = raw.strip(b"\r\n") == b""
            if not blank and not in_sentence:
                count += 1
            in_sentence = not blank
    return count


@dataclass(frozen=True)
class XtremeSource:
    """An XTREME ``download/`` folder as a build source (picklable, for worker processes)."""

    root: str
    kind: str = "xtreme"

    def files(self, task: str, lang: str, split: str) -> list[Path]:
        """The file(s) that hold one (task, lang, split); they need not exist."""
        return [xtreme_path(self.root, task, lang, split)]

    def fingerprint(self, task: str, lang: str, split: str) -> dict[str, str]:
        """Input identity for the build state: ``{path inside the folder: sha256}``."""
        return {p.relative_to(self.root).as_posix(): sha256_file(p)
                for p in self.files(task, lang, split)}

    def read(self, task: str, lang: str, split: str, *, skip_malformed: bool = False,
             max_sentences: int | None = None) -> ReadResult:
        """Read one (task, lang, split); a missing file raises ``FileNotFoundError`` naming it."""
        path = xtreme_path(self.root, task, lang, split)
        if not path.is_file():
            raise FileNotFoundError(f"no {task} {split} file for {lang!r} in the XTREME folder "
                                    f"{self.root}: expected {path}")
        return read_xtreme_tsv(path, task=task, lang=lang, split=split,
                               skip_malformed=skip_malformed, max_sentences=max_sentences)
