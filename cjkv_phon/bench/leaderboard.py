"""The leaderboard: our results (mean ± std over seeds) beside the paper's, in the layout of its tables.

Input: every ``results.json`` under a results folder (``run_bench`` writes them; each carries a
``bench`` block with the variant name and resources). Output, per split (test, then dev):

* a main table in the layout of Tables 3 and 4: one row per (system, backbone), columns source and
  target F1 per task and pair, the paper's rows (mBERT, XLM-R) right below ours for the same system;
* a table in the layout of Table 6 (UDPOS target F1 for the representation ablations).

The headline column is Δ: the mean, over the row's target columns, of (row F1 − ``finetune`` F1 on the
same backbone and the same side of the comparison, ours or the paper's). Our backbone differs from the
paper's, so our absolute F1 is not comparable with theirs; the gain over plain fine-tuning is.
Formats: ``md`` and ``tex`` render those tables; ``csv`` is one line per cell (for further analysis).
Std is the sample standard deviation (n − 1), 0 for a single seed; the paper does not say which it used.

Significance (``significance.py``): for each of our (system, backbone, target cell) on the test split,
against ``finetune`` on the same backbone, the paired bootstrap over test sentences pooled over seeds
(Δ with its 95% interval and p) and ASO's ε_min across seeds. Md and tex add a section with one line per
comparison, csv adds columns to the target test lines, the plot adds a row of Δ panels with the intervals
drawn. Runs recorded before per-sentence counts existed get "n/a" for the bootstrap (ASO needs only the
per-seed F1, so it is there from two shared seeds on).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import logging
import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from cjkv_phon.bench.paper import PAPER_BACKBONES, PaperCell, load_paper
from cjkv_phon.bench.runner import backbone_slug
from cjkv_phon.bench.significance import Comparison, SignificanceConfig, compare
from cjkv_phon.bench.variants import load_variants
from cjkv_phon.errors import InputError
from cjkv_phon.schema import PAPER_PAIRS, TASKS
from cjkv_phon.training.sentence_scores import read_counts

log = logging.getLogger(__name__)
FORMATS: tuple[str, ...] = ("md", "csv", "tex")
BASELINE = "finetune"
_NEEDED_KEYS = ("task", "source_lang", "target_lang", "system", "seed", "backbone", "metrics")
CellKey = tuple[str, str, str, str]          # (task, pair, side, split)


@dataclass(frozen=True)
class Stat:
    """Mean ± sample std of one cell over n seeds (F1 on a 0–100 scale).

    One seed has no spread: ``std`` is None and the cell prints as the bare mean, not as "± 0.00",
    which would claim a measured spread of zero.
    """

    mean: float
    std: float | None
    n: int
    by_seed: tuple[tuple[int, float], ...] = ()     # (seed, value) of our runs; empty for the paper's

    @classmethod
    def of(cls, values: list[float], seeds: list[int] | None = None) -> "Stat":
        std = statistics.stdev(values) if len(values) > 1 else None
        by_seed = tuple(sorted(zip(seeds, values))) if seeds is not None else ()
        return cls(statistics.fmean(values), std, len(values), by_seed)

    def __str__(self) -> str:
        return f"{self.mean:.2f}" if self.std is None else f"{self.mean:.2f} ± {self.std:.2f}"


@dataclass
class Row:
    """One table row: a system on a backbone, from our runs (``ours``) or the paper (``paper``)."""

    origin: str
    variant: str
    backbone: str
    resources: str
    seeds: int
    cells: dict[CellKey, Stat] = field(default_factory=dict)


def load_results(results_dir: str | Path) -> list[dict]:
    """Every results record under ``results_dir`` (recursively), checked for the keys we read.

    Raises:
        InputError: a ``results.json`` is not JSON, lacks a needed key, or has per-sentence counts
            that do not parse or do not line up (named with the file).
    """
    records = []
    for path in sorted(Path(results_dir).rglob("results.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise InputError(f"not valid JSON: {exc.msg}", path, exc.lineno) from None
        missing = [k for k in _NEEDED_KEYS if k not in record]
        if missing:
            raise InputError("results record lacks keys", path, None, missing)
        for side, splits in record.get("sentence_counts", {}).items():
            for split in splits:
                try:
                    read_counts(record, side, split)
                except ValueError as exc:
                    raise InputError(str(exc), path) from None
        records.append(record)
    log.info("read %d results records under %s", len(records), results_dir)
    return records


def _f1_values(record: dict) -> Iterable[tuple[CellKey, float]]:
    """(cell, F1) for each side and split the record has metrics for.

    The trainer stores F1 on the paper's 0-100 scale (``training.metrics.evaluate_tags``).
    """
    pair = f"{record['source_lang']}-{record['target_lang']}"
    for side in ("source", "target"):
        for split, metrics in record["metrics"].get(side, {}).items():
            if isinstance(metrics, dict) and metrics.get("f1") is not None:
                yield (record["task"], pair, side, split), float(metrics["f1"])


def _row_of(variant: str, backbone: str, records: list[dict]) -> Row:
    """Our row for one (variant, backbone): each cell averaged over the records (one per seed)."""
    values: dict[CellKey, list[tuple[int, float]]] = {}
    for record in records:
        for cell, f1 in _f1_values(record):
            values.setdefault(cell, []).append((int(record["seed"]), f1))
    resources = records[0].get("bench", {}).get("resources", "—")
    seeds = len({int(r["seed"]) for r in records})
    return Row("ours", variant, backbone, resources, seeds,
               {c: Stat.of([f1 for _, f1 in v], [seed for seed, _ in v]) for c, v in values.items()})


def _groups(records: list[dict]) -> dict[tuple[str, str], list[dict]]:
    """Records by (variant, backbone); a record without a bench block counts as its system."""
    groups: dict[tuple[str, str], list[dict]] = {}
    for record in records:
        variant = record.get("bench", {}).get("variant", record["system"])
        groups.setdefault((variant, backbone_slug(str(record["backbone"]))), []).append(record)
    return groups


def our_rows(records: list[dict]) -> list[Row]:
    """Our rows: one per (variant, backbone), each cell averaged over its seeds."""
    return [_row_of(variant, backbone, recs) for (variant, backbone), recs in sorted(_groups(records).items())]


SigKey = tuple[str, str, str, str, str]      # (variant, backbone, task, pair, split)


def _target_runs(records: list[dict], split: str) -> dict[tuple[str, str], dict[int, tuple[float, object]]]:
    """(task, pair) -> seed -> (target F1, per-sentence counts or None) for one variant's records."""
    out: dict[tuple[str, str], dict[int, tuple[float, object]]] = {}
    for record in records:
        f1 = record["metrics"].get("target", {}).get(split, {}).get("f1")
        if f1 is None:
            continue
        where = f"{record.get('run_id', '?')} ({record.get('bench', {}).get('variant', record['system'])})"
        pair = f"{record['source_lang']}-{record['target_lang']}"
        out.setdefault((record["task"], pair), {})[int(record["seed"])] = (
            float(f1), read_counts(record, "target", split, where))
    return out


