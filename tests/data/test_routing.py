"""Script routing: Hanja read as Sino-Korean, kana as Japanese, Han in Vietnamese as Mandarin."""

from __future__ import annotations

from cjkv_phon.data.phonemize import get_phonemizer
from cjkv_phon.data.phonemize.routing import hanja_to_hangul


def test_hanja_readings_from_the_offline_table():
    # PAN-X ko Hanja tokens; 李 takes the initial-sound rule (리 -> 이) at a word start.
    assert hanja_to_hangul("高麗") == "고려"
    assert hanja_to_hangul("朝鮮") == "조선"
    assert hanja_to_hangul("世宗") == "세종"
    assert hanja_to_hangul("李舜臣") == "이순신"


def test_hanja_in_korean_text_is_read_by_the_korean_phonemizer():
    ko = get_phonemizer("ko")
    result = ko.transcribe(["高麗", "朝鮮", "고려"])
    assert result.ipa[0] == result.ipa[2] == "koljʌ"
    assert result.status == ("fallback", "fallback", "ok")
    assert result.read_as == ("ko-hanja", "ko-hanja", "")


def test_kana_in_any_sentence_is_read_as_japanese():
    zh = get_phonemizer("zh").transcribe(list("在キャット"))
    assert zh.ipa[1:] == ("kʲ", "a", "t", "to") and zh.read_as[1:] == ("ja",) * 4
    assert set(zh.status[1:]) == {"fallback"}
    ko = get_phonemizer("ko").transcribe(["東京タワー"])  # kanji with kana: a Japanese name
    assert ko.ipa == ("toːkʲoːtaɰaː",) and ko.read_as == ("ja",)
    vi = get_phonemizer("vi").transcribe(["ひらがな"])
    assert vi.status == ("fallback",) and vi.read_as == ("ja",)


def test_han_in_vietnamese_text_is_read_as_mandarin():
    vi = get_phonemizer("vi").transcribe(["Hà", "東京"])
    assert vi.ipa[1] == "tʊŋ˥tɕiŋ˥" and vi.read_as == ("", "zh")
    assert vi.status == ("ok", "fallback")


def test_hangul_in_japanese_text_is_read_as_korean():
    ja = get_phonemizer("ja").transcribe(list("東京서울"))
    assert ja.ipa[2:] == ("sʌ", "ul") and ja.read_as[2:] == ("ko", "ko")
