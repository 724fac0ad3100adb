"""g2pM's polyphone model (Park & Lee 2020), read safely and run fast.

g2pM (PyPI ``g2pM``, Apache-2.0) ships a BiLSTM trained on the CPP train split that reads a
polyphonic character from its sentence: characters -> 64-d embeddings -> one bidirectional LSTM
layer (32 units per direction) -> the hidden state at the polyphone -> two dense layers -> one of 876
numbered-pinyin classes. Its own ``G2pM`` class runs it one sentence at a time in float64 numpy with
Python-level gate slicing (~460 sentences/s here), too slow for the build's 1,000 sentences/s.

What this module changes, and why the readings stay g2pM's:

* The weights are read with a restricted unpickler that only rebuilds numpy arrays, dicts, lists and
  strings (the package ships pickles; files from elsewhere are never trusted to run code).
* Every polyphone of every sentence given to :meth:`PolyphoneModel.predict` is one row of one
  batch, run through PyTorch's fused LSTM (the recurrence in C++, rows packed to their own lengths)
  on one thread, instead of a Python loop of numpy gate slices per sentence.
* The argmax is taken over the character's own candidate readings (g2pM's CC-CEDICT digest), not
  over all 876 classes, so a character never gets another character's reading.

Float32 throughout (the shipped weights are float32; g2pM casts to float64 on the way).
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata, resources
from typing import Sequence

import numpy as np

from cjkv_phon.errors import InputError

PACKAGE = "g2pM"
BOS, EOS, UNK = "시", "끝", "<UNK>"  # g2pM's own sentence-boundary and unknown symbols


class _ArraysOnly(pickle.Unpickler):
    """Unpickler that rebuilds numpy arrays and builtin containers, and refuses any other global."""

    _ALLOWED = {("numpy", "dtype"), ("numpy", "ndarray"), ("numpy.core.multiarray", "_reconstruct"),
                ("numpy._core.multiarray", "_reconstruct")}

    def find_class(self, module: str, name: str):  # noqa: D102 (pickle protocol)
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refused global {module}.{name}")
        if module == "numpy.core.multiarray":
            module = "numpy._core.multiarray"  # numpy 2 moved it; the pickles name the old path
        return super().find_class(module, name)


def as_pinyin(label: str) -> str:
    """CPP/g2pM's CC-CEDICT spelling of ü (``lu:4``, ``nu:e4``) as the project writes it (``lü4``)."""
    return label.replace("u:", "ü")


def _load(name: str) -> object:
    """One of g2pM's shipped pickles, through :class:`_ArraysOnly`."""
    path = resources.files(PACKAGE) / name
    try:
        with path.open("rb") as f:
            return _ArraysOnly(f).load()
    except (pickle.UnpicklingError, EOFError, ValueError) as err:
        raise InputError(f"unreadable g2pM model file: {err}", str(path)) from None