def comparisons(records: list[dict], config: SignificanceConfig = SignificanceConfig(),
                split: str = "test") -> dict[SigKey, Comparison]:
    """Both significance tests for every (variant, backbone, task, pair) of ours that has a
    ``finetune`` run on the same backbone and cell, on the target side of ``split``."""
    groups = _groups(records)
    out: dict[SigKey, Comparison] = {}
    for (variant, backbone), recs in sorted(groups.items()):
        if variant == BASELINE or (BASELINE, backbone) not in groups:
            continue
        base = _target_runs(groups[(BASELINE, backbone)], split)
        for (task, pair), runs in sorted(_target_runs(recs, split).items()):
            if (task, pair) in base:
                key = (variant, backbone, task, pair, split)
                out[key] = compare(runs, base[(task, pair)], (backbone, variant, task, pair, split), config,
                                   BASELINE)
    return out


_CACHE: dict[tuple, dict[SigKey, Comparison]] = {}


def cached_comparisons(results_dir: str | Path, records: list[dict], config: SignificanceConfig,
                       split: str = "test") -> dict[SigKey, Comparison]:
    """``comparisons`` memoised on the results files' (path, size, mtime) and the config: the tables
    and the plot of one ``cjkv leaderboard`` call pay for ASO (~2 s a comparison) once."""
    stamp = tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns)
                  for p in sorted(Path(results_dir).rglob("results.json")))
    key = (str(Path(results_dir).resolve()), stamp, config, split)
    if key not in _CACHE:
        _CACHE.clear()
        _CACHE[key] = comparisons(records, config, split)
    return _CACHE[key]


