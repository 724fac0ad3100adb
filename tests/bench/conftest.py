"""Fixtures for the bench tests: real PAN-X sentences, a real MUSE pivot dictionary, a tiny backbone."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from cjkv_phon.dictionary.build import dictionary_from_pivot, dictionary_table
from cjkv_phon.dictionary.lexicon import DictEntry, PivotDictionary, Side
from cjkv_phon.dictionary.pivot import pivot_pair
from cjkv_phon.dictionary.script import convention
from cjkv_phon.training.batches import Example


def read_panx(path: Path, limit: int) -> list[Example]:
    """The first ``limit`` sentences of an XTREME PAN-X file (``token<TAB>tag`` lines)."""
    sentences, tokens, tags = [], [], []
    lang = path.stem.split("-")[-1]
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if line.strip():
            token, tag = line.split("\t")
            tokens.append(token)
            tags.append(tag)
        elif tokens:
            sid = f"panx.{lang}.train.{len(sentences)}"
            sentences.append(Example(sid, tuple(tokens), tuple(tokens), (lang,) * len(tokens), tuple(tags)))
            tokens, tags = [], []
            if len(sentences) == limit:
                break
    return sentences


def valid_iob(tags: tuple[str, ...]) -> bool:
    """No ``I-X`` after ``O`` or another type: about 3% of PAN-X zh sentences break this (noisy data)."""
    return all(not (t.startswith("I-") and (p == "O" or p[2:] != t[2:])) for p, t in zip(("O", *tags), tags))


@pytest.fixture(scope="session")
def panx_zh(xtreme_dir: Path) -> list[Example]:
    """24 real PAN-X zh training sentences with well-formed IOB tags; phonemes are the tokens (the
    baselines read none). Ill-formed gold sequences are left out because the CRF charges each forbidden
    transition a constant 1e4 (``training/crf.py``), which would swamp the loss-decrease checks."""
    return [ex for ex in read_panx(xtreme_dir / "panx" / "train-zh.tsv", 40) if valid_iob(ex.tags)][:24]


def _side(lang: str, word: str) -> Side:
    """A dictionary side whose transcriptions are its tokens (the baselines never read them)."""
    tokens = convention(lang).tokens(word)
    return Side(word, tokens, tokens, tokens)


@pytest.fixture(scope="session")
def zh_vi_dictionary(muse_dir: Path, panx_zh: list[Example]) -> PivotDictionary:
    """The real MUSE zh-en-vi pivot, restricted to the zh words that occur in ``panx_zh``."""
    entries, _ = pivot_pair(muse_dir, "zh-vi")
    text = "".join("".join(ex.tokens) for ex in panx_zh)
    kept = [DictEntry(_side("zh", e.source), _side("vi", e.target), e.pivots, e.support)
            for e in entries if len(e.source) > 0 and e.source in text and e.target.strip()]
    return PivotDictionary("zh", "vi", kept)


@pytest.fixture(scope="session")
def dictionary_dir(tmp_path_factory: pytest.TempPathFactory, muse_dir: Path, xtreme_dir: Path) -> Path:
    """A small real dictionary folder: ``zh-vi.parquet`` in the trainer's format, built like
    ``cjkv build-dict`` does (MUSE pivot, transcribed by the project's phonemizers) but only for the zh
    words of the first 40 PAN-X zh training sentences, the ones ``built_data`` holds."""
    entries, _ = pivot_pair(muse_dir, "zh-vi")
    text = "".join("".join(ex.tokens) for ex in read_panx(xtreme_dir / "panx" / "train-zh.tsv", 40))
    dictionary = dictionary_from_pivot([e for e in entries if e.source in text and e.target.strip()], "zh-vi")
    folder = tmp_path_factory.mktemp("dictionaries")
    table = dictionary_table(dictionary.entries, "zh", "vi", {"source": "tests/bench/conftest.py"})
    pq.write_table(table, folder / "zh-vi.parquet")
    return folder


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Run torch on one thread here: on this 2-core machine shared by parallel jobs, OpenMP threads
    spin against each other and tiny-model steps become ~50x slower (measured 11.9 s vs 0.14 s for
    three FILTER steps). Restored afterwards so other test folders are unaffected."""
    import torch
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
