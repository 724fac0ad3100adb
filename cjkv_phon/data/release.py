"""The release folder around the built parquet files: a Hugging Face dataset card and a manifest.

``releases/<name>/`` holds ``data/<task>/<lang>/<split>.parquet`` (not committed), ``README.md`` (a
dataset card whose YAML ``configs:`` let ``datasets.load_dataset(folder, "panx.zh")`` find the files)
and ``manifest.json`` (per file: rows, tokens, sha256, scheme, tool versions). Both are regenerated from
what is in ``data/``, so a partial rebuild keeps the other files listed. :func:`verify_release`
checks a copy of the release against its manifest.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

import pyarrow.parquet as pq
import yaml

import cjkv_phon
from cjkv_phon.atomic import write_json, write_text
from cjkv_phon.data.integrity import read_manifest, same_but_commit, stray_outputs
from cjkv_phon.data.release_reader import read_file_metadata
from cjkv_phon.provenance import git_commit, sha256_file
from cjkv_phon.schema import LANGS, SPLITS, TASKS

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
CARD = "README.md"
# Hugging Face split names for ours (the hub convention is "validation").
HF_SPLITS = {"train": "train", "dev": "validation", "test": "test"}


def data_files(release_dir: str | Path) -> list[Path]:
    """Built parquet files under ``<release>/data/<task>/<lang>/<split>.parquet``, in a fixed order.

    Only the canonical layout counts; staging folders and stray files are ignored.
    """
    data = Path(release_dir) / "data"
    order = {name: i for i, name in enumerate((*TASKS, *LANGS, *SPLITS))}
    found = [data / t / lang / f"{s}.parquet" for t in TASKS for lang in LANGS for s in SPLITS]
    return sorted((p for p in found if p.is_file()),
                  key=lambda p: (order[p.parts[-3]], order[p.parts[-2]], order[p.stem]))


def file_entry(release_dir: Path, path: Path) -> dict[str, Any]:
    """The manifest entry of one file (counts recomputed from the file, never trusted from a log)."""
    meta = read_file_metadata(path)
    tokens = pq.read_table(path, columns=["tokens"]).column("tokens")
    return {
        "task": path.parts[-3], "lang": path.parts[-2], "split": path.stem,
        "rows": pq.read_metadata(path).num_rows,
        "tokens": sum(len(t) for t in tokens.to_pylist()),
        "sha256": sha256_file(path), "bytes": path.stat().st_size,
        "scheme": meta.get("scheme"), "versions": meta.get("versions", {}),
        "source_sha256": meta.get("source_sha256", {}), "config": meta.get("config", {}),
    }


def build_manifest(release_dir: str | Path, name: str) -> dict[str, Any]:
    """The manifest of what is built in ``release_dir`` (deterministic for the same files)."""
    release_dir = Path(release_dir)
    files = {p.relative_to(release_dir).as_posix(): file_entry(release_dir, p)
             for p in data_files(release_dir)}
    return {"name": name, "cjkv_phon_version": cjkv_phon.__version__, "git_commit": git_commit(),
            "files": files}


def _front_matter(name: str, files: dict[str, dict[str, Any]]) -> str:
    """Card YAML: licence, languages and one ``configs`` entry per (task, lang) with its splits."""
    configs: dict[str, list[dict[str, str]]] = {}
    for rel, entry in files.items():
        configs.setdefault(f"{entry['task']}.{entry['lang']}", []).append(
            {"split": HF_SPLITS[entry["split"]], "path": rel})
    langs = sorted({e["lang"] for e in files.values()}, key=LANGS.index)
    from cjkv_phon.data.features import card_features  # loads datasets: only when writing a card

    features = {task: card_features(task) for task in sorted({e["task"] for e in files.values()})}
    meta = {
        "pretty_name": name, "license": "other", "language": langs,
        "task_categories": ["token-classification"],
        "task_ids": ["named-entity-recognition", "part-of-speech"],
        "configs": [{"config_name": c, "data_files": d} for c, d in configs.items()],
        # ner_tags / pos_tags are ClassLabel features, as in google/xtreme (data/features.py)
        "dataset_info": [{"config_name": c, "features": features[c.split(".")[0]]} for c in configs],
    }
    return yaml.safe_dump(meta, sort_keys=False, allow_unicode=True).rstrip("\n")


def _scheme_rows(files: dict[str, dict[str, Any]]) -> str:
    """One line per (scheme, lang) present, from the phonemizer class's docstring."""
    from cjkv_phon.data.phonemize.registry import PHONEMIZERS

    pairs = sorted({(e["scheme"], e["lang"]) for e in files.values()},
                   key=lambda p: (p[0], LANGS.index(p[1])))
    lines = []
    for scheme, lang in pairs:
        key = f"{scheme}/{lang}"
        importlib.import_module(f"cjkv_phon.data.phonemize.{lang}")  # registers its classes
        doc = (PHONEMIZERS[key].__doc__ or "").strip() if key in PHONEMIZERS else ""
        doc = doc.splitlines()[0] if doc else ""
        lines.append(f"- `{scheme}` {lang}: {doc or 'see cjkv_phon/data/phonemize'}")
    return "\n".join(lines)


