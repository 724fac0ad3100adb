"""Whether a built file is still what the build wrote: its bytes against its manifest entry.

The build state in a parquet file's metadata says what the file was built *from*; it cannot say the
file was not damaged since (a flipped byte deep in a data page leaves the footer readable). The release
manifest records every file's size and sha256 when it was written, so "up to date" is: same state,
same size, same sha256. A file the manifest does not list (or a missing or unreadable manifest) is
rebuilt.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cjkv_phon.provenance import sha256_file

MANIFEST = "manifest.json"


def manifest_entry(release_dir: Path, relpath: str) -> dict[str, Any] | None:
    """The manifest's entry for ``relpath``, or None (no manifest, unreadable, or not listed)."""
    try:
        files = json.loads((release_dir / MANIFEST).read_text(encoding="utf-8")).get("files", {})
    except (OSError, ValueError, AttributeError):
        return None
    entry = files.get(relpath) if isinstance(files, dict) else None
    return entry if isinstance(entry, dict) else None


def matches_manifest(release_dir: Path, relpath: str) -> bool:
    """True when ``release_dir/relpath`` has its manifest entry's size and sha256 (size first: cheap)."""
    entry = manifest_entry(release_dir, relpath)
    path = release_dir / relpath
    if entry is None or not path.is_file() or path.stat().st_size != entry.get("bytes"):
        return False
    return sha256_file(path) == entry.get("sha256")


def read_manifest(release_dir: Path) -> dict[str, Any]:
    """The release's manifest, checked to be a JSON object with a ``files`` mapping.

    Raises:
        FileNotFoundError: no release folder, or no manifest in it (the message says how to build).
        InputError: the manifest is not valid JSON (truncated, hand-edited), naming file and line.
    """
    from cjkv_phon.errors import InputError

    path = release_dir / MANIFEST
    if not release_dir.is_dir():
        raise FileNotFoundError(f"no release folder {release_dir}: build it with cjkv build-data "
                                f"--out {release_dir}")
    if not path.is_file():
        raise FileNotFoundError(f"no {MANIFEST} in {release_dir}: build it with cjkv build-data "
                                f"--out {release_dir}")
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        manifest = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(f"not valid JSON ({err.msg}, column {err.colno}); the manifest is damaged "
                         "or truncated: rebuild with cjkv build-data", path=path, line=err.lineno) from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise InputError("not a release manifest (needs a 'files' mapping)", path=path)
    return manifest


def stray_outputs(release_dir: Path, listed: set[str]) -> list[str]:
    """Problems besides the listed files: unlisted parquet anywhere in the release, staging folders.

    A parquet file the manifest does not list is either a leftover of an older layout or something
    copied in; a loader given the folder may pick it up, so it is reported, never ignored.
    """
    from cjkv_phon.data.staging import PREFIX, find_staging

    problems = []
    for path in sorted(release_dir.rglob("*.parquet")):
        rel = path.relative_to(release_dir).as_posix()
        if rel.split("/", 1)[0].startswith(PREFIX) or rel in listed:
            continue
        problems.append(f"{rel}: built file not listed in {MANIFEST} (stray parquet)")
    for stage in find_staging(release_dir):
        problems.append(stage.describe())
    return problems


def same_but_commit(release_dir: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """``manifest`` with the existing manifest's ``git_commit`` when nothing else differs.

    The manifest is tracked in git. Recording the current commit on every rebuild would rewrite it
    (and leave ``git status`` dirty) although the data did not change; so ``git_commit`` keeps
    naming the commit that first produced these exact files until their entries change.
    """
    try:
        old = json.loads((release_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return manifest
    if not isinstance(old, dict) or "git_commit" not in old:
        return manifest
    strip = lambda m: {k: v for k, v in m.items() if k != "git_commit"}  # noqa: E731
    return {**manifest, "git_commit": old["git_commit"]} if strip(old) == strip(manifest) else manifest
