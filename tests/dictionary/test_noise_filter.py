"""The pivot noise filter: target words that are the English pivot itself or outside the target
orthography are dropped by default (counted), and kept with ``keep_noise``."""

from __future__ import annotations

import pytest

from cjkv_phon.dictionary.pivot import pivot_pair


@pytest.fixture(scope="module")
def default_zh_vi(muse_dir):
    return pivot_pair(muse_dir, "zh-vi")[0]


def test_by_default_no_target_is_its_english_pivot(default_zh_vi):
    pairs = {(e.source, e.target) for e in default_zh_vi}
    # The examples: 高潮 -> orgasm, 萵苣 -> lettuce (MUSE's vi side copies the English word).
    assert ("高潮", "orgasm") not in pairs and ("萵苣", "lettuce") not in pairs
    assert not any(e.target.lower() in {p.lower() for p in e.pivots} for e in default_zh_vi)
    # Real Vietnamese translations stay.
    assert ("死神", "chết") in pairs and ("虎", "cọp") in pairs


def test_the_filter_counts_what_it_drops_and_keep_noise_keeps_it(muse_dir, default_zh_vi):
    from cjkv_phon.dictionary.orthography import in_orthography

    stats: dict[str, int] = {}
    filtered, _ = pivot_pair(muse_dir, "zh-vi", stats=stats)
    noisy, _ = pivot_pair(muse_dir, "zh-vi", keep_noise=True)
    assert filtered == default_zh_vi
    pairs = {(e.source, e.target) for e in filtered}
    noisy_pairs = {(e.source, e.target) for e in noisy}
    assert ("高潮", "orgasm") in noisy_pairs and ("萵苣", "lettuce") in noisy_pairs
    assert all(in_orthography("vi", e.target) for e in filtered)
    assert pairs < noisy_pairs
    assert stats["pairs_kept"] == len(filtered)
    assert len(noisy) - len(filtered) == (stats["target_is_pivot"] + stats["target_not_in_orthography"]
                                          + stats["source_not_in_orthography"])
    assert stats["target_is_pivot"] > 0.4 * len(noisy)        # about half of zh-vi was pivot copies


def test_latin_script_sources_are_dropped_unless_keep_noise(muse_dir):
    # issue 22: MUSE zh/ja hold English words (ace -> ách, age -> 나이) that are no Chinese/Japanese
    from cjkv_phon.dictionary.orthography import in_orthography

    for pair, lang in (("zh-vi", "zh"), ("ja-ko", "ja")):
        stats: dict[str, int] = {}
        filtered, _ = pivot_pair(muse_dir, pair, stats=stats)
        noisy, _ = pivot_pair(muse_dir, pair, keep_noise=True)
        assert all(in_orthography(lang, e.source) for e in filtered)
        assert any(e.source == "ace" or e.source == "age" for e in noisy)
        assert stats["source_not_in_orthography"] > 100   # 242 zh-vi, 602 ja-ko (issue 22)


@pytest.mark.parametrize("lang,good,bad", [
    ("vi", ["chết", "nghiêng", "người", "khuya", "quyền", "Trung Quốc"], ["lettuce", "violin", "joe", "fang", "sulfat"]),
    ("zh", ["中國", "航空"], ["china", "中国x", "ひらがな"]),
    ("ja", ["大使館", "ネパール", "ひらがな"], ["nepal", "대사관"]),
    ("ko", ["대사관", "서울"], ["seoul", "大使館"]),
])
def test_orthography_rules(lang, good, bad):
    from cjkv_phon.dictionary.orthography import in_orthography

    assert all(in_orthography(lang, w) for w in good), good
    assert not any(in_orthography(lang, w) for w in bad), bad
