"""Phonemizer machinery shared by all languages: registry, statuses, tables, tones, IPA segments."""

from __future__ import annotations

import unicodedata

import pytest

from cjkv_phon.data.phonemize import PHONEMIZERS, get_phonemizer, ipa_segments, strip_tones
from cjkv_phon.data.phonemize.latin import latin_to_ipa
from cjkv_phon.data.phonemize.scripts import Piece, combine, script_of, script_runs
from cjkv_phon.data.phonemize.tables import read_table
from cjkv_phon.data.phonemize.tokens import assemble
from cjkv_phon.errors import InputError
from cjkv_phon.schema import LANGS, SCHEMES


def test_get_phonemizer_registers_every_language_and_scheme_and_shares_instances():
    for lang in ("zh", "vi"):  # the cheap ones; ja/ko are built in their own files
        for scheme in SCHEMES:
            assert get_phonemizer(lang, scheme) is get_phonemizer(lang, scheme)
    assert get_phonemizer("zh", "native", cache=False) is not get_phonemizer("zh", "native")
    for lang in LANGS:
        __import__(f"cjkv_phon.data.phonemize.{lang}")
    assert PHONEMIZERS.names() == sorted(f"{s}/{lang}" for s in SCHEMES for lang in LANGS)


def test_unknown_language_or_scheme_lists_the_valid_ones():
    with pytest.raises(ValueError, match="valid: zh, ja, ko, vi"):
        get_phonemizer("en")
    with pytest.raises(ValueError, match="valid: native, paper"):
        get_phonemizer("zh", "ipa")


def test_empty_sentence_gives_empty_tuples_and_empty_token_is_an_input_error():
    for scheme in SCHEMES:
        result = get_phonemizer("zh", scheme).transcribe([])
        assert result.ipa == result.romanized == result.status == ()
    with pytest.raises(InputError, match="token 1 is empty"):
        get_phonemizer("vi").transcribe(["Hà", ""])


def test_versions_name_the_tools():
    assert set(get_phonemizer("zh").versions()) == {"pypinyin", "dragonmapper",
                                                    "opencc-python-reimplemented", "g2pM", "torch"}
    assert get_phonemizer("vi", "paper").versions() == {"viphoneme": "3.0.0"}


def test_strip_tones_removes_each_languages_convention():
    # zh: Chao letters from dragonmapper (yin2 hang2 = in˧˥ xɑŋ˧˥); vi: viphoneme digits 1-6.
    assert strip_tones("in˧˥xɑŋ˧˥", "zh") == "inxɑŋ"
    assert strip_tones("viət6nam1", "vi") == "viətnam"
    assert strip_tones("ʷɤ̆n1", "vi") == "ʷɤ̆n"          # a tone right after a combining breve
    assert strip_tones("213", "vi") == "213"              # a passed-through number is not a tone
    assert strip_tones("ɕat͡ɕoː", "ja") == "ɕat͡ɕoː"       # pitch accent is not marked
    assert strip_tones("kuŋmin", "ko") == "kuŋmin"
    with pytest.raises(ValueError, match="unknown language 'en'"):
        strip_tones("a", "en")


def test_ipa_segments_keeps_tense_marks_tie_bars_and_tones():
    # epitran writes Korean ㅉ as t͈͡ɕ: U+0348 (tense) before the tie bar; panphon alone gives t, ɕ.
    assert ipa_segments("t͈͡ɕa") == ["t\u0348\u0361ɕ", "a"]
    assert ipa_segments("ikt͈a") == ["i", "k", "t\u0348", "a"]
    assert ipa_segments("kat͡ɕʰi") == ["k", "a", "t͡ɕʰ", "i"]
    assert ipa_segments("in˧˥ xɑŋ˧˥") == ["i", "n", "˧˥", "x", "ɑ", "ŋ", "˧˥"]
    assert ipa_segments("kwok͡p5") == ["k", "w", "o", "k͡p", "5"]
    assert ipa_segments("tʰwʷi5") == ["tʰ", "wʷ", "i", "5"]   # panphon alone drops ʷ and 5
    assert ipa_segments("oŋ͡m1") == ["o", "ŋ͡m", "1"]


def test_ipa_segments_never_drops_a_character():
    for ipa in ("t͈͡ɕʰʌs͈ɯ", "ɕat͡ɕoːɰa", "swʷɤ̆n1", "ɲippoɴ", "ʈʂʰʊŋ˧˥fu˥˩"):
        assert "".join(ipa_segments(ipa)) == unicodedata.normalize("NFD", ipa)


def test_latin_rules_read_romanization_as_latin_text():
    # Rows of latin_ipa.csv: sh -> ʃ, ch -> t͡ʃ, ts -> t͡s, j -> d͡ʒ, y -> j, ng -> ŋ, g -> ɡ.
    assert latin_to_ipa("shachou") == "ʃat͡ʃou"
    assert latin_to_ipa("Tsuchiya") == "t͡sut͡ʃija"
    assert latin_to_ipa("hangugeo") == "haŋuɡeo"
    assert latin_to_ipa("jeju") == "d͡ʒed͡ʒu"
    assert latin_to_ipa("Tōkyō") == "toːkjoː"
    assert latin_to_ipa("café-2") == "kafe-2"


def test_script_runs_split_mixed_tokens():
    assert script_runs("K리그") == [("latin", "K"), ("hangul", "리그")]
    assert script_runs("2009年") == [("digit", "2009"), ("han", "年")]
    assert [script_of(c) for c in "行ゃ々𠮷：Ａ"] == ["han", "kana", "han", "han", "symbol", "latin"]


def test_combine_statuses():
    ok, pt = Piece("ɾi", "ri", "ok"), Piece("K", "K", "passthrough")
    fb, fl = Piece("x", "x", "fallback"), Piece("關", "關", "failed")
    assert combine([pt, ok]) == Piece("Kɾi", "Kri", "ok")
    assert combine([pt, pt]).status == "passthrough"
    assert combine([ok, fb]).status == "fallback"
    assert combine([ok, fl]).status == "fallback"
    assert combine([fl, pt]).status == "failed"


def test_assemble_rejects_spans_that_cross_tokens_or_leave_gaps():
    p = Piece("a", "a", "ok")
    assert assemble(["ab", "c"], [(0, 1, p), (1, 2, p), (2, 3, p)]).ipa == ("aa", "a")
    with pytest.raises(ValueError, match="does not tile"):
        assemble(["ab", "c"], [(0, 1, p), (1, 3, p)])
    with pytest.raises(ValueError, match="cover"):
        assemble(["ab", "c"], [(0, 2, p)])


def test_tables_are_checked_on_load():
    rows = read_table("latin_ipa.csv", ("grapheme", "ipa"), ("note",))
    assert {"grapheme": "sh", "ipa": "ʃ"}.items() <= rows[1].items()  # row 0 is tch
    with pytest.raises(InputError, match=r"latin_ipa.csv:1: missing columns \['phone'\]"):
        read_table("latin_ipa.csv", ("phone",))
    # every row of latin_ipa.csv has a non-empty ipa, but "note" is empty on most rows:
    with pytest.raises(InputError, match=r"latin_ipa.csv:\d+: empty 'note'"):
        read_table("latin_ipa.csv", ("grapheme", "note"))
