"""FastEpitran must give exactly epitran's own output: rule gating and the log-free loop are pure speed.

The reference is the real ``epitran.simple.SimpleEpitran`` on real PAN-X/UDPOS words (Korean eojeol,
Japanese words as katakana, plus readings ending in ッ/ン, the pieces ja converts with context).
"""

from __future__ import annotations

import pytest
from epitran.rules import Rules
from epitran.simple import SimpleEpitran

from cjkv_phon.data.phonemize.epitran_engine import FastEpitran, apply_rules, rule_literal
from cjkv_phon.data.phonemize.kana import to_katakana
from tests.data.phonemize_checks import panx_head


def _words(xtreme_dir, lang: str, n: int) -> list[str]:
    return sorted({t for s in panx_head(xtreme_dir, lang, n) for t in s})


@pytest.mark.parametrize("code, lang", [("kor-Hang", "ko"), ("jpn-Kana", "ja")])
def test_same_output_as_simple_epitran(code, lang, xtreme_dir):
    slow, fast = SimpleEpitran(code), FastEpitran(code)
    words = _words(xtreme_dir, lang, 400)
    if lang == "ja":  # PAN-X ja is one character per token: build readings from runs of them
        kana = [to_katakana(w) for w in words]
        words = kana + ["ニッ", "ホン", "ガッ", "シンブン", "".join(kana[:40])]
    assert len(words) > 300
    for word in words:
        assert fast.transliterate(word) == slow.transliterate(word), word


def test_known_korean_pronunciations():
    # Standard Pronunciation rules (see test_phonemize_ko): nasal assimilation 국민 [궁민],
    # lateralisation 신라 [실라]; both go through gated post-processing rules.
    fast = FastEpitran("kor-Hang")
    assert fast.transliterate("국민") == "kuŋmin"
    assert fast.transliterate("신라") == "silla"


def _rules(tmp_path, *lines: str) -> Rules:
    path = tmp_path / "rules.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Rules([path])


def test_rule_literal_only_for_plain_targets(tmp_path):
    rules = _rules(tmp_path, "nh -> n / a _ a", "k. -> g / _ #", "0 -> j / i _ a",
                   "(?P<sw1>a)(?P<sw2>b) -> 0 / _")
    assert [rule_literal(r) for r in rules.rules] == ["nh", None, None, None]


def test_gated_rules_apply_like_epitran(tmp_path):
    rules = _rules(tmp_path, "nh -> n / a _ a", "h -> 0 / a _ a", "ŋ -> 0 / _ a", "k. -> g / _ #")
    gated = tuple((rule_literal(r), r) for r in rules.rules)
    for text in ("anha", "aha", "aŋa", "kt", "anhaŋa", "xyz", ""):
        assert apply_rules(gated, text) == rules.apply(text), text
    assert apply_rules(gated, "anha") == "ana"
