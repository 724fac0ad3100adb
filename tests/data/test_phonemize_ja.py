"""Japanese phonemizers against known readings.

Readings from any Japanese dictionary (Daijirin / Kōjien): 社長 しゃちょう, 長い ながい, 日本 にっぽん
(unidic's choice; also にほん), 東京 とうきょう [toːkʲoː], topic particle は [wa], 大人 おとな (jukujikun).
IPA is epitran ``jpn-Kana`` on the unidic ``pron`` reading: シャチョー -> ɕat͡ɕoː, ワ -> ɰa.
"""

from __future__ import annotations

import pykakasi
import pytest

from cjkv_phon.data.phonemize import get_phonemizer
from cjkv_phon.data.phonemize.ja import hepburn
from cjkv_phon.data.phonemize.kana import align_morae, katakana_to_hepburn, morae, reading_variants
from tests.data.phonemize_checks import check_panx, check_shape, panx_head


@pytest.fixture(scope="module")
def native():
    return get_phonemizer("ja", "native")


@pytest.fixture(scope="module")
def paper():
    return get_phonemizer("ja", "paper")


def test_reading_of_a_word_is_split_over_its_character_tokens(native):
    result = native.transcribe(list("社長は長い"))
    # 社長 シャチョー splits シャ | チョー (社 alone reads シャ); 長 in 長い is ナガ.
    assert result.ipa == ("ɕa", "t͡ɕoː", "ɰa", "naɡa", "i")
    assert result.romanized == ("sha", "choo", "wa", "naga", "i")
    assert result.status == ("ok",) * 5


def test_word_tokens_keep_whole_readings(native):
    result = native.transcribe(["東京", "タワー", "は"])
    assert result.ipa == ("toːkʲoː", "taɰaː", "ɰa")
    assert result.romanized == ("tookyoo", "tawaa", "wa")


def test_gemination_and_nasal_across_token_edges(native):
    # 日本語: ニッ | ポン | ゴ. The ッ and ン pieces are converted with the next mora in view.
    result = native.transcribe(list("日本語"))
    assert result.ipa == ("ɲip", "poŋ", "ɡo")
    assert result.romanized == ("nip", "pon", "go")


def test_jukujikun_split_proportionally_earlier_token_longer(native):
    assert native.transcribe(list("大人")).romanized == ("oto", "na")


def test_align_morae_rules():
    known = {"社": frozenset({"シャ"}), "本": reading_variants("ホン")}
    candidates = lambda c: known.get(c, frozenset())  # noqa: E731
    assert align_morae("社長", morae("シャチョウ"), candidates) == [(0, 1), (1, 3)]
    assert align_morae("長い", morae("ナガイ"), candidates) == [(0, 2), (2, 3)]  # kana match themselves
    assert align_morae("本", morae("ポン"), candidates) == [(0, 2)]
    assert reading_variants("ホン") == {"ホン", "ボン", "ポン"}
    assert reading_variants("ニチ") == {"ニチ", "ニッ"}
    assert morae("シャチョー") == ["シャ", "チョ", "ー"]


def test_latin_digits_and_unknown_characters(native, paper):
    tokens = list("2009年にKリーグ")
    for phonemizer in (native, paper):
        result = phonemizer.transcribe(tokens)
        check_shape(tokens, result)
        assert result.status[:4] == ("passthrough",) * 4
        assert result.romanized[4] == "nen"
        assert (result.ipa[6], result.status[6]) == ("K", "passthrough")
    # 𠮷 (outside the BMP) has no reading anywhere: failed, spelling kept; the rest is still read.
    result = native.transcribe(list("𠮷野"))
    assert (result.ipa[0], result.status[0]) == ("𠮷", "failed")
    assert result.status[1] == "ok"


def test_pykakasi_join_back_check():
    kakasi = pykakasi.kakasi()
    # pykakasi drops タ after the unknown 镕 (it returns 東京, 镕 with no reading, ワー).
    segments = kakasi.convert("東京镕タワー")
    assert "".join(s["orig"] for s in segments) != "東京镕タワー"
    assert hepburn(kakasi, "東京镕タワー") is None
    assert hepburn(kakasi, "東京タワー") == "toukyoutawaa"


def test_paper_scheme_falls_back_per_character_when_pykakasi_loses_text(paper):
    result = paper.transcribe(["東京镕タワー"])
    # per character: 東 higashi, 京 kyou, 镕 failed, タ ta, ワ wa, ー -.
    assert result.romanized == ("higashikyou镕tawa-",)
    assert result.status == ("fallback",)
    ok = paper.transcribe(["社長", "は"])
    assert ok.romanized == ("shachou", "ha")
    assert ok.ipa == ("ʃat͡ʃou", "ha")   # romaji read as Latin text (latin_ipa.csv)
    assert ok.status == ("ok", "ok")