def paper_rows(cells: list[PaperCell]) -> list[Row]:
    """One row per (system, backbone) of the paper; Table 6 repeats some Table 3 cells, merged here."""
    rows: dict[tuple[str, str], Row] = {}
    for c in cells:
        row = rows.setdefault((c.system, c.backbone),
                              Row("paper", c.system, PAPER_BACKBONES[c.backbone], c.resources, 3))
        row.cells[(c.task, c.pair, c.side, c.split)] = Stat(c.mean, c.std, 3)
    return list(rows.values())


def baseline_of(row: Row, rows: list[Row]) -> Row | None:
    """The ``finetune`` row with the same origin and backbone as ``row`` (None for finetune itself)."""
    if row.variant == BASELINE:
        return None
    return next((r for r in rows if r.variant == BASELINE and r.origin == row.origin
                 and r.backbone == row.backbone), None)


def _target_cells(row: Row, rows: list[Row], split: str,
                  columns: Iterable[tuple[str, str, str]] | None) -> list[tuple[Stat, Stat]]:
    """(row's cell, finetune's cell) for each target cell of ``split`` both have, within ``columns``
    (a table's shown (task, pair, side) columns; None = all); empty when the row has no baseline."""
    shown = None if columns is None else set(columns)
    base = baseline_of(row, rows)
    if base is None:
        return []
    return [(stat, base.cells[key]) for key, stat in row.cells.items()
            if key[2] == "target" and key[3] == split and key in base.cells
            and (shown is None or key[:3] in shown)]


def target_delta(row: Row, rows: list[Row], split: str,
                 columns: Iterable[tuple[str, str, str]] | None = None) -> float | None:
    """Mean over the row's target cells of (row − finetune on the same backbone and origin), or None.

    Args:
        row: the row; rows: all rows (where its baseline is found); split: ``test`` or ``dev``.
        columns: restrict to these (task, pair, side) columns (a table's shown columns); None = all.
    """
    diffs = [mine.mean - theirs.mean for mine, theirs in _target_cells(row, rows, split, columns)]
    return statistics.fmean(diffs) if diffs else None


def paired_delta_std(row: Row, rows: list[Row], split: str,
                     columns: Iterable[tuple[str, str, str]] | None = None) -> float | None:
    """Std over seeds of the same-seed target difference (row − finetune), or None.

    Seed ``s`` of a system and seed ``s`` of finetune share the training subsample order and the
    initialisation of everything the two have in common, so their difference varies far less than
    either score; this is the spread of the headline delta. Defined only for our rows (the paper's
    cells carry no per-seed values) when both rows have the same two or more seeds in every compared
    target cell (then the mean of the paired differences equals the delta of the means).
    """
    per_seed: dict[int, list[float]] = {}
    for mine, theirs in _target_cells(row, rows, split, columns):
        a, b = dict(mine.by_seed), dict(theirs.by_seed)
        if len(a) < 2 or set(a) != set(b):
            return None
        for seed in a:
            per_seed.setdefault(seed, []).append(a[seed] - b[seed])
    diffs = [statistics.fmean(d) for d in per_seed.values()]
    return statistics.stdev(diffs) if len(diffs) > 1 else None


