"""Provenance recorded in every output: git commit, package versions, checksums, config hashes."""

from __future__ import annotations

import hashlib
import json
import subprocess
from dataclasses import asdict, dataclass, is_dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def config_hash(config: Any) -> str:
    """Stable short hash of a config (dataclass or JSON-able mapping): same settings, same hash."""
    obj = asdict(config) if is_dataclass(config) else config
    blob = json.dumps(obj, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def package_versions(names: Iterable[str]) -> dict[str, str]:
    """Installed version of each distribution, or ``"not installed"``."""
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_commit(cwd: str | Path | None = None) -> str:
    """Current git commit (with ``-dirty`` when the tree has changes), or ``"unknown"`` outside git."""
    cwd = Path(cwd) if cwd else Path(__file__).resolve().parent
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                               capture_output=True, text=True, check=True).stdout.strip()
        return sha + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


# Paths whose contents are the code a benchmark grid runs (relative to the repository root): the
# package (with its resources), its pins, and the grid recipes. Results folders are not code: a grid
# writes into them while it runs, and a resumed grid must not refuse its own output.
CODE_PATHS: tuple[str, ...] = ("cjkv_phon", "pyproject.toml", "benchmarks/presets")


@dataclass(frozen=True)
class CodeState:
    """The code in a checkout, as a grid must record it.

    Attributes:
        commit: ``HEAD``'s sha, or ``"unknown"`` outside a git checkout.
        changed: code paths that differ from ``HEAD`` (modified, staged, deleted or untracked, not ignored).
        fingerprint: sha256 over the code paths' tracked-or-untracked files (path and bytes): names the
            code even where the commit is unknown or later disappears from the repository.
    """

    commit: str
    changed: tuple[str, ...]
    fingerprint: str

    @property
    def dirty(self) -> bool:
        return bool(self.changed)


def repo_root() -> Path:
    """The checkout holding this package (its parent folder; may not be a git checkout)."""
    return Path(__file__).resolve().parents[1]


def _git(args: list[str], repo: Path) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout


def _code_files(repo: Path) -> list[Path]:
    """Files under the code paths, ignoring caches (``__pycache__``, ``*.pyc``, egg-info)."""
    out = []
    for rel in CODE_PATHS:
        path = repo / rel
        found = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else []
        out += [p for p in found if "__pycache__" not in p.parts and p.suffix != ".pyc"
                and not any(part.endswith(".egg-info") for part in p.parts)]
    return sorted(out)


def code_state(repo: str | Path | None = None) -> CodeState:
    """The commit, the uncommitted code changes and a content fingerprint of ``repo`` (default: this
    package's checkout). Outside git the commit is ``"unknown"`` and nothing counts as changed."""
    repo = Path(repo) if repo else repo_root()
    h = hashlib.sha256()
    for path in _code_files(repo):
        h.update(path.relative_to(repo).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    try:
        commit = _git(["rev-parse", "HEAD"], repo).strip()
        status = _git(["status", "--porcelain", "--untracked-files=all", "--", *CODE_PATHS], repo)
    except (OSError, subprocess.CalledProcessError):
        return CodeState("unknown", (), h.hexdigest())
    changed = tuple(sorted(line[3:] for line in status.splitlines() if line.strip()))
    return CodeState(commit, changed, h.hexdigest())


def code_patch(repo: str | Path | None = None) -> str:
    """``git diff HEAD`` of the code paths (tracked changes; untracked files are named in ``changed``)."""
    return _git(["diff", "HEAD", "--", *CODE_PATHS], Path(repo) if repo else repo_root())
