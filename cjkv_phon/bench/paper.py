"""The paper's published numbers (Tables 3, 4 and 6 of PhoneXL) as data, for the leaderboard.

The numbers live in ``benchmarks/paper/table{3,4,6}.csv`` (transcribed from ``../shared/PAPER.md``), one
row per table cell so that they join our results on (system, task, pair, side, split). A sample row::

    table,label,system,backbone,resources,task,pair,side,lang,split,mean,std
    3,"PhoneXL (mBERT, full)",phonexl,mbert,Dict,panx,zh-vi,target,vi,test,52.28,0.98

Lines starting with ``#`` carry the source note. Every row is checked on load; a bad one raises
``InputError`` with the file and line, because a silently mis-read paper number would make every delta wrong.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from cjkv_phon.errors import InputError
from cjkv_phon.schema import LANGS, SPLITS, TASKS

# The checkout's benchmarks/ folder: the package is installed editable, so it sits two levels up.
BENCHMARKS_DIR = Path(__file__).resolve().parents[2] / "benchmarks"
PAPER_DIR = BENCHMARKS_DIR / "paper"
PAPER_TABLES: tuple[str, ...] = ("3", "4", "6")
PAPER_BACKBONES: dict[str, str] = {"mbert": "mBERT", "xlmr": "XLM-R"}
SIDES: tuple[str, ...] = ("source", "target")
COLUMNS: tuple[str, ...] = ("table", "label", "system", "backbone", "resources", "task", "pair",
                            "side", "lang", "split", "mean", "std")


@dataclass(frozen=True)
class PaperCell:
    """One published number: F1 mean ± std over the paper's 3 seeds, on a 0–100 scale."""

    table: str
    label: str
    system: str
    backbone: str
    resources: str
    task: str
    pair: str
    side: str
    lang: str
    split: str
    mean: float
    std: float


def _check_row(row: dict[str, str], path: Path, line: int) -> PaperCell:
    """Validate one CSV row against the project's names and turn it into a ``PaperCell``."""
    checks = (("table", PAPER_TABLES), ("backbone", tuple(PAPER_BACKBONES)), ("task", TASKS),
              ("side", SIDES), ("lang", LANGS), ("split", SPLITS))
    for key, valid in checks:
        if row[key] not in valid:
            raise InputError(f"{key} must be one of {', '.join(valid)}", path, line, row[key])
    src, _, tgt = row["pair"].partition("-")
    if src not in LANGS or tgt not in LANGS or row["lang"] != (src if row["side"] == "source" else tgt):
        raise InputError("pair must be <src>-<tgt> and lang its side's language", path, line,
                         f"{row['pair']} {row['side']} {row['lang']}")
    try:
        mean, std = float(row["mean"]), float(row["std"])
    except ValueError:
        raise InputError("mean and std must be numbers", path, line,
                         f"{row['mean']} {row['std']}") from None
    if not (0.0 <= mean <= 100.0 and 0.0 <= std <= 100.0):
        raise InputError("mean and std are F1 percentages in [0, 100]", path, line, f"{mean} {std}")
    return PaperCell(**{**row, "mean": mean, "std": std})


def read_paper_table(path: str | Path) -> list[PaperCell]:
    """Read one ``table*.csv``; ``#`` lines are comments, the first other line is the header."""
    path = Path(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    numbered = [(i + 1, text) for i, text in enumerate(lines) if text.strip() and not text.startswith("#")]
    if not numbered:
        raise InputError("no header line", path, None)
    header_line, header = numbered[0]
    if tuple(next(csv.reader([header]))) != COLUMNS:
        raise InputError(f"header must be {','.join(COLUMNS)}", path, header_line, header)
    cells = []
    for line, text in numbered[1:]:
        values = next(csv.reader([text]))
        if len(values) != len(COLUMNS):
            raise InputError(f"expected {len(COLUMNS)} fields, got {len(values)}", path, line, text)
        cells.append(_check_row(dict(zip(COLUMNS, values)), path, line))
    return cells


def load_paper(paper_dir: str | Path = PAPER_DIR) -> list[PaperCell]:
    """All published cells of Tables 3, 4 and 6, in file order."""
    paper_dir = Path(paper_dir)
    cells: list[PaperCell] = []
    for table in PAPER_TABLES:
        cells.extend(read_paper_table(paper_dir / f"table{table}.csv"))
    return cells