@dataclass(frozen=True)
class Section:
    """One rendered table: a title, a split, its rows in display order and its (task, pair, side) columns."""

    title: str
    split: str
    rows: tuple[Row, ...]
    columns: tuple[tuple[str, str, str], ...]


def _ordered(rows: list[Row]) -> list[Row]:
    """Variants in the variants-table order (unknown ones last), ours before the paper's, then backbone."""
    order = {name: i for i, name in enumerate(load_variants())}
    paper_order = list(PAPER_BACKBONES.values())   # mBERT before XLM-R, as in the paper
    return sorted(rows, key=lambda r: (order.get(r.variant, len(order)), r.variant, r.origin != "ours",
                                       paper_order.index(r.backbone) if r.origin == "paper" else 0,
                                       r.backbone))


def _columns(rows: list[Row], split: str, tasks: tuple[str, ...] = TASKS,
             sides: tuple[str, ...] = ("source", "target")) -> tuple[tuple[str, str, str], ...]:
    """Every (task, pair, side) some row has a value for in ``split``, task-major like the paper."""
    present = {key[:3] for r in rows for key in r.cells if key[3] == split}
    paper_pairs = [f"{s}-{t}" for s, t in PAPER_PAIRS]
    pairs = sorted({p for _, p, _ in present},
                   key=lambda p: (paper_pairs.index(p) if p in paper_pairs else len(paper_pairs), p))
    return tuple((t, p, s) for t in tasks for p in pairs for s in sides if (t, p, s) in present)


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
        rows = [r for r in _ordered(ours + paper) if any(k[3] == split for k in r.cells)]
        main = [r for r in rows if r.variant not in table6]
        abl = [r for r in rows if _in_table6(r, table6)]
        # The paper's Table 6 is UDPOS only; our ablations may have run on PAN-X too, so any task one of
        # our ablation rows has a value for gets its target columns as well.
        abl_tasks = tuple(t for t in TASKS if t == "udpos" or any(
            key[0] == t and key[3] == split for r in abl if r.origin == "ours" and r.variant in table6
            for key in r.cells))
        for title, chosen, cols in (
                (f"{split.capitalize()} F1, layout of Tables 3 and 4", main, _columns(main, split)),
                (f"{split.capitalize()} F1, layout of Table 6 (target; the paper's is UDPOS only)", abl,
                 _columns(abl, split, abl_tasks, ("target",)))):
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


SIG_TITLE = "Test target F1 vs finetune: paired bootstrap over sentences, ASO over seeds"
SIG_HEAD = ["Model", "Backbone", "Cell", "Seeds", "Δ tgt", "95% CI", "p (Δ ≤ 0)", "ASO ε_min"]
SIG_NOTE = ("Δ tgt: mean over seeds of the same-seed target-F1 difference (system − finetune, same backbone). "
            "95% CI: percentile interval of a paired bootstrap over test sentences (Koehn 2004): each "
            "replicate resamples the sentences once, applies the draw to both systems and every seed, and "
            "averages the per-seed F1 differences; p: share of replicates ≤ 0. ASO ε_min (deepsig, across "
            "seeds): < 0.5 means the system is almost stochastically better than finetune, ≥ 0.5 that it "
            "is not shown better. n/a: runs recorded without per-sentence counts (bootstrap), fewer than "
            "two shared seeds (ASO), or seeds/sentences that do not pair.")


def _cell_label(task: str, pair: str) -> str:
    return f"{task.upper()} {pair.replace('-', '→')} {pair.split('-')[1]}"


