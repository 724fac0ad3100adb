"""``cjkv eval-g2p``: the normalisation, the alignment and a real evaluation on the lexicons."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from cjkv_phon.data.g2p_eval import (G2PEvalConfig, edit_alignment, evaluate_g2p, layout_tokens,
                                     normalise, read_lexicon)
from cjkv_phon.errors import InputError


def test_normalisation_folds_notation_the_same_way_on_both_sides():
    # WikiPron's narrow Japanese and a broad tool output of 東京 give the same phones.
    assert normalise("t o̞ː kʲ o̞ː", "ja") == normalise("toːkʲoː", "ja") == ("t", "o", "k", "o")
    # ligature vs tie bar, script g vs ASCII g, Chao tone letters vs viphoneme digits.
    assert normalise("ʦa", "zh") == normalise("t͡sa˥", "zh")
    assert normalise("ɡa", "ko") == normalise("ga", "ko")
    assert normalise("viət6", "vi") == normalise("v i ə t̚ ˧˨ ʔ", "vi")
    # A real error survives: Korean tense t͈ is not plain t.
    assert normalise("t͈a", "ko") != normalise("ta", "ko")


def test_edit_alignment_counts_and_names_errors():
    dist, errors = edit_alignment(("k", "a", "t"), ("k", "o", "t", "s"))
    assert dist == 2
    assert errors == [("a", "o"), ("", "s")]


def test_layouts_match_the_release():
    assert layout_tokens("日本", "ja", "data") == ["日", "本"]
    assert layout_tokens("Ai Cập", "vi", "data") == ["Ai", "Cập"]
    assert layout_tokens("Ai Cập", "vi", "word") == ["AiCập"]


def test_bad_lexicon_line_names_file_and_line(tmp_path):
    path = tmp_path / "bad.tsv"
    path.write_text("あ\ta\nい\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.tsv:2"):
        read_lexicon(path)


def test_real_evaluation_scores_known_readings(shared_data):
    cfg = G2PEvalConfig(lexicon_dir=str(shared_data / "lexicons"), lexicons=("ja-kana", "zh-hans"),
                        limit=200, seed=1)
    report = evaluate_g2p(cfg)
    for name in ("ja-kana", "zh-hans"):
        for layout in ("word", "data"):
            s = report["results"][name]["native"][layout]
            assert s["entries"] == 200
            assert 0.0 <= s["per"] < 0.2 and s["per"] <= s["wer"]
    assert report["config"]["limit"] == 200


def test_cli_writes_json(shared_data, tmp_path):
    out = tmp_path / "g2p.json"
    subprocess.run([sys.executable, "-m", "cjkv_phon.cli", "eval-g2p", "--lexicon-dir",
                    str(shared_data / "lexicons"), "--lexicons", "ko", "--limit", "50",
                    "--json", str(out)], check=True, capture_output=True)
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["results"]["ko"]["native"]["data"]["entries"] == 50
