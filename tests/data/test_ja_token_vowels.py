"""Japanese: a token keeps its own vowel where a long vowel forms across a token edge (issue 22).

Landed main read を as a bare length mark after a word ending in -o (こと | を: ``ː``; 11.6% of を in
the release) and gave Han tokens an IPA starting with ``ː`` (地 | 域 read チイキ: 域 ``ːkʲi``; 路 | 上
split ロジョ | ウ). Readings: 域 iki, を o (particle), 路上 ロジョウ, 指定 シテイ (Daijirin).
"""

from __future__ import annotations

import pytest

from cjkv_phon.data.phonemize import get_phonemizer
from cjkv_phon.data.phonemize.kana import align_morae, morae
from cjkv_phon.data.xtreme import read_xtreme_tsv


@pytest.fixture(scope="module")
def native():
    return get_phonemizer("ja", "native")


def ipa(phonemizer, text: str) -> tuple[str, ...]:
    return phonemizer.transcribe(list(text)).ipa


def test_wo_after_a_word_ending_in_o_is_o(native):
    assert ipa(native, "ことを")[-1] == "o"
    assert ipa(native, "相撲をとる")[2] == "o"


def test_han_token_after_a_same_vowel_keeps_its_vowel(native):
    assert ipa(native, "地域") == ("t͡ɕi", "ikʲi")
    assert ipa(native, "委員")[1].startswith("i")
    assert ipa(native, "英一")[1].startswith("i")   # エーイチ: the イ after a long e is i


def test_long_vowel_stays_with_the_syllable_it_lengthens(native):
    assert ipa(native, "路上") == ("ɾo", "ʑoː")
    assert ipa(native, "指定") == ("ɕi", "teː")
    # a reading that does start with ウ (子牛 コ | ウシ) is still found when both are known
    assert align_morae("子牛", morae("コウシ"), lambda c: {"子": {"コ"}, "牛": {"ウシ"}}[c]) == [(0, 1), (1, 3)]


def test_only_a_long_vowel_mark_token_is_a_bare_length_mark(native):
    assert ipa(native, "コーヒー") == ("ko", "ː", "çi", "ː")


def test_real_panx_sentences_have_no_token_starting_with_a_length_mark(native, xtreme_dir):
    read = read_xtreme_tsv(xtreme_dir / "panx" / "dev-ja.tsv", task="panx", lang="ja", split="dev",
                           max_sentences=1500)
    wo = starts = 0
    for sentence in read.sentences:
        result = native.transcribe(sentence.tokens)
        for token, token_ipa in zip(sentence.tokens, result.ipa):
            wo += token == "を"
            assert token == "ー" or not token_ipa.startswith("ː"), (sentence.id, token, token_ipa)
            starts += token_ipa.startswith("ː")
    assert wo > 50 and starts > 0   # を occurs, and ー tokens still read ː
