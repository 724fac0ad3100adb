"""Fixtures for the training tests: real sentences from the small build, a small real pivot dictionary,
tiny backbones trained on real text, and a helper that writes a tiny training config.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest
import torch

from cjkv_phon.training.backbone import Backbone, load_backbone
from cjkv_phon.training.batches import Example, examples_from_table


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny models on one thread: on a shared 2-core machine, torch's default of one thread per core
    spin-waits against the other processes and makes a hidden-32 step ~10x slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def read_examples(data_dir: Path, task: str, lang: str, split: str, n: int | None = None,
                  phonemes: str = "ipa") -> list[Example]:
    """The first ``n`` examples of a built parquet file."""
    path = data_dir / task / lang / f"{split}.parquet"
    table = pq.read_table(path)
    return examples_from_table(table.slice(0, n) if n else table, phonemes, str(path))


@pytest.fixture(scope="session")
def corpus(built_data: Path) -> list[str]:
    """Real PAN-X text in zh (characters), vi (Latin), ja and ko (Hangul) for the tiny tokenizers."""
    return [" ".join(ex.tokens) for lang in ("zh", "vi", "ja", "ko")
            for split in ("train", "dev", "test") for ex in read_examples(built_data, "panx", lang, split)]


@pytest.fixture(scope="session")
def tiny_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where this session's tiny backbones are built (not the user's cache)."""
    return tmp_path_factory.mktemp("backbones")


@pytest.fixture()
def tiny_backbone(corpus: list[str], tiny_cache: Path):
    """A fresh tiny backbone of either family: ``tiny_backbone("tiny-bert")``."""
    def make(name: str) -> Backbone:
        return load_backbone(name, corpus, tiny_cache)
    return make


@pytest.fixture(scope="session")
def dictionary_dir(tmp_path_factory: pytest.TempPathFactory, muse_dir: Path, built_data: Path) -> Path:
    """A real zh-vi pivot dictionary (MUSE through English), restricted to entries whose Chinese side
    occurs in the built PAN-X zh sentences, so only a few hundred words are transcribed."""
    from cjkv_phon.dictionary.build import dictionary_from_pivot, dictionary_table
    from cjkv_phon.dictionary.pivot import pivot_pair
    from cjkv_phon.dictionary.script import Folder

    fold = Folder("zh")
    text = "\n".join(fold("".join(ex.tokens)) for split in ("train", "dev", "test")
                     for ex in read_examples(built_data, "panx", "zh", split))
    entries, _ = pivot_pair(muse_dir, "zh-vi")
    dictionary = dictionary_from_pivot([e for e in entries if fold(e.source) in text], "zh-vi")
    out = tmp_path_factory.mktemp("dictionaries")
    pq.write_table(dictionary_table(dictionary.entries, "zh", "vi", {}), out / "zh-vi.parquet")
    return out
