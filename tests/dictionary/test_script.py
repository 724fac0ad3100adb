"""Script folding and per-language conventions.

Known answers: OpenCC t2s maps 中國->中国, 學校->学校, 後->后 (standard Traditional->Simplified pairs);
hanzidentifier classes 漢語 as Traditional, 汉语 as Simplified, 中 as both (shared character) and
kana-only text as unknown. Japanese shinjitai 図書館 must stay unchanged (no Chinese folding for ja).
"""

from __future__ import annotations

import pytest

from cjkv_phon.dictionary.muse import read_muse
from cjkv_phon.dictionary.script import Folder, convention, parse_conventions, script_counts
from cjkv_phon.errors import InputError


def test_zh_folds_traditional_to_simplified_per_character():
    fold = Folder("zh")
    assert fold("中國") == "中国"
    assert fold("學校") == "学校"
    assert fold("後來") == "后来"
    # Simplified text is already folded; length never changes.
    assert fold("中国") == "中国"
    assert Folder("zh", fold_script=False)("中國") == "中國"


def test_japanese_is_not_folded_but_case_is():
    assert Folder("ja")("図書館") == "図書館"
    assert Folder("ja")("國") == "國"
    assert Folder("vi")("Hà") == "hà"
    assert Folder("ko")("FIFA") == "fifa"


def test_conventions_follow_dataset_tokenisation():
    assert convention("zh").tokens("北京市") == ("北", "京", "市")
    assert convention("ja").joiner == ""
    assert convention("vi").tokens("bắc kinh") == ("bắc", "kinh")
    assert convention("ko").joiner == " "
    with pytest.raises(ValueError, match="valid"):
        convention("en")


def test_conventions_table_errors_name_the_line():
    text = ("# comment\nlang,tokenise,script_fold,casefold\nzh,chars,t2s,lower\n"
            "ja,letters,none,lower\n")
    with pytest.raises(InputError, match="tokenise") as err:
        parse_conventions(text, "table.csv")
    assert err.value.line == 4 and err.value.value == "letters"
    missing = "lang,tokenise,script_fold,casefold\nzh,chars,t2s,lower\n"
    with pytest.raises(InputError, match="no row"):
        parse_conventions(missing, "table.csv")


def test_script_counts_known_words():
    counts = script_counts(["漢語", "汉语", "中", "ネパール"])
    assert counts == {"traditional": 1, "simplified": 1, "both": 1, "mixed": 0, "unknown": 1}


def test_muse_zh_is_traditional(muse_dir):
    # SOURCES.md: MUSE zh is Traditional; hanzidentifier finds a single Simplified-only word.
    words = {zh for zh, _ in read_muse(muse_dir / "zh-en.txt").pairs}
    counts = script_counts(words)
    assert counts["simplified"] <= 5
    assert counts["traditional"] > 0.5 * (counts["traditional"] + counts["both"])
