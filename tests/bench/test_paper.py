"""The paper's published numbers as data: loaded, checked, and equal to ../shared/PAPER.md."""

from __future__ import annotations

import re

import pytest

from cjkv_phon.bench.paper import PAPER_DIR, load_paper, read_paper_table
from cjkv_phon.bench.variants import load_variants
from cjkv_phon.errors import InputError


def cell(cells, system, backbone, task, lang, table=None):
    hits = [c for c in cells if c.system == system and c.backbone == backbone and c.task == task
            and c.lang == lang and (table is None or c.table == table)]
    assert len(hits) == 1, hits
    return hits[0]


def test_spot_checks():
    # Hand-copied from PAPER.md: Table 3 PhoneXL (mBERT, full) PANX VI; Table 4 xTune UDPOS KO;
    # Table 6 "mBERT + PE, no extension" KO.
    cells = load_paper()
    c = cell(cells, "phonexl", "mbert", "panx", "vi", "3")
    assert (c.mean, c.std, c.pair, c.side, c.split) == (52.28, 0.98, "zh-vi", "target", "test")
    c = cell(cells, "xtune", "xlmr", "udpos", "ko")
    assert (c.mean, c.std, c.resources, c.table) == (51.03, 1.26, "Dict+MT", "4")
    assert cell(cells, "phonexl-pe-noext", "mbert", "udpos", "ko").mean == 43.85
    assert cell(cells, "x-mixup", "mbert", "panx", "zh").std == 0.17
    # 7 mBERT rows and 5 XLM-R rows of 8 cells each, 6 Table-6 rows of 2 cells.
    assert [sum(c.table == t for c in cells) for t in "346"] == [56, 40, 12]


def _paper_md_numbers(paper_md: str) -> dict[str, list[str]]:
    """Row label -> its 'mean ± std' cells, read from PAPER.md's markdown tables."""
    rows = {}
    for line in paper_md.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) > 2 and re.fullmatch(r"[\d.]+ ± [\d.]+", cells[1]):
            rows[cells[0]] = cells[1:]
    return rows


def test_every_cell_matches_paper_md(shared_data):
    rows = _paper_md_numbers((shared_data.parent / "PAPER.md").read_text(encoding="utf-8"))
    cells = load_paper()
    for label in {c.label for c in cells}:
        ours = [f"{c.mean:.2f} ± {c.std:.2f}" for c in cells if c.label == label]
        assert ours == rows[label], label
    assert len({c.label for c in cells}) == len(rows)      # every published row is transcribed


def test_systems_are_known_variants():
    assert {c.system for c in load_paper()} <= set(load_variants())


def test_bad_row_names_file_and_line(tmp_path):
    lines = (PAPER_DIR / "table6.csv").read_text(encoding="utf-8").splitlines()
    bad_line = next(i for i, text in enumerate(lines) if text.startswith("6,")) + 1
    lines[bad_line - 1] = lines[bad_line - 1].replace(",48.62,", ",48.6x,")
    path = tmp_path / "table6.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match=rf"table6.csv:{bad_line}: mean and std must be numbers") as err:
        read_paper_table(path)
    assert err.value.line == bad_line
    lines[bad_line - 1] = lines[bad_line - 1].replace(",48.6x,", ",48.62,").replace(",vi,", ",ko,")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="lang its side's language"):
        read_paper_table(path)
