"""``cjkv phonemize`` on hostile or mistaken input: one-line errors naming the file, nothing written,
input columns never silently replaced (issue 23, item 6 and the phonemize errors)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from cjkv_phon.cli import app

runner = CliRunner(env={"COLUMNS": "80"})


def _phonemize(*args: str):
    result = runner.invoke(app, ["phonemize", "--lang", "zh", *args])
    assert "Traceback" not in result.output and result.exception is None or \
        isinstance(result.exception, SystemExit), result.output
    return result


def _one_line_error(result, code: int, *words: str) -> None:
    assert result.exit_code == code, result.output
    err = result.stderr.strip()
    assert err.startswith("error: ") and "\n" not in err, err
    for word in words:
        assert word in err, err


def test_input_columns_named_like_the_transcription_are_not_replaced_silently(tmp_path: Path) -> None:
    src = tmp_path / "in.parquet"
    pq.write_table(pa.table({"text": ["银行"], "ipa": ["mine"], "status": ["kept"]}), src)
    out = tmp_path / "out.jsonl"
    _one_line_error(_phonemize(str(src), "-o", str(out)), 1, str(src), "ipa, status", "--overwrite-columns")
    assert not out.exists()
    assert _phonemize(str(src), "-o", str(out), "--overwrite-columns").exit_code == 0
    assert '"ipa": ["in˧˥", "xɑŋ˧˥"]' in out.read_text(encoding="utf-8")


def test_an_empty_input_is_an_error_unless_allowed(tmp_path: Path) -> None:
    src = tmp_path / "empty.txt"
    src.write_text("\n\n", encoding="utf-8")
    _one_line_error(_phonemize(str(src), "-o", str(tmp_path / "o.tsv")), 1, str(src), "no sentences")
    assert not (tmp_path / "o.tsv").exists()
    assert _phonemize(str(src), "-o", str(tmp_path / "o.tsv"), "--allow-empty").exit_code == 0


def test_jsonl_mixing_text_and_tokens_names_the_mix_not_a_valid_line(tmp_path: Path) -> None:
    src = tmp_path / "mixed.jsonl"
    src.write_text('{"text": "银行"}\n{"text": "行长"}\n{"tokens": ["银", "行"]}\n', encoding="utf-8")
    _one_line_error(_phonemize(str(src)), 1, f"{src}:3:", "first on line 1", "first on line 3")


def test_split_is_refused_for_an_input_without_splits(tmp_path: Path) -> None:
    src = tmp_path / "a.txt"
    src.write_text("银行\n", encoding="utf-8")
    _one_line_error(_phonemize(str(src), "--split", "test"), 1, str(src), "--split 'test'")


def test_a_jsonl_integer_too_large_is_one_line(tmp_path: Path) -> None:
    src = tmp_path / "big.jsonl"
    src.write_text('{"text": "银行", "n": 1}\n{"text": "行长", "n": 100000000000000000000000}\n',
                   encoding="utf-8")
    _one_line_error(_phonemize(str(src)), 1, str(src), "'n'")


def test_a_huge_batch_size_is_a_usage_error(tmp_path: Path) -> None:
    src = tmp_path / "a.txt"
    src.write_text("银行\n", encoding="utf-8")
    _one_line_error(_phonemize(str(src), "--batch-size", str(10**15)), 2, "batch_size")


def test_an_output_inside_a_file_is_one_line(tmp_path: Path) -> None:
    src = tmp_path / "a.txt"
    src.write_text("银行\n", encoding="utf-8")
    _one_line_error(_phonemize(str(src), "-o", str(src / "out.tsv")), 1, str(src))


def test_a_full_device_output_is_one_line_and_stays_a_device(tmp_path: Path) -> None:
    src = tmp_path / "a.txt"
    src.write_text("银行\n" * 2000, encoding="utf-8")
    full = tmp_path / "full"
    try:
        os.mknod(full, 0o666 | stat.S_IFCHR, os.makedev(1, 7))     # /dev/full's numbers, in tmp_path
    except PermissionError:
        pytest.skip("mknod needs CAP_MKNOD")
    for fmt in ("tsv", "parquet"):
        _one_line_error(_phonemize(str(src), "-o", str(full), "--format", fmt), 1, "No space left")
        assert stat.S_ISCHR(os.stat(full).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "full"]