def _sig_order(sig: dict[SigKey, Comparison]) -> list[SigKey]:
    """Comparisons in the tables' order: variants-table order, backbone, then the paper's pairs."""
    order = {name: i for i, name in enumerate(load_variants())}
    paper_pairs = [f"{s}-{t}" for s, t in PAPER_PAIRS]
    return sorted(sig, key=lambda k: (order.get(k[0], len(order)), k[0], k[1], TASKS.index(k[2])
                                      if k[2] in TASKS else len(TASKS),
                                      paper_pairs.index(k[3]) if k[3] in paper_pairs else len(paper_pairs), k[3]))


def _sig_body(sig: dict[SigKey, Comparison], ours: list[Row]) -> list[list[str]]:
    """One line per comparison; Δ falls back to the difference of the seed means when the bootstrap is n/a."""
    lines = []
    for key in _sig_order(sig):
        c = sig[key]
        variant, backbone, task, pair, split = key
        boot = c.bootstrap
        if boot is not None:
            delta, ci, p = f"{boot.delta:+.2f}", f"[{boot.low:+.2f}, {boot.high:+.2f}]", f"{boot.p_value:.3f}"
            seeds = str(len(boot.seeds))
        else:
            cell = (task, pair, "target", split)
            mine = next(r.cells[cell] for r in ours if r.variant == variant and r.backbone == backbone)
            theirs = next(r.cells[cell] for r in ours if r.variant == BASELINE and r.backbone == backbone)
            delta, ci, p, seeds = f"{mine.mean - theirs.mean:+.2f}", "n/a", "n/a", str(len(c.aso_seeds))
        eps = "n/a" if c.aso_epsilon is None else f"{c.aso_epsilon:.2f}"
        lines.append([variant, backbone, _cell_label(task, pair), seeds, delta, ci, p, eps])
    return lines


def _markdown(sections: list[Section], all_rows: list[Row],
              sig: dict[SigKey, Comparison] | None = None) -> str:
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
        out += ["| " + " | ".join(line) + " |" for line in _sig_body(sig, ours)]
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


def _latex(sections: list[Section], all_rows: list[Row], sig: dict[SigKey, Comparison] | None = None) -> str:
    out = ["% Generated by `cjkv leaderboard --format tex`; needs \\usepackage{booktabs}."]
    for sec in sections:
        out += _latex_table(_header(sec.columns), _body(sec, all_rows), 5, sec.title)
    if sig:
        ours = [r for r in all_rows if r.origin == "ours"]
        out += _latex_table(SIG_HEAD, _sig_body(sig, ours), 3, f"{SIG_TITLE}. {SIG_NOTE}")
    return "\n".join(out)


SIG_CSV = ("bootstrap_delta", "ci_low", "ci_high", "p_bootstrap", "bootstrap_resamples", "bootstrap_seeds",
           "aso_epsilon_min", "aso_seeds")


def _sig_csv(c: Comparison | None) -> list[str]:
    """The significance columns of one CSV line: blank where no comparison applies (finetune, source
    side, dev, the paper's rows), ``n/a`` where it applies but cannot be computed."""
    if c is None:
        return [""] * len(SIG_CSV)
    b = c.bootstrap
    boot = (["n/a"] * 6 if b is None else
            [f"{b.delta:.4f}", f"{b.low:.4f}", f"{b.high:.4f}", f"{b.p_value:.4f}", str(b.n_resamples),
             str(len(b.seeds))])
    return boot + (["n/a", str(len(c.aso_seeds))] if c.aso_epsilon is None
                   else [f"{c.aso_epsilon:.4f}", str(len(c.aso_seeds))])


def _csv(all_rows: list[Row], sig: dict[SigKey, Comparison] | None = None) -> str:
    """One line per cell, ours and the paper's, with the per-cell delta versus finetune and, on our
    target test lines, the significance columns (``SIG_CSV``)."""
    sig = sig or {}
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["origin", "variant", "backbone", "resources", "task", "pair", "side", "lang", "split",
                     "n", "mean", "std", "delta_vs_finetune", "delta_paired_std", *SIG_CSV])
    for r in _ordered(all_rows):
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
                             "" if paired is None else f"{paired:.4f}", *_sig_csv(comparison)])
    return buf.getvalue()


