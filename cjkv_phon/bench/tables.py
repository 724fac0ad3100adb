"""The leaderboard's tables: Markdown and LaTeX in the layout of the paper's Tables 3, 4 and 6, and CSV.

Per split (test, then dev): a main table in the layout of Tables 3 and 4 (one row per (system,
backbone), source and target F1 per task and pair, the paper's rows right below ours for the same
system) and a table in the layout of Table 6 (UDPOS target F1 for the representation ablations). Md
and tex add the significance section (:mod:`cjkv_phon.bench.significance_tables`); ``csv`` is one line
per cell, for further analysis, with the significance columns on our target test lines.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Iterable

from cjkv_phon.bench.leaderboard_rows import (Row, baseline_of, ordered_rows, paired_delta_std, table_columns,
                                              target_delta)
from cjkv_phon.bench.paper import PAPER_BACKBONES
from cjkv_phon.bench.significance import Comparison
from cjkv_phon.bench.significance_tables import (SIG_CSV, SIG_HEAD, SIG_NOTE, SIG_TITLE, SigKey, sig_csv_cells,
                                                 sig_lines)
from cjkv_phon.schema import TASKS


@dataclass(frozen=True)
class Section:
    """One rendered table: a title, a split, its rows in display order and its (task, pair, side) columns."""

    title: str
    split: str
    rows: tuple[Row, ...]
    columns: tuple[tuple[str, str, str], ...]


def _in_table6(row: Row, table6: set[str]) -> bool:
    """Table 6 shows the representation ablations and full PhoneXL; the paper's rows are mBERT only."""
    wanted = row.variant in table6 or row.variant == "phonexl"
    return wanted and (row.origin == "ours" or row.backbone == PAPER_BACKBONES["mbert"])


def build_sections(ours: list[Row], paper: list[Row], table6: set[str]) -> list[Section]:
    """The main (Tables 3/4) and Table-6 sections for test and dev, skipping empty ones.

    Args:
        ours, paper: rows from our results and from the paper.
        table6: variants that appear only in the paper's Table 6 (the representation ablations).
    """
    sections = []
    for split in ("test", "dev"):
        rows = [r for r in ordered_rows(ours + paper) if any(k[3] == split for k in r.cells)]
        main = [r for r in rows if r.variant not in table6]
        abl = [r for r in rows if _in_table6(r, table6)]
        # The paper's Table 6 is UDPOS only; our ablations may have run on PAN-X too, so any task one of
        # our ablation rows has a value for gets its target columns as well.
        abl_tasks = tuple(t for t in TASKS if t == "udpos" or any(
            key[0] == t and key[3] == split for r in abl if r.origin == "ours" and r.variant in table6
            for key in r.cells))
        for title, chosen, cols in (
                (f"{split.capitalize()} F1, layout of Tables 3 and 4", main, table_columns(main, split)),
                (f"{split.capitalize()} F1, layout of Table 6 (target; the paper's is UDPOS only)", abl,
                 table_columns(abl, split, abl_tasks, ("target",)))):
            chosen = [r for r in chosen if any((*c, split) in r.cells for c in cols)]
            if chosen and cols:
                sections.append(Section(title, split, tuple(chosen), cols))
    return sections


def _header(columns: Iterable[tuple[str, str, str]]) -> list[str]:
    head = ["Model", "Backbone", "Resources", "Results", "Seeds", "Δ tgt vs finetune"]
    return head + [f"{t.upper()} {p.replace('-', '→')} {p.split('-')[s == 'target']} ({'tgt' if s == 'target' else 'src'})"
                   for t, p, s in columns]


def _body(section: Section, all_rows: list[Row]) -> list[list[str]]:
    """Cell strings of a section; the delta is signed with two decimals, '–' where undefined."""
    lines = []
    for r in section.rows:
        delta = target_delta(r, all_rows, section.split, section.columns)
        spread = paired_delta_std(r, all_rows, section.split, section.columns)
        cells = [str(r.cells[(*c, section.split)]) if (*c, section.split) in r.cells else "–"
                 for c in section.columns]
        shown = "–" if delta is None else f"{delta:+.2f}" + ("" if spread is None else f" ± {spread:.2f}")
        lines.append([r.variant, r.backbone, r.resources, r.origin, str(r.seeds), shown, *cells])
    return lines


