"""Vietnamese phonemizers against known tones and syllables.

Tones (Vietnamese phonology, e.g. Thompson 1965; Wikipedia "Vietnamese phonology") and viphoneme's
numbers: ngang 1 (Nam), huyền 2 (ngành, Hà), ngã 3 (Mỹ), hỏi 4 (của), sắc 5 (quốc, tiếng), nặng 6
(Việt, ạ). Northern-dialect segments as viphoneme writes them: ngành [ŋɛɲ] (velar fronting of -anh),
quốc [kwok͡p] (labial-velar coda after o).
"""

from __future__ import annotations

import unicodedata

import pytest

from cjkv_phon.data.phonemize import get_phonemizer
from cjkv_phon.data.phonemize.vi import split_syllables, syllable_ipa
from tests.data.phonemize_checks import check_panx, panx_head


@pytest.fixture(scope="module")
def native():
    return get_phonemizer("vi", "native")


@pytest.fixture(scope="module")
def paper():
    return get_phonemizer("vi", "paper")


@pytest.mark.parametrize("word, ipa", [
    ("Việt", "viət6"), ("Nam", "nam1"), ("ngành", "ŋɛɲ2"), ("Mỹ", "mi3"), ("của", "kuə4"),
    ("quốc", "kwok͡p5"), ("tiếng", "tiəŋ5"), ("ạ", "a6"), ("Hà", "ha2"),
])
def test_tones_and_syllables(native, paper, word, ipa):
    for phonemizer in (native, paper):
        result = phonemizer.transcribe([word])
        assert (result.ipa, result.romanized, result.status) == ((ipa,), (word,), ("ok",))


def test_decomposed_and_old_style_spellings_read_the_same(native):
    nfd = unicodedata.normalize("NFD", "Hà")
    result = native.transcribe([nfd, "hoà", "hòa"])
    assert result.ipa == ("ha2", "hwa2", "hwa2")
    assert result.romanized[0] == "Hà"  # NFC


def test_joined_syllables_are_split(native, paper):
    # UDPOS vi removes spaces inside words: chiến tranh -> chiếntranh, gia đình -> giađình.
    result = native.transcribe(["chiếntranh", "giađình"])
    assert result.ipa == ("ciən5cɛɲ1", "za1diɲ2")  # Hanoi: tr = ch, gi = z
    assert result.status == ("ok", "ok")
    assert split_syllables("bâygiờ", syllable_ipa) == ["bɤ̆j1", "jɤ2"]  # viphoneme: onset gi -> j
    # The paper's T2IPA call cannot parse them: failed, spelling kept.
    assert paper.transcribe(["chiếntranh"]).status == ("failed",)


def test_foreign_words_digits_and_punctuation(native, paper):
    tokens = ["Barcelona", "213", "''Đường", "("]
    result = native.transcribe(tokens)
    assert result.ipa == ("barkelona", "213", "''dɯəŋ2", "(")
    assert result.status == ("fallback", "passthrough", "ok", "passthrough")
    assert paper.transcribe(tokens).status == ("failed", "passthrough", "ok", "passthrough")


def test_real_panx_sentences_align_one_to_one(native, paper, xtreme_dir):
    sentences = panx_head(xtreme_dir, "vi", 200)
    for phonemizer in (native, paper):
        # Wikipedia NER sentences: many foreign names (Latin fallback / failed in paper) and numbers.
        counts = check_panx(phonemizer, sentences)
        assert counts["ok"] > 0.5 * sum(counts.values()), counts
    native_counts = check_panx(native, sentences)
    assert native_counts["failed"] < 0.01 * sum(native_counts.values()), native_counts  # hanzi only


def test_cache_does_not_change_results(xtreme_dir):
    for scheme in ("native", "paper"):
        cached, uncached = get_phonemizer("vi", scheme), get_phonemizer("vi", scheme, cache=False)
        for tokens in panx_head(xtreme_dir, "vi", 100):
            assert cached.transcribe(tokens) == uncached.transcribe(tokens)


def test_hanoi_is_the_default_dialect_and_merges_onsets(native):
    # Hanoi: tr = ch [c], s = x [s], r = d = gi [z]; tones kept as numbers.
    result = native.transcribe(["trang", "chanh", "sông", "xa", "ra", "da", "gia"])
    assert result.ipa == ("caŋ1", "cɛɲ1", "soŋ͡m1", "sa1", "za1", "za1", "za1")
    assert native.versions()["dialect"] == "hanoi"


def test_northern_reading_is_kept_by_name():
    from cjkv_phon.data.phonemize.vi import NativeVi

    northern = NativeVi(dialect="northern")
    assert northern.transcribe(["trang", "sông", "ra"]).ipa == ("ʈaŋ1", "ʂoŋ͡m1", "ʐa1")
    with pytest.raises(ValueError, match="dialect"):
        NativeVi(dialect="saigon")


def test_rhymes_eo_eu_uu_and_gi(native):
    # mèo [mɛw], bêu [ɓew], lưu [liw] (Hanoi), giếng = gi + iêng [ziəŋ], gì [zi], yến [iən].
    result = native.transcribe(["mèo", "bêu", "lưu", "giếng", "gì", "yến", "muốn"])
    assert result.ipa == ("mɛw2", "bew1", "liw1", "ziəŋ5", "zi2", "iən5", "muən5")