@dataclass(frozen=True, eq=False)  # hashed by identity: one PyTorch LSTM per loaded model
class PolyphoneModel:
    """The g2pM BiLSTM with precomputed input projections (module docstring).

    Attributes:
        char_index: character -> vocabulary row.
        candidates: character -> its readings (numbered pinyin, tone 5 neutral); polyphones have > 1.
        classes: output class -> numbered pinyin.
        embedding: ``[V, 64]`` character embeddings.
        lstm: the LSTM's eight tensors under PyTorch's names (``weight_ih_l0``, ``..._reverse``).
        w1, b1, w2, b2: the two dense layers, transposed.
        class_index: numbered pinyin -> output class.
    """

    char_index: dict[str, int]
    candidates: dict[str, tuple[str, ...]]
    classes: tuple[str, ...]
    embedding: np.ndarray
    lstm: dict[str, np.ndarray]
    w1: np.ndarray
    b1: np.ndarray
    w2: np.ndarray
    b2: np.ndarray
    class_index: dict[str, int]

    def is_polyphone(self, char: str) -> bool:
        """True when the model knows several readings of ``char``."""
        return len(self.candidates.get(char, ())) > 1

    def _ids(self, text: str) -> list[int]:
        unk = self.char_index[UNK]
        return [self.char_index.get(c, unk) for c in text]

    def _rows(self, sentences: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Padded id rows ``BOS + sentence + EOS`` (``[B, T]``) and their lengths (``[B]``).

        Padding (id 0) is never read: rows are packed to their own lengths.
        """
        bos, eos = self.char_index[BOS], self.char_index[EOS]
        rows = [[bos, *self._ids(text), eos] for text in sentences]
        lengths = np.array([len(r) for r in rows])
        ids = np.zeros((len(rows), lengths.max()), dtype=np.int64)
        for i, r in enumerate(rows):
            ids[i, :len(r)] = r
        return ids, lengths

    def _logits(self, ids: np.ndarray, lengths: np.ndarray, rows: np.ndarray,
                where: np.ndarray) -> np.ndarray:
        """``[N, classes]``: the logits at position ``where[n]`` of row ``rows[n]``.

        One call of PyTorch's fused LSTM over packed rows (the recurrence runs in C++, each row to its
        own length, so the backward direction starts at the row's own EOS as in g2pM), then the dense
        layers, all on one thread: the batches are small and the build runs one process per core
        (numpy's BLAS would start a thread per core for the dense layers).
        """
        import torch  # imported here: only Chinese text pays for it
        from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

        lstm = _torch_lstm(self)
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            with torch.inference_mode():
                emb = torch.from_numpy(self.embedding[ids])
                packed = pack_padded_sequence(emb, torch.from_numpy(lengths), batch_first=True,
                                              enforce_sorted=False)
                out, _ = pad_packed_sequence(lstm(packed)[0], batch_first=True)
                states = out[torch.from_numpy(rows), torch.from_numpy(where)]  # [N, 2H]
                hidden = torch.relu(states @ torch.from_numpy(self.w1) + torch.from_numpy(self.b1))
                return (hidden @ torch.from_numpy(self.w2) + torch.from_numpy(self.b2)).numpy()
        finally:
            torch.set_num_threads(threads)

    def predict(self, sentences: Sequence[str], targets: Sequence[tuple[int, int]]
                ) -> list[tuple[str, float]]:
        """The reading of each ``(sentence index, character position)`` target and its probability.

        All targets run in one batch; each sentence with a target is one row, read once for all its
        targets (as g2pM does). The probability is the softmax over the character's own candidate
        readings (a confidence for combining the model with phrase readings).

        Example:
            >>> polyphone_model().predict(["这条路很长"], [(0, 4)])[0][0]
            'chang2'
        """
        if not targets:
            return []
        used = sorted({s for s, _ in targets})
        row_of = {s: r for r, s in enumerate(used)}
        ids, lengths = self._rows([sentences[s] for s in used])
        rows = np.array([row_of[s] for s, _ in targets])
        where = np.array([pos + 1 for _, pos in targets])  # +1: BOS
        logits = self._logits(ids, lengths, rows, where)
        return [self._choose(sentences[s][pos], row) for (s, pos), row in zip(targets, logits)]

    def _choose(self, char: str, logits: np.ndarray) -> tuple[str, float]:
        """The best of ``char``'s candidate readings and its softmax probability among them."""
        known = [self.class_index[o] for o in self.candidates.get(char, ()) if o in self.class_index]
        if not known:
            known = list(range(len(self.classes)))
        scores = logits[known].astype(np.float64)
        probs = np.exp(scores - scores.max())
        best = int(probs.argmax())
        return self.classes[known[best]], float(probs[best] / probs.sum())


@lru_cache(maxsize=1)
def _torch_lstm(model: PolyphoneModel):
    """The model's BiLSTM as a PyTorch module, built once per model."""
    import torch

    hidden = model.lstm["weight_hh_l0"].shape[1]
    lstm = torch.nn.LSTM(model.embedding.shape[1], hidden, batch_first=True, bidirectional=True)
    lstm.load_state_dict({k: torch.from_numpy(v) for k, v in model.lstm.items()})
    return lstm.eval()


@lru_cache(maxsize=1)
def polyphone_model() -> PolyphoneModel:
    """The shipped g2pM model, loaded once per process."""
    state = _load("np_ckpt.pkl")
    char_index = _load("char2idx.pkl")
    class_index = _load("class2idx.pkl")
    cedict = _load("digest_cedict.pkl")
    if not all(isinstance(x, dict) for x in (state, char_index, class_index, cedict)):
        raise InputError("unexpected g2pM model layout", f"{PACKAGE} {metadata.version(PACKAGE)}")
    classes = [""] * len(class_index)
    for pron, idx in class_index.items():
        classes[idx] = as_pinyin(pron)
    f32 = lambda name: np.ascontiguousarray(state[name], dtype=np.float32)  # noqa: E731
    return PolyphoneModel(
        char_index=char_index, candidates={k: tuple(map(as_pinyin, v)) for k, v in cedict.items()},
        classes=tuple(classes), embedding=f32("embedding.weight"),
        lstm={k[len("lstm."):]: f32(k) for k in state if k.startswith("lstm.")},
        w1=f32("logit_layer.0.weight").T.copy(), b1=f32("logit_layer.0.bias"),
        w2=f32("logit_layer.2.weight").T.copy(), b2=f32("logit_layer.2.bias"),
        class_index={c: i for i, c in enumerate(classes)})
