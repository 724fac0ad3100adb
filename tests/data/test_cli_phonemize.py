"""`cjkv phonemize`: every input and output format, workers, bad input, atomic output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from cjkv_phon.cli import app
from cjkv_phon.corpus.phonemize import PhonemizeConfig, phonemize
from cjkv_phon.data.release_reader import load_split
from cjkv_phon.data.xtreme import read_xtreme_tsv, xtreme_path

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner(env={"COLUMNS": "250"})


def _panx_text(xtreme_dir: Path, lang: str, n: int) -> list[str]:
    """The first n sentences of PAN-X dev, unlabelled, as text lines (zh/ja joined, ko/vi spaced)."""
    read = read_xtreme_tsv(xtreme_path(xtreme_dir, "panx", lang, "dev"), task="panx", lang=lang,
                           split="dev", max_sentences=n)
    sep = "" if lang in ("zh", "ja") else " "
    return [sep.join(s.tokens) for s in read.sentences]


def test_stdin_to_tsv_in_a_real_process() -> None:
    run = subprocess.run([sys.executable, "-m", "cjkv_phon.cli", "phonemize", "--lang", "zh"],
                         input="银行行长\n", capture_output=True, text=True, cwd=REPO, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout == ("银\tin˧˥\tyin2\tok\n行\txɑŋ˧˥\thang2\tok\n行\txɑŋ˧˥\thang2\tok\n"
                          "长\tʈʂɑŋ˧˩˧\tzhang3\tok\n\n")
    assert "sentences" in run.stderr and "4 (100.0%)" in run.stderr  # the summary goes to stderr


def test_pretokenized_jsonl_matches_build_data(tmp_path: Path, built_data: Path) -> None:
    built = load_split(built_data, "panx", "ja", "dev").to_pydict()
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": i, "tokens": t}, ensure_ascii=False) + "\n"
                           for i, t in zip(built["id"], built["tokens"])), encoding="utf-8")
    result = runner.invoke(app, ["phonemize", str(src), "--lang", "ja", "-o", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in (tmp_path / "o.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == built["id"]
    for col in ("tokens", "ipa", "romanized", "status"):
        assert [r[col] for r in rows] == built[col], col
    n_tokens = sum(len(t) for t in built["tokens"])
    assert f"│ 40        │ {n_tokens}" in result.output and "pretokenized" in result.output


def test_text_file_workers_and_formats_agree(tmp_path: Path, xtreme_dir: Path) -> None:
    src = tmp_path / "vi.txt"
    src.write_text("\n".join(_panx_text(xtreme_dir, "vi", 30)) + "\n", encoding="utf-8")
    outs = {}
    for workers, name in ((1, "one.parquet"), (2, "two.parquet")):
        report = phonemize(PhonemizeConfig(lang="vi", input=str(src), output=str(tmp_path / name),
                                           workers=workers, batch_size=7))
        outs[workers] = (tmp_path / name).read_bytes()
        assert report.sentences == 30 and report.status_counts["ok"] > 0
    assert outs[1] == outs[2]  # byte-identical whatever the number of workers and batch boundaries
    table = pq.read_table(tmp_path / "one.parquet")
    assert table.column_names == ["line", "text", "tokens", "ipa", "romanized", "status"]
    meta = json.loads(table.schema.metadata[b"cjkv_phon.phonemize"])
    assert meta["lang"] == "vi" and meta["tokenize"] == "words" and meta["versions"]
    phonemize(PhonemizeConfig(lang="vi", input=str(tmp_path / "one.parquet"), column="tokens",
                              output=str(tmp_path / "again.tsv"), overwrite_columns=True))
    tsv = (tmp_path / "again.tsv").read_text(encoding="utf-8")
    sentences = tsv.split("\n\n")[:-1]
    assert len(sentences) == 30
    first = [line.split("\t") for line in sentences[0].splitlines()]
    rows = table.slice(0, 1).to_pylist()[0]
    assert first == [list(x) for x in zip(rows["tokens"], rows["ipa"], rows["romanized"], rows["status"])]


def test_datasets_folder_input(tmp_path: Path) -> None:
    import datasets

    folder = tmp_path / "hf"
    datasets.DatasetDict({"train": datasets.Dataset.from_dict({"tokens": [["서울", "에"], ["갔다", "."]]})}
                         ).save_to_disk(str(folder))
    missing = runner.invoke(app, ["phonemize", str(folder), "--lang", "ko"])
    assert missing.exit_code == 1 and "choose a split with --split; splits: train" in missing.output
    result = runner.invoke(app, ["phonemize", str(folder), "--lang", "ko", "--split", "train",
                                 "-o", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 0, result.output
    rows = [json.loads(x) for x in (tmp_path / "o.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["status"] for r in rows] == [["ok", "ok"], ["ok", "passthrough"]]


@pytest.mark.parametrize("name, content, message", [
    ("crlf.txt", b"\xe9\x93\xb6\xe8\xa1\x8c\r\n", "crlf.txt:1: carriage return"),
    ("latin1.txt", "银行\nBj\xf6rk\n".encode("utf-8")[:7] + b"Bj\xf6rk\n", "latin1.txt:2: line is not valid UTF-8"),
    ("bad.jsonl", b'{"text": "a"}\n{"text": \n', "bad.jsonl:2: not JSON"),
    ("space.jsonl", b'{"tokens": ["a"]}\n\n{"tokens": ["b c"]}\n', "space.jsonl:3: tokens: token 0 contains whitespace"),
    ("cols.jsonl", b'{"sentence": "a"}\n', "no 'text' column (columns: sentence)"),
    ("nul.jsonl", b'{"tokens": ["a", "b\\u0000"]}\n', "nul.jsonl:1: tokens: token 1: control character NUL"),
])
def test_bad_input_names_file_line_value_and_writes_nothing(tmp_path: Path, name: str, content: bytes,
                                                            message: str) -> None:
    src = tmp_path / name
    src.write_bytes(content)
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["phonemize", str(src), "--lang", "zh", "-o", str(out)])
    assert result.exit_code == 1
    assert message in result.output.replace("\n", "")
    assert not out.exists() and list(tmp_path.iterdir()) == [src]  # no output, no temp file left


def test_bad_parquet_row_and_usage_errors(tmp_path: Path) -> None:
    src = tmp_path / "t.parquet"
    pq.write_table(pa.table({"tokens": [["a"], ["b", ""]]}), src)
    result = runner.invoke(app, ["phonemize", str(src), "--lang", "vi", "-o", str(tmp_path / "o.tsv")])
    assert result.exit_code == 1 and "row 1: tokens: token 1 is empty" in result.output
    assert not (tmp_path / "o.tsv").exists()
    bad = runner.invoke(app, ["phonemize", str(src), "--lang", "th"])
    assert bad.exit_code != 0 and "unknown language 'th'" in bad.output
    fmt = runner.invoke(app, ["phonemize", str(src), "--lang", "vi", "-o", str(tmp_path / "o.csv")])
    assert fmt.exit_code != 0 and "cannot tell the output format" in fmt.output
    good = tmp_path / "good.parquet"
    pq.write_table(pa.table({"tokens": [["a"]]}), good)
    chars = runner.invoke(app, ["phonemize", str(good), "--lang", "vi", "--tokenize", "chars"])
    assert chars.exit_code == 1 and "holds token lists; use --tokenize pretokenized" in chars.output
