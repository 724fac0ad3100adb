"""``cjkv build-dict`` input errors are one line naming the file (and line), never a traceback
(issue 23, one-line errors)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cjkv_phon.cli import app

runner = CliRunner()


@pytest.mark.parametrize("files, words", [
    ({"en-zh.txt": "hello\t你好\nworld\n", "en-vi.txt": "hello xin\n"}, ["en-zh.txt:2:", "'world'"]),
    ({"en-zh.txt": "", "en-vi.txt": "hello xin\n"}, ["en-zh.txt: no dictionary entries"]),
    ({"en-zh.txt": "aaa 你好\n", "en-vi.txt": "bbb xin\n"}, ["share no English word", "en-vi.txt"]),
    ({"en-vi.txt": "hello xin\n"}, ["en-zh.txt: No such file"]),
])
def test_bad_muse_input_is_one_line(tmp_path: Path, files: dict[str, str], words: list[str]) -> None:
    muse = tmp_path / "muse"
    muse.mkdir()
    for name, text in files.items():
        (muse / name).write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["build-dict", "--pair", "zh-vi", "--muse-dir", str(muse),
                                 "--out", str(tmp_path / "out")])
    assert result.exit_code == 1 and not isinstance(result.exception, Exception) or \
        isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]  # besides log lines
    assert len(errors) == 1 and result.stderr.rstrip().endswith(errors[0]), result.stderr
    err = errors[0]
    assert all(w in err for w in words), err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
