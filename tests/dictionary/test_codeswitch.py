"""Span matching and code-switching on real PAN-X / UDPOS sentences with real pivot entries.

The dictionaries (fixtures in conftest.py) are the real zh-vi and ja-ko pivots restricted to entries
whose key occurs in the test sentences. Expected spans were checked by hand against the MUSE files:
- MUSE zh has 中國, 南方, 航空 (Traditional); PAN-X zh train #320 中国南方航空 (Simplified, B-ORG I-ORG...)
  matches only 南方 and 航空 without folding, and 中国 too with folding.
- PAN-X zh train #1329 張信剛教授：前香港城市大學校長: 學校 (school) spans 大學|校長 across the end of the ORG
  香港城市大學 (I-ORG, O), so the label-safe match at 學 is the single character.
- PAN-X ja train #20 #ネパール大使館 (O B-LOC I-LOC I-LOC I-LOC O O O): en-ja nepal->ネパール and
  en-ko nepal->네팔, embassy->大使館/대사관.
- PAN-X ko train #25 ** 자카르타 ( 대사관 ): en-ko jakarta->자카르타, en-ja jakarta->ジャカルタ (5 characters).
- UDPOS zh train #64 has 海岸 (NOUN) 線 (PART); 海岸線 is a MUSE word but crosses two tags.
"""

from __future__ import annotations

import random

import pytest

from cjkv_phon.dictionary.codeswitch import code_switch, switchable_spans, translate

N_SENTENCES = 400  # the zh_vi fixture covers the first 400 PAN-X zh training sentences

def test_span_matching_on_character_tokens_with_folding(train_sents, zh_vi):
    sent = train_sents["zh"][320]
    assert "".join(sent.tokens) == "中国南方航空"
    assert zh_vi.index("zh", fold_script=False).spans(sent.tokens) == [(2, 4), (4, 6)]
    assert zh_vi.index("zh").spans(sent.tokens) == [(0, 2), (2, 4), (4, 6)]


def test_multi_character_japanese_spans(train_sents, ja_ko):
    sent = train_sents["ja"][20]
    assert "".join(sent.tokens) == "#ネパール大使館"
    assert ja_ko.index("ja").spans(sent.tokens) == [(1, 5), (5, 8)]


def test_spans_never_cross_an_entity_boundary(train_sents, zh_vi):
    sent = train_sents["zh"][1329]
    index = zh_vi.index("zh")
    assert (12, 14) in index.spans(sent.tokens)          # 學校 over I-ORG | O
    safe = switchable_spans(index, sent.tokens, sent.tags)
    assert (12, 14) not in safe and (12, 13) in safe


def test_pos_spans_share_one_tag(train_sents, zh_vi):
    sent = train_sents["udpos-zh"][64]
    assert sent.tokens[4:6] == ("海岸", "線") and sent.tags[4:6] == ("NOUN", "PART")
    index = zh_vi.index("zh")
    assert (4, 6) in index.spans(sent.tokens)
    safe = switchable_spans(index, sent.tokens, sent.tags)
    assert (4, 6) not in safe and (4, 5) in safe and (5, 6) in safe


def test_translate_entity_to_shorter_span(train_sents, ja_ko):
    sent = train_sents["ja"][20]
    out = translate(sent.tokens, sent.tokens, sent.tokens, sent.tags, "ja", ja_ko, target_lang="ko")
    assert out.tokens == ("#", "네팔", "대사관")
    assert out.tags == ("O", "B-LOC", "O")
    assert out.langs == ("ja", "ko", "ko")
    assert out.origin == (0, 1, 5)
    assert out.spans == ((1, 5, 1, 2), (5, 8, 2, 3))


def test_translate_entity_to_longer_span_keeps_iob(train_sents, ja_ko):
    sent = train_sents["ko"][25]
    assert sent.tokens[1] == "자카르타" and sent.tags[1] == "B-LOC"
    ipa = tuple(f"ipa{i}" for i in range(len(sent.tokens)))
    out = translate(sent.tokens, ipa, sent.tokens, sent.tags, "ko", ja_ko)
    assert out.tokens[1:6] == tuple("ジャカルタ")
    assert out.tags[:6] == ("O", "B-LOC", "I-LOC", "I-LOC", "I-LOC", "I-LOC")
    assert out.spans[0] == (1, 2, 1, 6) and out.origin[:6] == (0, 1, 1, 1, 1, 1)
    # Kept tokens keep their transcription; inserted ones carry the dictionary's.
    entry = next(e for e in ja_ko.entries if e.source.word == "ジャカルタ")
    assert out.ipa[0] == "ipa0" and out.ipa[1:6] == entry.source.ipa
    assert len(out.tokens) == len(out.ipa) == len(out.romanized) == len(out.tags) == len(out.langs)