def leaderboard_rows(results_dir: str | Path) -> tuple[list[Row], list[Row], set[str]]:
    """Our rows, the paper's rows, and the variants only the paper's Table 6 has."""
    ours, paper, table6, _ = _leaderboard(results_dir, None)
    return ours, paper, table6


def _leaderboard(results_dir: str | Path, config: SignificanceConfig | None, split: str = "test"
                 ) -> tuple[list[Row], list[Row], set[str], dict[SigKey, Comparison]]:
    """Rows as ``leaderboard_rows`` plus the significance comparisons (none when ``config`` is None)."""
    cells = load_paper()
    main_variants = {c.system for c in cells if c.table in ("3", "4")}
    table6 = {c.system for c in cells if c.table == "6"} - main_variants
    records = load_results(results_dir)
    sig = {} if config is None else cached_comparisons(results_dir, records, config, split)
    return our_rows(records), paper_rows(cells), table6, sig


def render_leaderboard(results_dir: str | Path, fmt: str = "md",
                       significance: SignificanceConfig | None = SignificanceConfig()) -> str:
    """The leaderboard of the results under ``results_dir`` as Markdown, CSV or LaTeX text.

    Args:
        significance: how the paired bootstrap and ASO are run; None leaves them out.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; valid: {', '.join(FORMATS)}")
    ours, paper, table6, sig = _leaderboard(results_dir, significance)
    if fmt == "csv":
        return _csv(ours + paper, sig)
    sections = build_sections(ours, paper, table6)
    return (_markdown if fmt == "md" else _latex)(sections, ours + paper, sig)


def significance_json(results_dir: str | Path,
                      significance: SignificanceConfig = SignificanceConfig()) -> dict:
    """The comparisons as one JSON-ready object: the config, the method, one entry per comparison."""
    _, _, _, sig = _leaderboard(results_dir, significance)
    return {"config": dataclasses.asdict(significance), "method": SIG_NOTE, "baseline": BASELINE,
            "comparisons": [sig[key].to_json() for key in _sig_order(sig)]}


def write_significance(results_dir: str | Path, path: str | Path,
                       significance: SignificanceConfig = SignificanceConfig()) -> Path:
    """Atomically write ``significance_json`` to ``path`` (e.g. ``<results>/significance.json``)."""
    from cjkv_phon.atomic import write_json
    return write_json(path, significance_json(results_dir, significance))


def plot_leaderboard(results_dir: str | Path, path: str | Path, split: str = "test",
                     significance: SignificanceConfig | None = SignificanceConfig()) -> Path:
    """Our target F1 per system, one panel per task and pair; below, Δ vs finetune with its 95% interval.

    Top row: bars of the mean (error bars: std over seeds); the paper's numbers for the same system are
    markers (◆ mBERT, ▲ XLM-R) for reference. Bottom row (when ``significance`` is not None): each
    system's target-F1 Δ over finetune with the paired-bootstrap 95% interval as error bar and ASO's
    ε_min written above it; a Δ without an interval (runs without per-sentence counts) is a hollow
    marker labelled "CI n/a". Written atomically as PNG with matplotlib's Agg backend.

    Raises:
        ValueError: there is no target F1 for ``split`` under ``results_dir``.
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from cjkv_phon.atomic import atomic_path

    ours, paper, _, sig = _leaderboard(results_dir, significance, split)
    panels = [(t, p) for t, p, _ in _columns(ours, split, sides=("target",))]
    if not panels:
        raise ValueError(f"no target {split} F1 in results under {results_dir}")
    variants = [v for v in dict.fromkeys(r.variant for r in _ordered(ours))]
    backbones = sorted({r.backbone for r in ours})
    n_rows = 2 if sig else 1
    fig, axes = plt.subplots(n_rows, len(panels), figsize=(max(4.0, 0.9 * len(variants)) * len(panels),
                                                            4.2 * n_rows), squeeze=False)
    width = 0.8 / len(backbones)
    for col, (task, pair) in enumerate(panels):
        ax = axes[0][col]
        key = (task, pair, "target", split)
        for j, backbone in enumerate(backbones):
            stats = [next((r.cells.get(key) for r in ours if r.variant == v and r.backbone == backbone), None)
                     for v in variants]
            xs = [i + (j - (len(backbones) - 1) / 2) * width for i in range(len(variants))]
            ax.bar(xs, [s.mean if s else 0.0 for s in stats], width,
                   yerr=[s.std if s and s.std is not None else math.nan for s in stats],   # no bar: 1 seed
                   capsize=3, label=f"ours ({backbone})")
        for marker, name in (("D", PAPER_BACKBONES["mbert"]), ("^", PAPER_BACKBONES["xlmr"])):
            pts = [(i, r.cells[key].mean) for i, v in enumerate(variants) for r in paper
                   if r.variant == v and r.backbone == name and key in r.cells]
            if pts:
                ax.scatter(*zip(*pts), marker=marker, color="black", zorder=3, label=f"paper ({name})")
        ax.set_title(f"{task.upper()} {pair.replace('-', '→')}: target {split} F1")
        seeds = [max((r.seeds for r in ours if r.variant == v and key in r.cells), default=0) for v in variants]
        ax.set_xticks(range(len(variants)), [f"{v} (n={n})" for v, n in zip(variants, seeds)],
                      rotation=45, ha="right")
        ax.set_ylabel("F1")
        ax.set_ylim(0, ax.get_ylim()[1] * 1.45)     # head room so the legend covers no bar or marker
        ax.legend(fontsize="small", loc="upper left")
        if sig:
            _plot_deltas(axes[1][col], task, pair, split, variants, backbones, width, sig, ours)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)
    return Path(path)


