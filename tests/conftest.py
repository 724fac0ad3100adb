"""Shared pytest fixtures. Real inputs come from ../shared/data (read-only), never from copies."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` beside the checkout (XTREME layout, UD 2.5, MUSE)."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"real test data not found at {SHARED_DATA}: the checkout needs ../shared beside it")
    return SHARED_DATA


@pytest.fixture(scope="session")
def xtreme_dir(shared_data: Path) -> Path:
    """The XTREME ``download/`` folder (panx/, udpos/)."""
    return shared_data / "xtreme"


@pytest.fixture(scope="session")
def muse_dir(shared_data: Path) -> Path:
    """The MUSE dictionaries folder (en-X.txt, X-en.txt)."""
    return shared_data / "muse"


@pytest.fixture(scope="session")
def built_data(tmp_path_factory: pytest.TempPathFactory, xtreme_dir: Path) -> Path:
    """A small real release built once per session; returns its ``data/`` folder.

    Both tasks, all four languages, all splits (minus udpos ko train, absent from XTREME), the first
    40 sentences of each file, scheme ``native``, via ``build_data`` into a temporary folder.
    """
    from cjkv_phon.data.build import build_data
    from cjkv_phon.data.build_plan import BuildDataConfig

    out = tmp_path_factory.mktemp("built_data") / "xtreme-cjkv-phonemic"
    build_data(BuildDataConfig(source=str(xtreme_dir), max_sentences=40, scheme="native", out=str(out)))
    return out / "data"