DELTA_NOTE = ("Δ tgt vs finetune: mean target F1 minus that of finetune on the same backbone and origin, "
              "over the shown target columns; for our rows ± is the std over seeds of the same-seed "
              "difference. Cells: mean ± sample std over seeds (a bare mean for one seed).")


def render_markdown(sections: list[Section], all_rows: list[Row],
                    sig: dict[SigKey, Comparison] | None = None) -> str:
    """The sections as Markdown tables, then the significance section when ``sig`` has comparisons."""
    out = [DELTA_NOTE, ""]
    for sec in sections:
        head = _header(sec.columns)
        out += [f"### {sec.title}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        out += ["| " + " | ".join(line) + " |" for line in _body(sec, all_rows)]
        out.append("")
    if sig:
        ours = [r for r in all_rows if r.origin == "ours"]
        out += [f"### {SIG_TITLE}", "", SIG_NOTE, "", "| " + " | ".join(SIG_HEAD) + " |",
                "|" + "---|" * len(SIG_HEAD)]
        out += ["| " + " | ".join(line) + " |" for line in sig_lines(sig, ours)]
        out.append("")
    return "\n".join(out)


# LaTeX forms of the non-ASCII characters the tables use, and of LaTeX's special characters.
_TEX = {"±": r"$\pm$", "→": r"$\to$", "Δ": r"$\Delta$", "≤": r"$\le$", "≥": r"$\ge$", "ε": r"$\varepsilon$",
        "−": "$-$", "–": "--", "—": "---", "&": r"\&", "%": r"\%",
        "_": r"\_", "#": r"\#", "$": r"\$", "{": r"\{", "}": r"\}", "\\": r"\textbackslash{}"}


def _tex_escape(text: str) -> str:
    return "".join(_TEX.get(ch, ch) for ch in text)


def _latex_table(head: list[str], body: list[list[str]], left: int, caption: str) -> list[str]:
    return [r"\begin{table*}[t]", r"\centering\small",
            r"\begin{tabular}{" + "l" * left + "r" * (len(head) - left) + "}",
            r"\toprule", " & ".join(_tex_escape(h) for h in head) + r" \\", r"\midrule",
            *(" & ".join(_tex_escape(c) for c in line) + r" \\" for line in body),
            r"\bottomrule", r"\end{tabular}", rf"\caption{{{_tex_escape(caption)}}}", r"\end{table*}", ""]


def render_latex(sections: list[Section], all_rows: list[Row], sig: dict[SigKey, Comparison] | None = None) -> str:
    """The same tables as :func:`render_markdown`, as booktabs ``table*`` floats with escaped text."""
    out = ["% Generated by `cjkv leaderboard --format tex`; needs \\usepackage{booktabs}."]
    for sec in sections:
        out += _latex_table(_header(sec.columns), _body(sec, all_rows), 5, sec.title)
    if sig:
        ours = [r for r in all_rows if r.origin == "ours"]
        out += _latex_table(SIG_HEAD, sig_lines(sig, ours), 3, f"{SIG_TITLE}. {SIG_NOTE}")
    return "\n".join(out)


def render_csv(all_rows: list[Row], sig: dict[SigKey, Comparison] | None = None) -> str:
    """One line per cell, ours and the paper's, with the per-cell delta versus finetune and, on our
    target test lines, the significance columns (``SIG_CSV``)."""
    sig = sig or {}
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["origin", "variant", "backbone", "resources", "task", "pair", "side", "lang", "split",
                     "n", "mean", "std", "delta_vs_finetune", "delta_paired_std", *SIG_CSV])
    for r in ordered_rows(all_rows):
        base = baseline_of(r, all_rows)
        for key, stat in sorted(r.cells.items()):
            task, pair, side, split = key
            lang = pair.split("-")[side == "target"]
            delta = "" if base is None or key not in base.cells else f"{stat.mean - base.cells[key].mean:.4f}"
            paired = paired_delta_std(r, all_rows, split, [key[:3]]) if side == "target" else None
            comparison = sig.get((r.variant, r.backbone, task, pair, split)) if (
                r.origin == "ours" and side == "target") else None
            writer.writerow([r.origin, r.variant, r.backbone, r.resources, task, pair, side, lang, split,
                             stat.n, f"{stat.mean:.4f}", "" if stat.std is None else f"{stat.std:.4f}", delta,
                             "" if paired is None else f"{paired:.4f}", *sig_csv_cells(comparison)])
    return buf.getvalue()