def _tone_rows() -> str:
    from cjkv_phon.data.phonemize.tables import read_table

    rows = read_table("tones.csv", ("lang", "convention"), ("pattern",))
    return "\n".join(f"| {r['lang']} | {r['convention']} |" for r in rows)


def _tool_rows(files: dict[str, dict[str, Any]]) -> str:
    """One row per (scheme, lang): the tool versions (and the Vietnamese dialect) its files record."""
    seen: dict[tuple[str, str], dict[str, str]] = {}
    for e in files.values():
        seen.setdefault((e["scheme"], e["lang"]), e.get("versions") or {})
    lines = ["| scheme | lang | tools (versions) |", "|---|---|---|"]
    for (scheme, lang), versions in sorted(seen.items(), key=lambda kv: (kv[0][0], LANGS.index(kv[0][1]))):
        tools = ", ".join(f"{k} {v}" for k, v in sorted(versions.items()))
        lines.append(f"| `{scheme}` | {lang} | {tools} |")
    return "\n".join(lines)


def _count_rows(files: dict[str, dict[str, Any]]) -> str:
    lines = ["| file | sentences | tokens | scheme |", "|---|---|---|---|"]
    lines += [f"| `{rel}` | {e['rows']} | {e['tokens']} | {e['scheme']} |" for rel, e in files.items()]
    return "\n".join(lines)


def render_card(name: str, manifest: dict[str, Any]) -> str:
    """The dataset card (``resources/release/dataset_card.md`` filled in for this build)."""
    files = manifest["files"]
    template = Template((resources.files("cjkv_phon.resources") / "release" / "dataset_card.md")
                        .read_text(encoding="utf-8"))
    schemes = sorted({e["scheme"] for e in files.values()})
    if len(schemes) > 1:
        log.warning("release mixes schemes %s: rebuild it with one --scheme", schemes)
    return template.substitute(
        front_matter=_front_matter(name, files), name=name,
        schemes=", ".join(f"`{s}`" for s in schemes) or "none",
        scheme_rows=_scheme_rows(files), tone_rows=_tone_rows(), count_rows=_count_rows(files),
        tool_rows=_tool_rows(files))


def write_release(release_dir: str | Path, cfg: Any) -> tuple[Path, Path]:
    """Write ``manifest.json`` and the card ``README.md`` for what is built in ``release_dir``.

    Args:
        release_dir: the release folder.
        cfg: the :class:`~cjkv_phon.data.build_plan.BuildDataConfig` (its ``name`` titles the card).

    Returns:
        The manifest and card paths.
    """
    release_dir = Path(release_dir)
    manifest = same_but_commit(release_dir, build_manifest(release_dir, cfg.name))
    man_path = write_json(release_dir / MANIFEST, manifest)
    card_path = write_text(release_dir / CARD, render_card(cfg.name, manifest))
    log.info("wrote %s and %s (%d files)", man_path, card_path, len(manifest["files"]))
    return man_path, card_path


@dataclass(frozen=True)
class VerifyReport:
    """The result of checking a release against its manifest.

    Attributes:
        checked: files listed in the manifest.
        problems: one human-readable line per failure (missing, changed or unlisted file).
    """

    release_dir: str
    checked: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_release(release_dir: str | Path) -> VerifyReport:
    """Check every file of ``release_dir`` against ``manifest.json`` (sha256 and row count), and
    report unlisted parquet files and staging folders left by a build.

    Raises:
        FileNotFoundError: no such folder, or no manifest in it (never built, or not a release).
        InputError: the manifest is not valid JSON (e.g. truncated).
    """
    release_dir = Path(release_dir)
    files = read_manifest(release_dir)["files"]
    problems = []
    for rel, entry in files.items():
        problems += _check_file(release_dir / rel, rel, entry)
    problems += stray_outputs(release_dir, set(files))
    return VerifyReport(str(release_dir), len(files), tuple(problems))


def _check_file(path: Path, rel: str, entry: dict[str, Any]) -> list[str]:
    if not path.is_file():
        return [f"{rel}: missing (listed in {MANIFEST})"]
    sha = sha256_file(path)
    if sha != entry.get("sha256"):
        return [f"{rel}: sha256 {sha[:12]}… differs from the manifest's "
                f"{str(entry.get('sha256'))[:12]}… (file changed since the build)"]
    rows = pq.read_metadata(path).num_rows
    if rows != entry.get("rows"):
        return [f"{rel}: {rows} rows, manifest says {entry.get('rows')}"]
    return []
