"""Coverage of dataset tokens by dictionary keys: token-level vs span matching, folding on/off.

Known answers for PAN-X zh train #320 中国南方航空 (Simplified) against the zh-vi pivot (MUSE zh is
Traditional): single-character keys are 南 (south/nam/nan), 方 (fang) and 空 (empty) -> token match
3/6 with or without folding; spans 南方|航空 cover 4/6 without folding, 中国(中國)|南方|航空 6/6 with it.
UDPOS ko has no training file, so its row uses dev: 3016 sentences (SOURCES.md), 37236 tokens
(non-blank lines of dev-ko.tsv).
"""

from __future__ import annotations

from cjkv_phon.dictionary.coverage import coverage_report, coverage_row


def test_coverage_row_known_answers(train_sents, zh_vi):
    sent = train_sents["zh"][320]
    row = coverage_row(zh_vi, "zh", "panx", "train", [sent.tokens])
    assert row["tokens"] == 6 and row["side"] == "source" and row["pair"] == "zh-vi"
    assert row["token_match"] == row["token_match_folded"] == 0.5
    assert row["span_match"] == round(4 / 6, 4)
    assert row["span_match_folded"] == 1.0


def test_coverage_report_falls_back_to_dev_for_udpos_ko(xtreme_dir, ja_ko):
    rows = coverage_report({"ja-ko": ja_ko}, xtreme_dir, tasks=("udpos",))
    assert [(r["task"], r["lang"], r["side"], r["split"]) for r in rows] == [
        ("udpos", "ja", "source", "train"), ("udpos", "ko", "target", "dev")]
    ko = rows[1]
    assert ko["sentences"] == 3016 and ko["tokens"] == 37236
    for row in rows:
        # Span matching sees at least what token matching sees; folding never hides a key.
        assert 0.0 <= row["token_match"] <= row["span_match"] <= 1.0
        assert row["span_match"] <= row["span_match_folded"]