def test_real_panx_sentences_align_one_to_one(native, paper, xtreme_dir):
    sentences = panx_head(xtreme_dir, "ja", 200)
    assert sum(map(len, sentences)) > 2000  # one character per token
    for phonemizer in (native, paper):
        counts = check_panx(phonemizer, sentences)
        assert counts["ok"] > 0.6 * sum(counts.values()), counts
        assert counts["failed"] < 0.02 * sum(counts.values()), counts


def test_paper_cache_does_not_change_results(paper, xtreme_dir):
    uncached = get_phonemizer("ja", "paper", cache=False)
    for tokens in panx_head(xtreme_dir, "ja", 50):
        assert paper.transcribe(tokens) == uncached.transcribe(tokens)


def test_hepburn_table_spells_as_pykakasi():
    # Hepburn: ッ doubles the next consonant (t before ch), ー repeats the vowel, n' before a vowel.
    cases = {"ニッポン": "nippon", "マッチ": "matchi", "トーキョー": "tookyoo", "ケンイチ": "ken'ichi",
             "シャチョウ": "shachou", "ヴァイオリン": "vaiorin", "キンヤ": "kinya"}
    kakasi = pykakasi.kakasi()
    for kana, expected in cases.items():
        assert katakana_to_hepburn(kana) == expected == hepburn(kakasi, kana)


def test_old_kanji_forms_are_folded_before_analysis(native):
    # UDPOS ja (Modern treebank, Meiji text) writes 從來 for 従来 じゅうらい; the spelling is kept.
    result = native.transcribe(["從來", "𠮷"])
    assert result.romanized == ("juurai", "𠮷")
    assert result.status == ("ok", "failed")


def test_raw_feature_split_equals_fugashi_parser(native, xtreme_dir):
    # NativeJa reads kana/pron by splitting unidic's raw CSV (faster); it must agree with fugashi.
    for tokens in panx_head(xtreme_dir, "ja", 100):
        for word in native._tagger("".join(tokens)):
            assert native._readings(word) == (word.feature.kana, word.feature.pron), word.surface


def test_small_kana_sokuon_and_long_marks_in_the_one_character_layout(native):
    # キャット [kʲatto]: the small ャ carries the vowel, ッ the doubled t; no raw kana as IPA.
    result = native.transcribe(list("キャット"))
    assert result.ipa == ("kʲ", "a", "t", "to") and result.status == ("ok",) * 4
    assert "".join(native.transcribe(list("ラーメン")).ipa) == native.transcribe(["ラーメン"]).ipa[0]
    # The one-character layout reads exactly like the word, for real PAN-X-style words.
    for word in ("ウィキペディア", "チェック", "シャチョー", "東京タワー", "ちょっと"):
        assert "".join(native.transcribe(list(word)).ipa) == native.transcribe([word]).ipa[0], word


def test_no_word_initial_rule_fires_at_every_token(native):
    # epitran writes a word-initial r as ɖ; at one-character tokens that was every r.
    for word in ("ラーメン", "ロシア", "アメリカ", "ありがとう"):
        ipa = "".join(native.transcribe(list(word)).ipa)
        assert "ɖ" not in ipa and "ɾ" in ipa, (word, ipa)


def test_moraic_nasal_by_next_sound(native):
    assert native.transcribe(list("さんぽ")).ipa[1] == "m"
    assert native.transcribe(list("ほん")).ipa[1] == "ɴ"
    assert native.transcribe(list("けんい")).ipa[1] == "ɰ̃"


def test_kanji_unidic_only_knows_inside_words(native):
    # 演 alone has no unidic entry (it was failed): pykakasi's reading エン, status fallback.
    alone = native.transcribe(["演"])
    assert alone.ipa == ("eɴ",) and alone.status == ("fallback",)
    in_word = native.transcribe(list("演奏"))
    assert in_word.status == ("ok", "ok") and in_word.romanized == ("en", "soo")


def test_small_kana_in_a_word_unidic_does_not_know(native):
    # unidic reads the unknown しょう as シヨー (full-size ヨ); the spelling's small ょ is kept, and
    # the う token keeps a vowel of its own (issue 22: only a ー token is a bare length mark).
    assert native.transcribe(list("がんしょう")).ipa == ("ɡa", "ɰ̃", "ɕ", "o", "o")
