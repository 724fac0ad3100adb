"""Fixtures for the dictionary tests: real PAN-X/UDPOS sentences and small real pivot dictionaries.

The dictionaries are the real zh-vi and ja-ko pivots restricted to entries whose (folded) key occurs in
the test sentences, so only those few hundred words are transcribed; span matching on these sentences is
the same as with the full dictionary, since every key that can match them is kept.
"""

from __future__ import annotations

import pytest

from cjkv_phon.data.xtreme import read_xtreme_tsv, xtreme_path
from cjkv_phon.dictionary.build import dictionary_from_pivot
from cjkv_phon.dictionary.pivot import pivot_pair
from cjkv_phon.dictionary.script import Folder

N_SENTENCES = 400  # first sentences of each file used (ids below are all < 400 except zh #1329)


def _read(xtreme_dir, task, lang, n):
    """The first ``n`` training sentences of ``task``/``lang``."""
    path = xtreme_path(xtreme_dir, task, lang, "train")
    return read_xtreme_tsv(path, task=task, lang=lang, split="train", max_sentences=n).sentences


@pytest.fixture(scope="session")
def train_sents(xtreme_dir):
    """Real training sentences: PAN-X zh (1400, for #1329), ja and ko, and UDPOS zh."""
    return {
        "zh": _read(xtreme_dir, "panx", "zh", 1400),
        "ja": _read(xtreme_dir, "panx", "ja", N_SENTENCES),
        "ko": _read(xtreme_dir, "panx", "ko", N_SENTENCES),
        "udpos-zh": _read(xtreme_dir, "udpos", "zh", 100),
    }


def _small_dictionary(muse_dir, pair, src_sentences, tgt_sentences):
    """The pivot of ``pair`` restricted to entries whose (folded) key occurs in the sentences."""
    src, tgt = pair.split("-")
    fold_src, fold_tgt = Folder(src), Folder(tgt)
    src_text = "\n".join(fold_src("".join(s.tokens)) for s in src_sentences)
    tgt_words = {fold_tgt(t) for s in tgt_sentences for t in s.tokens}
    # keep_noise: these fixtures test span matching and folding (中國 -> "china" is a key like any
    # other); the noise filter itself is tested in test_noise_filter.py.
    entries, _ = pivot_pair(muse_dir, pair, keep_noise=True)
    keep = [e for e in entries if fold_src(e.source) in src_text or fold_tgt(e.target) in tgt_words]
    # The paper scheme: its ja/ko phonemizers start in seconds; code-switching ignores the scheme.
    return dictionary_from_pivot(keep, pair, scheme="paper")


@pytest.fixture(scope="session")
def zh_vi(muse_dir, train_sents):
    """zh-vi entries that can match the first PAN-X zh sentences, zh #1329 and the UDPOS zh ones."""
    zh = train_sents["zh"]
    sentences = [*zh[:N_SENTENCES], zh[1329], *train_sents["udpos-zh"]]
    return _small_dictionary(muse_dir, "zh-vi", sentences, [])


@pytest.fixture(scope="session")
def ja_ko(muse_dir, train_sents):
    """ja-ko entries that can match the PAN-X ja sentences (ja keys) or the PAN-X ko ones (ko keys)."""
    return _small_dictionary(muse_dir, "ja-ko", train_sents["ja"], train_sents["ko"])


