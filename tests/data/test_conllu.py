"""CoNLL-U -> UDPOS: XTREME's conversion rules, and equality with XTREME's own UDPOS files."""

from __future__ import annotations

from pathlib import Path

import pytest

from cjkv_phon.data.conllu import ConlluSource, read_conllu, treebank_files
from cjkv_phon.data.xtreme import read_xtreme_tsv, xtreme_path
from cjkv_phon.errors import InputError


def _row(wid: str, form: str, upos: str = "_", head: str = "_") -> str:
    return "\t".join([wid, form, "_", upos, "_", "_", head, "_", "_", "_"])


def _conllu(tmp_path: Path, *sentences: list[str], name: str = "xx_t-ud-dev.conllu") -> Path:
    path = tmp_path / name
    path.write_text("".join("# sent\n" + "\n".join(rows) + "\n\n" for rows in sentences),
                    encoding="utf-8")
    return path


def test_multiword_token_keeps_the_heads_upos(tmp_path: Path) -> None:
    # Spanish "vámonos al mar": vamos is the root, so 1-2 is VERB; a and el both hang off mar (a tie
    # on depth), and ADP outranks DET in XTREME's default precedence list, so 3-4 is ADP.
    path = _conllu(tmp_path, [
        _row("1-2", "vámonos"), _row("1", "vamos", "VERB", "0"), _row("2", "nos", "PRON", "1"),
        _row("3-4", "al"), _row("3", "a", "ADP", "5"), _row("4", "el", "DET", "5"),
        _row("5", "mar", "NOUN", "1")])
    (sent,) = read_conllu([path], lang="vi", split="dev").sentences
    assert sent.tokens == ("vámonos", "al", "mar")
    assert sent.tags == ("VERB", "ADP", "NOUN")


def test_multiword_head_can_be_the_last_member(tmp_path: Path) -> None:
    # x depends on y, y is the root: y is closer to the root, so the fused form takes VERB.
    path = _conllu(tmp_path, [_row("1-2", "xy"), _row("1", "x", "PRON", "2"),
                              _row("2", "y", "VERB", "0")])
    (sent,) = read_conllu([path], lang="vi", split="dev").sentences
    assert (sent.tokens, sent.tags) == (("xy",), ("VERB",))


def test_empty_nodes_skipped_spaces_and_zwnj_removed(tmp_path: Path) -> None:
    path = _conllu(tmp_path, [_row("1", "hải quân", "NOUN", "0"), _row("1.1", "elided", "VERB", "_"),
                              _row("2", "a\u200cb", "NOUN", "1")])
    (sent,) = read_conllu([path], lang="vi", split="dev").sentences
    assert sent.tokens == ("hảiquân", "ab") and sent.tags == ("NOUN", "NOUN")


def test_hidden_form_sentences_dropped_without_using_an_id(tmp_path: Path) -> None:
    path = _conllu(tmp_path, [_row("1", "_", "NOUN", "0"), _row("2", "_", "VERB", "1")],
                   [_row("1", "ok", "NOUN", "0")])
    result = read_conllu([path], lang="ja", split="dev")
    assert [(s.id, s.tokens) for s in result.sentences] == [("udpos.ja.dev.0", ("ok",))]


def test_ids_run_on_across_treebank_files(tmp_path: Path) -> None:
    a = _conllu(tmp_path, [_row("1", "a", "NOUN", "0")], name="vi_a-ud-dev.conllu")
    b = _conllu(tmp_path, [_row("1", "b", "NOUN", "0")], name="vi_b-ud-dev.conllu")
    result = read_conllu([a, b], lang="vi", split="dev")
    assert [(s.id, s.tokens) for s in result.sentences] == [("udpos.vi.dev.0", ("a",)),
                                                            ("udpos.vi.dev.1", ("b",))]


@pytest.mark.parametrize(("rows", "line", "words"), [
    ([_row("1", "a", "NOUN", "0"), "2\tb\t_\tNOUN"], 3, "4 TAB-separated columns"),
    ([_row("1", "a", "NOUN", "0"), _row("3", "b", "NOUN", "1")], 3, "out of sequence"),
    ([_row("1", "a", "NOUNISH", "0")], 2, "unknown UPOS"),
    ([_row("1", "a", "NOUN", "root")], 2, "HEAD"),
    ([_row("1", "a\u00a0b", "NOUN", "0")], 2, "whitespace"),
])
def test_malformed_conllu_names_line(tmp_path: Path, rows: list[str], line: int, words: str) -> None:
    path = _conllu(tmp_path, rows)
    with pytest.raises(InputError, match=words) as info:
        read_conllu([path], lang="vi", split="dev")
    assert (info.value.path, info.value.line) == (str(path), line)
    skipped = read_conllu([path], lang="vi", split="dev", skip_malformed=True)
    assert skipped.sentences == () and skipped.skipped[0].line == line


def test_treebank_order_is_sorted_file_names(shared_data: Path) -> None:
    names = [p.name for p in treebank_files(shared_data / "ud-2.5", "zh", "test")]
    assert names == ["zh_cfl-ud-test.conllu", "zh_gsd-ud-test.conllu", "zh_gsdsimp-ud-test.conllu",
                     "zh_hk-ud-test.conllu", "zh_pud-ud-test.conllu"]


def test_incomplete_treebank_set_names_missing_files(shared_data: Path) -> None:
    # SOURCES.md: ko_kaist-ud-train is not available here, so Korean train cannot be XTREME's.
    with pytest.raises(FileNotFoundError, match="ko_kaist-ud-train.conllu"):
        treebank_files(shared_data / "ud-2.5", "ko", "train")
    with pytest.raises(ValueError, match="udpos only"):
        ConlluSource(str(shared_data / "ud-2.5")).files("panx", "zh", "dev")


# Every (lang, split) whose treebanks are all in ud-2.5 (SOURCES.md lists the missing train files).
COMPLETE = [("zh", "dev"), ("zh", "test"), ("ja", "dev"), ("ja", "test"), ("ko", "dev"), ("ko", "test"),
            ("vi", "train"), ("vi", "dev"), ("vi", "test")]


@pytest.mark.parametrize(("lang", "split"), COMPLETE)
def test_udpos_from_conllu_equals_xtreme_file(shared_data: Path, xtreme_dir: Path, lang: str,
                                              split: str) -> None:
    built = ConlluSource(str(shared_data / "ud-2.5")).read("udpos", lang, split)
    xtreme = read_xtreme_tsv(xtreme_path(xtreme_dir, "udpos", lang, split), task="udpos", lang=lang,
                             split=split)
    assert built.skipped == ()
    assert [(s.id, s.tokens, s.tags) for s in built.sentences] == \
        [(s.id, s.tokens, s.tags) for s in xtreme.sentences]


def test_korean_gsd_train_equals_the_derived_extras_file(shared_data: Path) -> None:
    # SOURCES.md: extras/udpos-train-ko.gsd-only.tsv is ko_gsd-ud-train converted with XTREME's rules.
    built = read_conllu([shared_data / "ud-2.5" / "ko_gsd-ud-train.conllu"], lang="ko", split="train")
    extras = read_xtreme_tsv(shared_data / "extras" / "udpos-train-ko.gsd-only.tsv", task="udpos",
                             lang="ko", split="train")
    assert len(built.sentences) == 4400
    assert [(s.tokens, s.tags) for s in built.sentences] == [(s.tokens, s.tags) for s in extras.sentences]
