"""Chinese phonemizers against known readings.

Readings are the Xiandai Hanyu Cidian (现代汉语词典) ones: 银行 yínháng, 行走 xíngzǒu, 重要 zhòngyào,
重复 chóngfù, 长大 zhǎngdà, 头发 tóufa. IPA syllables are dragonmapper's table with Chao tone letters
(tone 1 ˥, 2 ˧˥, 3 ˧˩˧, 4 ˥˩; neutral tone unmarked), e.g. hang2 = xɑŋ˧˥, xing2 = ɕiŋ˧˥.
"""

from __future__ import annotations

import pytest

from cjkv_phon.data.phonemize import get_phonemizer
from tests.data.phonemize_checks import check_panx, check_shape, panx_head


@pytest.fixture(scope="module")
def native():
    return get_phonemizer("zh", "native")


@pytest.fixture(scope="module")
def paper():
    return get_phonemizer("zh", "paper")


def romanized(phonemizer, text: str) -> tuple[str, ...]:
    return phonemizer.transcribe(list(text)).romanized


def test_polyphones_are_read_from_their_phrase_in_both_scripts(native):
    assert romanized(native, "去银行") == ("qu4", "yin2", "hang2")
    assert romanized(native, "行走") == ("xing2", "zou3")
    assert romanized(native, "銀行") == ("yin2", "hang2")   # Traditional: folded to 银行 first
    assert romanized(native, "重要") == ("zhong4", "yao4")
    assert romanized(native, "重复") == ("chong2", "fu4")
    assert romanized(native, "重複") == ("chong2", "fu4")
    assert romanized(native, "長大") == ("zhang3", "da4")


def test_native_ipa_has_chao_tone_letters(native):
    result = native.transcribe(["银", "行", "行", "走"])
    assert result.ipa == ("in˧˥", "xɑŋ˧˥", "ɕiŋ˧˥", "tsoʊ˧˩˧")
    assert result.status == ("ok",) * 4


def test_word_tokens_join_their_syllables(native):
    # UDPOS zh tokens are words: one syllable per character, concatenated.
    result = native.transcribe(["银行", "行走"])
    assert result.romanized == ("yin2hang2", "xing2zou3")
    assert result.ipa == ("in˧˥xɑŋ˧˥", "ɕiŋ˧˥tsoʊ˧˩˧")


def test_lone_traditional_character_keeps_its_own_reading(native):
    # 髮 fà (hair) and 發 fā (emit) both fold to 发; alone, each is read from its original form.
    assert romanized(native, "髮") == ("fa4",)
    assert romanized(native, "發") == ("fa1",)


def test_neutral_tone_and_umlaut(native):
    assert native.transcribe(["了"]).romanized == ("le5",)
    assert native.transcribe(["了"]).ipa == ("lɤ",)
    assert native.transcribe(["绿"]).romanized == ("lü4",)
    assert native.transcribe(["绿"]).ipa == ("ly˥˩",)


def test_latin_digits_and_punctuation_inside_chinese(native, paper):
    # The start of PAN-X zh train sentence 1: "2009年：李民基《Et...".
    tokens = list("2009年：李《E")
    for phonemizer in (native, paper):
        result = phonemizer.transcribe(tokens)
        assert result.ipa[:4] == ("2", "0", "0", "9")
        assert result.status == ("passthrough",) * 4 + ("ok", "passthrough", "ok", "passthrough",
                                                         "passthrough")
        assert result.romanized[4] == "nian2"
    mixed = native.transcribe(["K歌"])
    # The Latin capital copied inside the token is not IPA: fallback, never ok.
    assert (mixed.ipa, mixed.romanized, mixed.status) == (("Kkɤ˥",), ("Kge1",), ("fallback",))


def test_unreadable_characters_fail_or_fall_back(native):
    result = native.transcribe(["の", "𠮷", "嗯"])
    # Kana in Chinese text are read as Japanese (fallback, route recorded); 𠮷 has no reading.
    assert result.status[:2] == ("fallback", "failed") and result.read_as[0] == "ja"
    assert result.ipa[:2] == ("no", "𠮷")
    # 嗯 is pinyin n2, which dragonmapper cannot map: Latin-letter reading of the pinyin.
    assert (result.romanized[2], result.status[2]) == ("n2", "fallback")


def test_paper_scheme_reads_character_by_character(paper):
    # dragonmapper gives each character its most frequent reading: 行 is xing2 even in 银行.
    result = paper.transcribe(list("银行"))
    assert result.romanized == ("yin2", "xing2")
    assert result.ipa == ("in˧˥", "ɕiŋ˧˥")


def test_real_panx_sentences_align_one_to_one(native, paper, xtreme_dir):
    sentences = panx_head(xtreme_dir, "zh", 200)
    assert sum(map(len, sentences)) > 2000  # one character per token
    for phonemizer in (native, paper):
        counts = check_panx(phonemizer, sentences)
        assert counts["ok"] > 0.6 * sum(counts.values()), counts
        assert counts["failed"] < 0.02 * sum(counts.values()), counts


def test_cache_does_not_change_results(xtreme_dir):
    sentences = panx_head(xtreme_dir, "zh", 100)
    for scheme in ("native", "paper"):
        cached, uncached = get_phonemizer("zh", scheme), get_phonemizer("zh", scheme, cache=False)
        for tokens in sentences:
            assert cached.transcribe(tokens) == uncached.transcribe(tokens)
            check_shape(tokens, uncached.transcribe(tokens))


def test_yi_bu_sandhi_by_rule(native):
    # 不 bu2 before a 4th tone; 一 yi2 before a 4th, yi4 before 1-3, yi1 when counted.
    assert native.readings("我不去不对一样一天第一十一") == [
        "wo3", "bu2", "qu4", "bu2", "dui4", "yi2", "yang4", "yi4", "tian1", "di4", "yi1", "shi2", "yi1"]
    assert native.readings("不好") == ["bu4", "hao3"]
