"""Whether a built file is up to date: the build state recorded beside the release, and its bytes.

Each file has a build state: a sha256 over its job, its inputs' sha256s, the content settings, a
fingerprint of the data code and tables, and one of the installed packages. A rerun skips a file whose
state is unchanged and whose bytes still match the manifest; anything else (a code or table change, a
package upgrade, a damaged copy) is rebuilt.

The states live in ``<release>/.build-state.json`` (ignored by git), not in the parquet files: a state
hashes the machine's installed packages and the code, so inside the files it made the same data differ
byte for byte between machines (and after any edit of the data code), and the committed manifest's
sha256s could not be checked anywhere else. Without the state file every file is rebuilt once.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from importlib import metadata
from pathlib import Path

import cjkv_phon
from cjkv_phon.atomic import write_json
from cjkv_phon.data.build_plan import BuildDataConfig, Job
from cjkv_phon.data.integrity import matches_manifest

STATE_FILE = ".build-state.json"

# Code whose change must invalidate built files (paths relative to the package root). The release card,
# stats and CLI code only present the data, so editing them does not force a rebuild.
_CODE_GLOBS = ("schema.py", "data/sentences.py", "data/normalize.py", "data/xtreme.py", "data/conllu.py", "data/hub.py",
               "data/build.py", "data/build_plan.py", "data/build_state.py", "data/phonemize/**/*.py",
               "resources/phonemize/**/*", "resources/ud*", "data/transcriber.py", "data/segment.py",
               "data/features.py", "data/layout.py")


def _glob_code(root: Path) -> list[Path]:
    return sorted({p for pattern in _CODE_GLOBS for p in root.glob(pattern) if p.is_file()})


def code_fingerprint() -> str:
    """sha256 over the data code and tables (see ``_CODE_GLOBS``) and the package version."""
    root = Path(cjkv_phon.__file__).resolve().parent
    h = hashlib.sha256(cjkv_phon.__version__.encode())
    for path in _glob_code(root):
        if "__pycache__" in path.parts:
            continue
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def env_fingerprint() -> str:
    """sha256 over every installed distribution's name and version.

    The phonemizers' own ``versions()`` need them built, which is slow; this coarser stand-in lets an
    up-to-date check run without building any phonemizer, and still rebuilds after an upgrade.
    """
    pairs = sorted({(d.metadata["Name"] or "").lower() + "==" + d.version
                    for d in metadata.distributions()})
    return hashlib.sha256("\n".join(pairs).encode()).hexdigest()


def job_state(job: Job, inputs: dict[str, str], cfg: BuildDataConfig, code: str, env: str) -> str:
    """The build state of one file: same state, same bytes (so the file need not be rebuilt)."""
    blob = json.dumps({"job": asdict(job), "inputs": inputs, "settings": cfg.content_settings(job),
                       "code": code, "env": env}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def read_states(out: Path) -> dict[str, str]:
    """``{relpath: build state}`` recorded in ``out``; empty when absent or unreadable (all rebuilt)."""
    try:
        states = json.loads((out / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(states, dict):
        return {}
    return {k: v for k, v in states.items() if isinstance(k, str) and isinstance(v, str)}


def write_states(out: Path, states: dict[str, str]) -> None:
    """Record ``states`` (merged over those of files still present), atomically."""
    kept = {rel: state for rel, state in read_states(out).items() if (out / rel).is_file()}
    write_json(out / STATE_FILE, dict(sorted({**kept, **states}.items())))


def is_up_to_date(path: Path, state: str, out: Path, relpath: str,
                  states: dict[str, str] | None = None) -> bool:
    """Same build state recorded for the file AND the same bytes as its manifest entry.

    The state says what the file was built from; the manifest check (size, then sha256) says the file
    is still what was built: a flipped byte or a truncated copy is rebuilt, not trusted.
    """
    if not path.is_file():
        return False
    recorded = (read_states(out) if states is None else states).get(relpath)
    return recorded == state and matches_manifest(out, relpath)
