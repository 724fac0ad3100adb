"""MUSE reading and English pivoting against entries hand-checked in ../shared/data/muse.

Hand checks (grep of the files):
- en-zh: ``school 學校``, ``schools 學校``; en-vi: ``school trường``, ``schools trường``
  -> (學校, trường) in zh-vi with pivots (school, schools), support 2.
- en-zh ``water 水``, en-vi ``water nước``, no other shared English word -> (水, nước), support 1.
- en-ja ``school 学校``, ``schools 学校``; en-ko ``school 학교``, ``schools 학교`` -> (学校, 학교), support 2.
- ``if`` is in neither en-zh nor en-vi, but zh-en has ``如果 if`` and vi-en ``nếu if`` -> (如果, nếu) only
  with the union option.
"""

from __future__ import annotations

import pytest

from cjkv_phon.dictionary.muse import read_muse
from cjkv_phon.dictionary.pivot import VALID_PAIRS, parse_pair, pivot, pivot_pair
from cjkv_phon.errors import InputError


@pytest.fixture(scope="module")
def zh_vi(muse_dir):
    entries, files = pivot_pair(muse_dir, "zh-vi")
    return {(e.source, e.target): e for e in entries}, entries, files


def test_read_muse_counts_and_first_pair(muse_dir):
    muse = read_muse(muse_dir / "en-zh.txt")
    # SOURCES.md: en-zh has 39334 pairs; its first line is "and<TAB>而且".
    assert len(muse.pairs) == 39334
    assert muse.pairs[0] == ("and", "而且")
    assert (muse.src, muse.tgt) == ("en", "zh")
    assert len(muse.sha256) == 64


def test_pivot_hand_checked_entries(zh_vi):
    by_pair, _, _ = zh_vi
    school = by_pair[("學校", "trường")]
    assert school.pivots == ("school", "schools") and school.support == 2
    water = by_pair[("水", "nước")]
    assert water.pivots == ("water",) and water.support == 1
    assert ("如果", "nếu") not in by_pair


def test_pivot_ja_ko(muse_dir):
    entries, _ = pivot_pair(muse_dir, "ja-ko")
    by_pair = {(e.source, e.target): e for e in entries}
    assert by_pair[("学校", "학교")].pivots == ("school", "schools")


def test_union_adds_reverse_file_links(muse_dir, zh_vi):
    by_pair, base, _ = zh_vi
    union, files = pivot_pair(muse_dir, "zh-vi", use_reverse=True)
    union_pairs = {(e.source, e.target): e for e in union}
    assert union_pairs[("如果", "nếu")].pivots == ("if",)
    assert set(by_pair) <= set(union_pairs)
    assert [f.path.name for f in files] == ["en-zh.txt", "zh-en.txt", "en-vi.txt", "vi-en.txt"]


def test_order_is_deterministic_and_sorted(zh_vi, muse_dir):
    _, entries, _ = zh_vi
    keys = [(e.source, -e.support, e.target) for e in entries]
    assert keys == sorted(keys)
    assert len(set((e.source, e.target) for e in entries)) == len(entries)
    again, _ = pivot_pair(muse_dir, "zh-vi")
    assert again == entries


def test_unknown_pair_lists_the_twelve():
    assert len(VALID_PAIRS) == 12
    with pytest.raises(ValueError, match="zh-vi") as err:
        parse_pair("zh-en")
    assert all(p in str(err.value) for p in VALID_PAIRS)
    with pytest.raises(ValueError):
        parse_pair("zh-zh")


def test_space_and_tab_separators(tmp_path):
    path = tmp_path / "en-zh.txt"
    path.write_text("water 水\nriver\t河\n\nwater 水\n", encoding="utf-8")
    muse = read_muse(path)
    # The blank line is ignored and the repeated pair kept once.
    assert muse.pairs == (("water", "水"), ("river", "河"))


@pytest.mark.parametrize("content, line, reason", [
    ("water 水\nriver\n", 2, "no separator"),
    ("water\t\n", 1, "empty side"),
    ("a b c\n", 1, "3 fields"),
])
def test_malformed_lines_name_file_and_line(tmp_path, content, line, reason):
    path = tmp_path / "en-zh.txt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=reason) as err:
        read_muse(path)
    assert err.value.line == line and err.value.path == str(path)


def test_undecodable_bytes_and_skip_flag(tmp_path):
    path = tmp_path / "en-zh.txt"
    path.write_bytes("water\t水\n".encode() + b"bad\t\xff\xfe\n" + "river\t河\n".encode())
    with pytest.raises(InputError, match="undecodable") as err:
        read_muse(path)
    assert err.value.line == 2
    muse = read_muse(path, skip_malformed=True)
    assert muse.skipped == 1 and muse.pairs == (("water", "水"), ("river", "河"))


def test_empty_pivot_says_so(tmp_path):
    (tmp_path / "en-zh.txt").write_text("water\t水\n", encoding="utf-8")
    (tmp_path / "en-vi.txt").write_text("river\tsông\n", encoding="utf-8")
    with pytest.raises(ValueError, match="empty"):
        pivot_pair(tmp_path, "zh-vi")


def test_pivot_checks_file_languages(muse_dir):
    zh = read_muse(muse_dir / "en-zh.txt")
    with pytest.raises(ValueError, match="expected en-vi"):
        pivot([zh], [zh], "zh", "vi")


def test_identical_latin_copies_dropped_by_default(muse_dir):
    # en-zh "aaa<TAB>aaa" and en-vi "aaa<TAB>aaa" pivot to the no-op pair (aaa, aaa).
    # (keep_noise too: an identical Latin copy is also its own English pivot, which the noise filter drops)
    kept, _ = pivot_pair(muse_dir, "zh-vi", keep_identical=True, keep_noise=True)
    assert any((e.source, e.target) == ("aaa", "aaa") for e in kept)
    dropped, _ = pivot_pair(muse_dir, "zh-vi", keep_noise=True)
    assert not any(e.source.lower() == e.target.lower() for e in dropped)
    assert {(e.source, e.target) for e in dropped} < {(e.source, e.target) for e in kept}
