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
