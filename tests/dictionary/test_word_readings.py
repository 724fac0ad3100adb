"""Dictionary entries are words (issue 22): each side read as a word, then split per token.

Landed main read a dictionary word as a sentence of characters with out-of-context readings (閉包 ->
閉 ヘー + 包 ツツミ, ``heː t͡sɯt͡sɯmʲi``); 閉包 is ヘイホウ (closure, mathematics). MUSE files with NUL,
ESC or a byte-order mark were accepted; build-data rejects those characters with file and line.
"""

from __future__ import annotations

import re

import pytest

from cjkv_phon.dictionary.build import Transcriber
from cjkv_phon.dictionary.muse import read_muse
from cjkv_phon.errors import InputError


@pytest.fixture(scope="module")
def words():
    return Transcriber("native")


def test_a_japanese_compound_is_read_as_a_word_then_split_per_token(words):
    side = words.side("ja", "閉包")
    assert side.tokens == ("閉", "包") and side.ipa == ("heː", "hoː")


def test_compound_readings_split_at_their_characters(words):
    # 炭水化物 タンスイカブツ: 物 takes ブツ (pykakasi's on reading), not 化 カブ | 物 ツ;
    # 興味津々 キョウミシンシン: 々 repeats 津's シン, and no character starts with ン
    assert words.side("ja", "炭水化物").ipa == ("taɰ̃", "sɯi", "ka", "bɯt͡sɯ")
    assert words.side("ja", "興味津々").ipa == ("kʲoː", "mʲi", "ɕiɰ̃", "ɕiɴ")


def test_known_words_keep_their_dataset_reading(words):
    assert words.side("ja", "東京").ipa == ("toː", "kʲoː")
    assert words.side("zh", "銀行").romanized == ("yin2", "hang2")
    assert words.side("zh", "行長").romanized == ("hang2", "zhang3")


def test_real_muse_entry_reads_as_a_word(words, muse_dir):
    # en-ja has "closure 閉包" (grep); its reading is the compound's
    muse = read_muse(muse_dir / "en-ja.txt")
    assert ("closure", "閉包") in muse.pairs
    assert "".join(words.side("ja", "閉包").ipa) == "heːhoː"


@pytest.mark.parametrize("bad,what", [("\x00", "NUL"), ("\x1b", "ESC"), ("\ufeff", "U+FEFF")])
def test_muse_control_characters_and_bom_are_rejected_with_file_and_line(tmp_path, bad, what):
    path = tmp_path / "en-zh.txt"
    path.write_text(f"and\t而且\nwater\t水{bad}\n", encoding="utf-8")
    with pytest.raises(InputError, match=rf"en-zh.txt:2: .*{re.escape(what)}"):
        read_muse(path)
    path.write_text(f"{bad}and\t而且\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"en-zh.txt:1: "):
        read_muse(path)
    assert read_muse(path, skip_malformed=True).skipped == 1