def _plot_deltas(ax, task: str, pair: str, split: str, variants: list[str], backbones: list[str], width: float,
                 sig: dict[SigKey, Comparison], ours: list[Row]) -> None:
    """One panel of Δ target F1 vs finetune: points with the bootstrap's 95% interval, ASO ε_min above."""
    cell = (task, pair, "target", split)
    for j, backbone in enumerate(backbones):
        for i, variant in enumerate(variants):
            c = sig.get((variant, backbone, task, pair, split))
            if c is None:
                continue
            x = i + (j - (len(backbones) - 1) / 2) * width
            b = c.bootstrap
            if b is not None:
                ax.errorbar([x], [b.delta], yerr=[[b.delta - b.low], [b.high - b.delta]], fmt="o", capsize=4,
                            color=f"C{j}")
                top, label = b.high, ""
            else:
                mine = next(r.cells[cell] for r in ours if r.variant == variant and r.backbone == backbone)
                base = next(r.cells[cell] for r in ours if r.variant == BASELINE and r.backbone == backbone)
                top = mine.mean - base.mean
                ax.plot([x], [top], "o", mfc="none", color=f"C{j}")
                label = "CI n/a\n"
            eps = "ε n/a" if c.aso_epsilon is None else f"ε={c.aso_epsilon:.2f}"
            ax.annotate(label + eps, (x, top), textcoords="offset points", xytext=(0, 6), ha="center",
                        fontsize="x-small")
    ax.axhline(0.0, color="grey", linewidth=0.8)
    ax.set_title(f"Δ target {split} F1 vs {BASELINE} (95% paired bootstrap CI; ASO ε_min)", fontsize="small")
    ax.set_xticks(range(len(variants)), variants, rotation=45, ha="right")
    ax.set_ylabel("Δ F1")
    low, high = ax.get_ylim()
    ax.set_ylim(low - 0.1 * (high - low), high + 0.25 * (high - low))     # room for the labels
