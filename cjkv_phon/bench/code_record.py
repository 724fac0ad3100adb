"""The exact code a grid runs: a dirty checkout is refused unless allowed, and either way recorded.

Issue 20: 11 of cpu-v2's 43 runs name a commit that is not in the repository (code run uncommitted, then
committed as something else). A grid therefore checks the code paths (``provenance.CODE_PATHS``) before
it trains anything:

* clean: the commit names the code; every run records it with the code's content fingerprint;
* changed and not ``allow_dirty``: ``DirtyTree`` is raised, naming the changed files and the flag;
* changed and ``allow_dirty``: the grid runs, and the record says so: ``allow_dirty: true``, the changed
  files, and ``git diff HEAD`` of the code paths written to ``<results>/code/<commit12>-<sha12>.patch``
  (its sha256 in the record), so commit + patch + fingerprint still name the code.

Outside a git checkout (a staged copy on a device machine) there is no commit to contradict: the grid
runs and records ``commit: unknown`` with the fingerprint.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from cjkv_phon.atomic import write_text
from cjkv_phon.provenance import code_patch, code_state


class DirtyTree(RuntimeError):
    """The code differs from its commit and the grid was not allowed to run on a dirty tree."""


def grid_code(results_path: str | Path, allow_dirty: bool, repo: str | Path | None = None) -> dict[str, Any]:
    """Check the checkout and return the ``code`` block every run of the grid records.

    Raises:
        DirtyTree: code paths differ from ``HEAD`` and ``allow_dirty`` is False.
    """
    state = code_state(repo)
    block: dict[str, Any] = {"commit": state.commit, "fingerprint": state.fingerprint, "dirty": state.dirty,
                             "allow_dirty": allow_dirty}
    if not state.dirty:
        return block
    if not allow_dirty:
        shown = ", ".join(state.changed[:5]) + (f" and {len(state.changed) - 5} more" if len(state.changed) > 5 else "")
        raise DirtyTree(f"uncommitted code changes ({shown}): a grid records the commit it ran, so commit "
                        "them first, or pass --allow-dirty (recorded in every run, with the patch)")
    patch = code_patch(repo)
    sha = hashlib.sha256(patch.encode("utf-8")).hexdigest()
    rel = f"code/{state.commit[:12]}-{sha[:12]}.patch"
    write_text(Path(results_path) / rel, patch)
    return {**block, "changed": list(state.changed), "patch": rel, "patch_sha256": sha}


@dataclass(frozen=True)
class RecordingCode:
    """A ``train_fn`` that adds the grid's ``code`` block to each record it returns (picklable, so a
    parallel grid's processes can use it)."""

    train_fn: Callable[[Any], dict]
    code: dict[str, Any]

    def __call__(self, config: Any) -> dict:
        record = dict(self.train_fn(config))
        if record.get("status") != "stopped":
            record["code"] = self.code
        return record