def test_ratio_zero_is_identity(train_sents, zh_vi):
    sent = train_sents["zh"][320]
    out = code_switch(sent.tokens, sent.tokens, sent.tokens, sent.tags, "zh", zh_vi, 0.0, None)
    assert out.tokens == sent.tokens and out.tags == sent.tags and out.spans == ()
    assert out.origin == tuple(range(len(sent.tokens))) and set(out.langs) == {"zh"}


def test_ratio_one_switches_every_safe_span(train_sents, zh_vi):
    sent = train_sents["zh"][320]
    out = code_switch(sent.tokens, sent.tokens, sent.tokens, sent.tags, "zh", zh_vi, 1.0,
                      random.Random(0), sampling="top")
    assert out == translate(sent.tokens, sent.tokens, sent.tokens, sent.tags, "zh", zh_vi)
    assert [s[:2] for s in out.spans] == [(0, 2), (2, 4), (4, 6)]
    assert out.tags == ("B-ORG",) + ("I-ORG",) * (len(out.tokens) - 1)
    assert set(out.langs) == {"vi"}


def _switch_all(sentences, lang, dictionary, ratio, seed):
    rng = random.Random(seed)
    return [code_switch(s.tokens, s.tokens, s.tokens, s.tags, lang, dictionary, ratio, rng)
            for s in sentences]


def test_seed_determinism_and_ratio(train_sents, zh_vi):
    sents = train_sents["zh"][:N_SENTENCES]
    first = _switch_all(sents, "zh", zh_vi, 0.4, seed=7)
    assert first == _switch_all(sents, "zh", zh_vi, 0.4, seed=7)
    assert first != _switch_all(sents, "zh", zh_vi, 0.4, seed=8)
    index = zh_vi.index("zh")
    safe = sum(len(switchable_spans(index, s.tokens, s.tags)) for s in sents)
    switched = sum(len(out.spans) for out in first)
    # Each of ~2,000 safe spans switches with probability 0.4 (std of the share ~0.011).
    assert safe > 1000 and abs(switched / safe - 0.4) < 0.05


def test_support_weighted_sampling(zh_vi):
    # 學校 -> trường via school and schools (support 2), -> học via school only (support 1).
    cands = zh_vi.index("zh").candidates["学校"]
    assert [s.word for s in cands.sides] == ["trường", "học"] and cands.cum_support == (2, 3)
    rng = random.Random(3)
    weighted = sum(cands.pick("support", rng).word == "trường" for _ in range(3000)) / 3000
    uniform = sum(cands.pick("uniform", rng).word == "trường" for _ in range(3000)) / 3000
    assert abs(weighted - 2 / 3) < 0.04 and abs(uniform - 0.5) < 0.04


def test_bad_arguments(train_sents, zh_vi):
    sent = train_sents["zh"][320]
    args = (sent.tokens, sent.tokens, sent.tokens, sent.tags)
    with pytest.raises(ValueError, match="ratio"):
        code_switch(*args, "zh", zh_vi, 1.5, random.Random(0))
    with pytest.raises(ValueError, match="target_lang"):
        code_switch(*args, "zh", zh_vi, 0.5, random.Random(0), target_lang="ko")
    with pytest.raises(ValueError, match="dictionary language"):
        code_switch(*args, "ja", zh_vi, 0.5, random.Random(0))
    with pytest.raises(ValueError, match="sampling"):
        code_switch(*args, "zh", zh_vi, 0.5, random.Random(0), sampling="best")
    with pytest.raises(ValueError, match="entries"):
        code_switch(sent.tokens, sent.tokens[:-1], sent.tokens, sent.tags, "zh", zh_vi, 0.5,
                    random.Random(0))
