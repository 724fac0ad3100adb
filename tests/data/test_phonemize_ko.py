"""Korean phonemizers against known pronunciations.

Sound changes are those of the Standard Pronunciation rules (표준 발음법, National Institute of
Korean Language), article numbers as cited in epitran's ``post/kor-Hang.txt``: 국민 [궁민] (art. 18,
nasal assimilation), 신라 [실라] (art. 20, lateralisation), 같이 [가치] (art. 17, palatalisation),
한국어 [한구거] (art. 13, liaison), 읽다 [익따] (art. 11 and 23), 좋다 [조타] (art. 12). ㅅ before i
is alveolo-palatal [ɕ] (Shin, Kiaer & Cha 2012, *The Sounds of Korean*). Revised Romanization
examples from the official RR table: 서울 Seoul, 부산 Busan, 한국어 hangugeo.
"""

from __future__ import annotations

import pytest
from korean_romanizer.romanizer import Romanizer

from cjkv_phon.data.phonemize import get_phonemizer
from cjkv_phon.data.phonemize.ko import apply_allophones, romanize
from tests.data.phonemize_checks import check_panx, check_shape, panx_head


@pytest.fixture(scope="module")
def native():
    return get_phonemizer("ko", "native")


@pytest.fixture(scope="module")
def paper():
    return get_phonemizer("ko", "paper")


@pytest.mark.parametrize("word, ipa", [
    ("국민", "kuŋmin"), ("신라", "ɕilla"), ("같이", "kat͡ɕʰi"), ("한국어", "hankukʌ"),
    ("읽다", "ikt͈a"), ("좋다", "t͡ɕotʰa"), ("씨", "ɕ͈i"),
])
def test_sound_changes(native, word, ipa):
    result = native.transcribe([word])
    assert result.ipa == (ipa,)
    assert result.status == ("ok",)


def test_allophone_table_palatalises_s_before_i_and_j():
    assert apply_allophones("silla") == "ɕilla"
    assert apply_allophones("s͈i") == "ɕ͈i"
    assert apply_allophones("sa") == "sa"


def test_revised_romanization(native, paper):
    for phonemizer in (native, paper):
        assert phonemizer.transcribe(["서울", "부산", "한국어"]).romanized == ("seoul", "busan", "hangugeo")


def test_mixed_latin_hangul_and_hanja_tokens(native):
    # PAN-X ko train: "대한민국 K리그 챌린지의 서울 이랜드 FC에서", "관동 지방 ( 關東地方 )".
    result = native.transcribe(["K리그", "FC에서", "(", "關東地方", ")"])
    check_shape(["K리그", "FC에서", "(", "關東地方", ")"], result)
    assert result.ipa[:2] == ("Klikɯ", "FCesʌ")
    assert result.romanized[:2] == ("Krigeu", "FCeseo")
    # Latin capitals copied inside a token are not IPA: the token is fallback, never ok. Hanja are
    # read as Sino-Korean (關東地方 관동지방), status fallback, the route recorded.
    assert result.status == ("fallback", "fallback", "passthrough", "fallback", "passthrough")
    assert result.ipa[3] == "kwantoŋt͡ɕipaŋ" and result.read_as[3] == "ko-hanja"
    # UDPOS ko dev line 27259: hanja + particle, 神 read 신.
    mixed = native.transcribe(["神의"])
    assert (mixed.romanized, mixed.status, mixed.read_as) == (("sinui",), ("fallback",), ("ko-hanja",))


def test_korean_romanizer_key_error_is_guarded(native, paper):
    # The tool itself raises KeyError on a ㄶ/ㅀ coda before a non-syllable character.
    with pytest.raises(KeyError):
        Romanizer("많.").romanize()
    assert romanize("않ㄱ") == ("ang", "fallback")
    # Tokens are split into script runs first, so punctuation never reaches the romanizer.
    for phonemizer in (native, paper):
        result = phonemizer.transcribe(["많.", "않ㄱ"])
        assert result.romanized == ("man.", "ang")
        assert result.status == ("ok", "fallback")


def test_paper_scheme_reads_romanization_as_latin(paper):
    result = paper.transcribe(["국민", "신라"])
    assert result.romanized == ("gukmin", "sinra")
    assert result.ipa == ("ɡukmin", "sinra")


def test_real_panx_sentences_align_one_to_one(native, paper, xtreme_dir):
    sentences = panx_head(xtreme_dir, "ko", 200)
    for phonemizer in (native, paper):
        counts = check_panx(phonemizer, sentences)
        assert counts["ok"] > 0.6 * sum(counts.values()), counts
        assert counts["failed"] < 0.05 * sum(counts.values()), counts


def test_paper_cache_does_not_change_results(paper, xtreme_dir):
    uncached = get_phonemizer("ko", "paper", cache=False)
    for tokens in panx_head(xtreme_dir, "ko", 50):
        assert paper.transcribe(tokens) == uncached.transcribe(tokens)


def test_cached_jamo_route_equals_epitran(native, xtreme_dir):
    # NativeKo skips epitran's whole-word jamo conversion and feeds cached per-syllable jamo to
    # epitran's map and rules; the IPA must be exactly what SimpleEpitran.transliterate gives.
    words = {t for s in panx_head(xtreme_dir, "ko", 200) for t in s if any("가" <= c <= "힣" for c in t)}
    hangul = [w for w in words if all("가" <= c <= "힣" for c in w)]
    assert len(hangul) > 500
    for word in hangul:
        assert native._transliterate(word) == native._epitran.transliterate(word), word


def test_h_between_voiced_sounds_is_kept_and_coda_h_drops(native):
    # Onset ㅎ after a vowel or sonorant is voiced [ɦ], not deleted (epitran deleted it).
    assert native.transcribe(["가난하다"]).ipa == ("kananɦata",)
    assert native.transcribe(["전화"]).ipa[0].count("ɦ") == 1
    # Coda ㅎ/ㄶ before a vowel-initial suffix does drop (Standard Pronunciation #12-4).
    assert native.transcribe(["좋아", "않아"]).ipa == ("t͡ɕoa", "ana")


def test_palatalisation_only_across_a_morpheme_boundary(native):
    # Coda ㄷ/ㅌ + suffix 이/히 palatalise (#17); onset ㄷ before ㅣ inside a morpheme does not.
    assert native.transcribe(["같이", "굳이", "닫히다"]).ipa == ("kat͡ɕʰi", "kut͡ɕi", "tat͡ɕʰita")
    assert native.transcribe(["어디", "디자인"]).ipa == ("ʌti", "tit͡ɕain")


def test_ui_after_a_consonant_and_jyeo(native):
    # 의 word-initially stays [ɰi]; after a consonant it is read ㅣ (희망 [히망]); 져 is read 저.
    assert native.transcribe(["의사", "희망", "띄어쓰기"]).ipa == ("ɰisa", "himaŋ", "t͈iʌs͈ɯki")
    assert native.transcribe(["가져가다"]).ipa == ("kat͡ɕʌkata",)


def test_tensing_after_a_nasal_final_verb_stem(native):
    # 담다 [담따], 신다 [신따] (#24); a vowel before 다 (바다) is not a stem coda: no tensing.
    assert native.transcribe(["담다", "신다", "바다"]).ipa == ("tamt͈a", "ɕint͈a", "pata")
