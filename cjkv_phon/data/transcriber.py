"""Batched transcription: sentences -> tokens, IPA, Romanized, status (aligned 1:1), for any caller.

:func:`transcribe_sentences` then :func:`aligned_columns` is the one code path from token lists to the
four aligned Arrow columns: ``cjkv build-data`` (:func:`cjkv_phon.data.build.sentences_to_table`) and
``cjkv phonemize`` (through :class:`Transcriber`) both take it, so a sentence gets the same readings from
either. Raw text and token lists are NFC-normalised first (:mod:`cjkv_phon.data.normalize`), as
build-data's readers normalise every token. It goes
through the phonemizers' public entry (:func:`~cjkv_phon.data.phonemize.get_phonemizer` and
``Phonemizer.transcribe`` on the whole sentence), so the context rules (行 is *háng* in 银行) and any
normalisation done there apply to both.

:class:`Transcriber` wraps it for batches: built once per process (the phonemizer is made on first
use, seconds and ~100 MB, and shared by every Transcriber of that language and scheme in the
process), called on a batch of sentences, raw text (segmented by :mod:`cjkv_phon.data.segment`) or
token lists. It is a picklable callable over column batches, so it plugs into::

    ds = ds.map(Transcriber("zh", tokenize="chars", input_column="text"), batched=True, num_proc=2)
    ray_ds.map_batches(Transcriber, fn_constructor_kwargs={"lang": "zh"}, batch_format="pyarrow",
                       compute=ray.data.ActorPoolStrategy(size=4))

Pickling drops the phonemizer (each worker process builds its own once), so the object sent to
workers, and hashed by ``datasets`` for its cache fingerprint, is a few bytes of settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import accumulate, chain
from typing import Any, Callable, Iterable, Mapping, Sequence

import pyarrow as pa

from cjkv_phon.data.segment import TOKENIZATIONS, segmenter
from cjkv_phon.errors import InputError, check_choice
from cjkv_phon.schema import LANGS, SCHEMES

# The columns a Transcriber adds to a batch (``tokens`` replaces the input's, if any).
OUTPUT_COLUMNS: tuple[str, ...] = ("tokens", "ipa", "romanized", "status")

# One token of every script the phonemizers read or route (Han, both kana, Hangul, Latin, digits,
# punctuation), transcribed at set-up: tables loaded at a script's first run (the ``hanja``
# reading table is ~0.3-0.7 s in Korean text) load then, not inside the first batch of each
# worker. Memo caches only store what they would compute anyway, so the output is unchanged.
WARM_UP_TOKENS: tuple[str, ...] = ("中国", "行", "ひらがな", "カタカナ", "한국", "Việt", "abc", "1", "。")


def list_column(rows: Sequence[Sequence[str]]) -> pa.Array:
    """A ``list<string>`` column from per-row sequences, via flat values and int32 offsets.

    Converting nested Python lists costs about half again as much; the arrays are the same.
    """
    offsets = pa.array([0, *accumulate(map(len, rows))], pa.int32())
    return pa.ListArray.from_arrays(offsets, pa.array(list(chain.from_iterable(rows)), pa.string()))


def transcribe_sentences(phonemizer: Any, sentences: Sequence[Sequence[str]],
                         ticks: Callable[[Sequence[Sequence[str]]], Iterable[Sequence[str]]] | None = None
                         ) -> list[Any]:
    """Each tokenised sentence through ``phonemizer.transcribe`` whole (readings depend on context).

    The result for a sentence does not depend on which other sentences share the batch.

    Args:
        phonemizer: a :class:`~cjkv_phon.data.phonemize.base.Phonemizer` (``get_phonemizer``).
        sentences: one sequence of tokens per sentence.
        ticks: wraps the iteration over ``sentences`` (build-data's progress ticks); it must yield
            every sentence, in order.

    Returns:
        One :class:`~cjkv_phon.data.phonemize.transcription.Transcription` per sentence.
    """
    return [phonemizer.transcribe(tokens) for tokens in (ticks(sentences) if ticks else sentences)]


def aligned_columns(sentences: Sequence[Sequence[str]], transcriptions: Sequence[Any]) -> dict[str, pa.Array]:
    """The aligned ``tokens``, ``ipa``, ``romanized``, ``status`` Arrow columns of transcribed sentences."""
    return {
        "tokens": list_column(sentences),
        "ipa": list_column([t.ipa for t in transcriptions]),
        "romanized": list_column([t.romanized for t in transcriptions]),
        "status": list_column([t.status for t in transcriptions]),
    }


def transcription_columns(phonemizer: Any, sentences: Sequence[Sequence[str]]) -> dict[str, pa.Array]:
    """:func:`transcribe_sentences` then :func:`aligned_columns`: the path both commands take."""
    return aligned_columns(sentences, transcribe_sentences(phonemizer, sentences))


@dataclass(frozen=True)
class TranscribedSentence:
    """One sentence's tokens and their transcriptions, aligned 1:1."""

    tokens: tuple[str, ...]
    ipa: tuple[str, ...]
    romanized: tuple[str, ...]
    status: tuple[str, ...]


def tokens_problem(tokens: Sequence[Any]) -> str | None:
    """The first bad token of a list (not a string, empty, whitespace inside), or None.

    The datasets' own rule (build-data rejects the same tokens): a token is never empty and never
    holds whitespace, so token lists survive whitespace-joined and token-per-line formats.
    """
    for j, token in enumerate(tokens):
        if not isinstance(token, str):
            return f"token {j} is a {type(token).__name__}, not a string"
        if not token:
            return f"token {j} is empty"
        if any(ch.isspace() for ch in token):
            return f"token {j} contains whitespace"
    return None


@dataclass
class Transcriber:
    """Transcribes batches of sentences of one language under one scheme.

    Attributes:
        lang: zh ja ko vi.
        scheme: ``native`` or ``paper`` (as ``build-data --scheme``).
        tokenize: how a sentence given as a string is cut: ``chars``, ``words`` or ``pretokenized``
            (whitespace-separated tokens); None means the PAN-X convention of the language (chars
            for zh/ja, words for ko/vi). A sentence given as a list of tokens is only accepted
            with ``pretokenized`` (a list is never re-segmented silently).
        input_column: the column ``__call__`` reads from a batch; None means ``tokens`` when
            ``tokenize`` is ``pretokenized``, else ``text``.
        cache: let the phonemizer memoise per-unit conversions (off only for benchmarks).
        eager: build the phonemizer at construction (Ray actors: set up before the first batch)
            instead of on the first batch.
    """

    lang: str
    scheme: str = "native"
    tokenize: str | None = None
    input_column: str | None = None
    cache: bool = True
    eager: bool = False
    _phonemizer: Any = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_choice("language", self.lang, LANGS)
        check_choice("scheme", self.scheme, SCHEMES)
        if self.tokenize is None:
            from cjkv_phon.data.segment import default_tokenization

            self.tokenize = default_tokenization(self.lang)
        check_choice("tokenization", self.tokenize, TOKENIZATIONS)
        if self.input_column is None:
            self.input_column = "tokens" if self.tokenize == "pretokenized" else "text"
        if self.eager:
            self.setup()

    def settings(self) -> dict[str, Any]:
        """The constructor arguments of an equal Transcriber (Ray's ``fn_constructor_kwargs``)."""
        return {"lang": self.lang, "scheme": self.scheme, "tokenize": self.tokenize,
                "input_column": self.input_column, "cache": self.cache, "eager": self.eager}

    # -- set-up ------------------------------------------------------------------------------
    def setup(self) -> "Transcriber":
        """Build the phonemizer, and those it routes other scripts to, now (else on the first batch)."""
        if self._phonemizer is None:
            from cjkv_phon.data.phonemize import get_phonemizer  # the linguistic tools: lazily
            from cjkv_phon.data.phonemize.routing import routes

            self._phonemizer = get_phonemizer(self.lang, self.scheme, cache=self.cache)
            # Runs of another script are read by that language's phonemizer (script routing), which
            # is otherwise built at the first such run: mid-stream, once in every worker process.
            for (lang, _script), target in sorted(routes().items()):
                if lang == self.lang and target in LANGS and target != self.lang:
                    get_phonemizer(target, self.scheme)  # as routing.py asks for it
            self._phonemizer.transcribe(WARM_UP_TOKENS)  # lazy tables (see WARM_UP_TOKENS)
        return self

    @property
    def is_set_up(self) -> bool:
        """Whether this object's phonemizer is built (a forked worker inherits it set up)."""
        return self._phonemizer is not None

    def versions(self) -> dict[str, str]:
        """Versions of the tools the phonemizer uses (as recorded by build-data)."""
        return self.setup()._phonemizer.versions()

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_phonemizer"] = None  # rebuilt once in each process that unpickles it
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)

    # -- sentences ---------------------------------------------------------------------------
    def tokens_of(self, sentences: Sequence[str | Sequence[str]]) -> list[list[str]]:
        """Token lists for a batch of sentences (strings segmented, lists checked).

        Raises:
            InputError: a token that is empty, not a string or has whitespace inside, or a list
                given where text was expected; the message gives the sentence's index in the batch.
        """
        from cjkv_phon.data.normalize import normalize_token  # build-data's readers' NFC

        cut = segmenter(self.lang, self.tokenize)
        out = []
        for i, sentence in enumerate(sentences):
            if isinstance(sentence, str):
                # NFC before cutting: decomposed Hangul or combining marks would become tokens of their own
                out.append(cut(normalize_token(sentence)))
                continue
            if sentence is None:
                raise InputError(f"sentence {i}: null instead of text or tokens", value=sentence)
            if self.tokenize != "pretokenized":
                raise InputError(f"sentence {i}: a list of tokens, but tokenize is "
                                 f"{self.tokenize!r} (give text, or use pretokenized)", value=sentence)
            tokens = [str(t) if isinstance(t, str) else t for t in sentence]  # numpy str_ -> str
            problem = tokens_problem(tokens)
            if problem:
                raise InputError(f"sentence {i}: {problem}", value=list(tokens))
            out.append([normalize_token(t) for t in tokens])
        return out

    def columns(self, sentences: Sequence[str | Sequence[str]]) -> dict[str, pa.Array]:
        """The four aligned Arrow columns (``OUTPUT_COLUMNS``) for a batch of sentences."""
        return transcription_columns(self.setup()._phonemizer, self.tokens_of(sentences))

    def transcribe(self, sentences: Sequence[str | Sequence[str]]) -> list[TranscribedSentence]:
        """Transcribe a batch of sentences (the notebook entry point).

        Example:
            >>> Transcriber("zh").transcribe(["银行行长"])[0].romanized
            ('yin2', 'hang2', 'hang2', 'zhang3')
        """
        cols = {k: v.to_pylist() for k, v in self.columns(sentences).items()}
        return [TranscribedSentence(*(tuple(cols[k][i]) for k in OUTPUT_COLUMNS))
                for i in range(len(cols["tokens"]))]

    # -- column batches (datasets.map, Ray map_batches) --------------------------------------
    def __call__(self, batch: Any) -> Any:
        """Transcribe a column batch; returns the batch with the four columns added.

        ``batch`` is a ``pyarrow.Table`` (Ray ``batch_format="pyarrow"``; returns a table) or a
        mapping of column -> values (``datasets.map(batched=True)``, Ray numpy batches; returns a
        dict of lists). The input's other columns are kept; ``tokens`` is replaced.
        """
        if isinstance(batch, pa.Table):
            values = batch.column(self._column(batch.schema.names)).to_pylist()
            return attach_columns(batch, self.columns(_sentences(values)))
        if isinstance(batch, Mapping) or hasattr(batch, "keys"):
            values = batch[self._column(list(batch.keys()))]
            cols = self.columns(_sentences(values))
            return {**{k: batch[k] for k in batch.keys()}, **{k: v.to_pylist() for k, v in cols.items()}}
        raise TypeError(f"a batch must be a pyarrow.Table or a mapping of columns, got {type(batch)}")

    def _column(self, names: Sequence[str]) -> str:
        if self.input_column not in names:
            raise KeyError(f"batch has no column {self.input_column!r} (columns: {', '.join(names)}); "
                           "set input_column, or tokenize to match the data")
        return str(self.input_column)


def attach_columns(table: pa.Table, columns: dict[str, pa.Array]) -> pa.Table:
    """``table`` with the transcription columns set: replaced where present, else appended."""
    for name in OUTPUT_COLUMNS:
        if name in table.schema.names:
            table = table.set_column(table.schema.get_field_index(name), name, columns[name])
        else:
            table = table.append_column(name, columns[name])
    return table


def _sentences(values: Any) -> list[str | list[str]]:
    """Column values as Python strings or lists (numpy object arrays from Ray become lists)."""
    out = []
    for value in values:
        if isinstance(value, str):
            out.append(str(value))
        elif value is None:
            out.append(value)  # tokens_of reports it
        else:
            out.append(list(value))
    return out
