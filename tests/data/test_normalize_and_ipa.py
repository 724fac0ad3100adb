"""NFC/jamo normalisation before any phonemizer, and the invariant that only IPA is ever ``ok``."""

from __future__ import annotations

import unicodedata

import pyarrow.parquet as pq
import pytest

from cjkv_phon.data.normalize import normalize_token, normalize_tokens
from cjkv_phon.data.phonemize import get_phonemizer
from cjkv_phon.data.phonemize.ipa_symbols import classify, is_ipa, non_ipa_ok
from cjkv_phon.data.xtreme import read_xtreme_tsv
from cjkv_phon.schema import LANGS, SPLITS, TASKS


def test_nfd_and_conjoining_jamo_compose_to_syllables():
    assert normalize_token(unicodedata.normalize("NFD", "한국어")) == "한국어"
    assert normalize_token("\u1112\u1161\u11ab\u1100\u116e\u11a8") == "한국"
    assert normalize_token("か\u3099") == "が"
    assert normalize_tokens(("ô\u0323", "việt")) == (("ộ", "việt"), 1)


def test_decomposed_korean_is_transcribed_like_composed():
    ko = get_phonemizer("ko")
    composed = ko.transcribe(["한국어", "대학교"])
    assert ko.transcribe([unicodedata.normalize("NFD", t) for t in ("한국어", "대학교")]) == composed
    conjoining = ko.transcribe(["\u1112\u1161\u11ab\u1100\u116e\u11a8\u110b\u1165", "대학교"])
    assert conjoining == composed
    assert composed.status == ("ok", "ok") and is_ipa(composed.ipa[0], "ko")


def test_reader_counts_normalised_tokens(tmp_path):
    path = tmp_path / "train-ko.tsv"
    path.write_text(f"{unicodedata.normalize('NFD', '서울')}\tB-LOC\n은\tO\n\n", encoding="utf-8")
    read = read_xtreme_tsv(path, task="panx", lang="ko", split="train")
    assert read.sentences[0].tokens == ("서울", "은") and read.normalised == 1


def test_classification_of_characters():
    assert classify("kʲa", "ja") == "ipa" and classify("t͈͡ɕʰa", "ko") == "ipa"
    assert classify("viət6", "vi") == "ipa" and is_ipa("viət6", "vi") and not is_ipa("viət6", "zh")
    assert classify("đa", "vi") == "other"  # đ: a Latin letter outside IPA
    assert classify("ャ", "ja") == classify("高麗", "ko") == classify("han한", "ko") == "cjk"
    assert classify("Klikɯ", "ko") == "other" and classify("man.", "ko") == "ipa"


def test_non_ipa_is_never_ok_in_any_language():
    cases = {"ja": ["キ", "ャ", "ッ", "ト", "の", "ハングル", "한"],
             "ko": ["K리그", "高麗", "の", "서울"], "zh": ["の", "2009年", "北京"],
             "vi": ["Hà", "Nội", "東", "の"]}
    for lang, tokens in cases.items():
        result = get_phonemizer(lang).transcribe(tokens)
        for token, ipa, status in zip(tokens, result.ipa, result.status):
            if status == "ok":
                assert classify(ipa, lang) == "ipa", (lang, token, ipa)


def test_built_release_has_no_non_ipa_ok_token(built_data):
    """Every file of the session's real release (both tasks, four languages, all splits)."""
    checked = 0
    for task in TASKS:
        for lang in LANGS:
            for split in SPLITS:
                path = built_data / task / lang / f"{split}.parquet"
                if not path.is_file():
                    continue
                table = pq.read_table(path, columns=["ipa", "status"]).to_pydict()
                ok = [i for ipas, sts in zip(table["ipa"], table["status"])
                      for i, s in zip(ipas, sts) if s == "ok"]
                assert non_ipa_ok(ok, lang) == [], path
                checked += len(ok)
    assert checked > 1000


def test_stats_lists_only_ipa_symbols(built_data):
    from cjkv_phon.data.stats import compute_stats

    stats = compute_stats(built_data)
    for langs in stats["tasks"].values():
        for lang, s in langs.items():
            bad = [seg for seg in s["ipa_inventory"] if not is_ipa(seg, lang)]
            assert bad == [], (lang, bad)


def test_whole_built_release_has_no_non_ipa_ok_token(tmp_path_factory, xtreme_dir):
    """The whole release (every PAN-X and UDPOS file, all sentences), built by this code and read back.

    Every build also checks each file it writes (``build.check_ok_is_ipa``); this reads the full
    build back as a user would, so the invariant is tested on all the data, in CI too (~100 s).
    """
    from cjkv_phon.data.build import build_data
    from cjkv_phon.data.build_plan import BuildDataConfig

    out = tmp_path_factory.mktemp("full_release") / "xtreme-cjkv-phonemic"
    build_data(BuildDataConfig(source=str(xtreme_dir), scheme="native", out=str(out)))
    files = sorted((out / "data").glob("*/*/*.parquet"))
    assert len(files) == 23                                # 2 tasks x 4 languages x 3 splits, minus udpos ko train
    import pyarrow.compute as pc

    for path in files:
        table = pq.read_table(path, columns=["ipa", "status"])
        ipa, status = pc.list_flatten(table.column("ipa")), pc.list_flatten(table.column("status"))
        ok = pc.unique(pc.filter(ipa, pc.equal(status, "ok"))).to_pylist()
        assert non_ipa_ok(ok, path.parts[-2]) == [], path
