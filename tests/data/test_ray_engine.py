"""`--engine ray` on a local Ray with 2 CPUs: output identical to the local engine's.

Ray is in the ``dev`` extra, so CI runs this; without Ray installed (``pip install -e .`` only) the
module is skipped.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from cjkv_phon.corpus.phonemize import PhonemizeConfig, phonemize
from cjkv_phon.data.xtreme import read_xtreme_tsv, xtreme_path

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def ray_engine():
    """One local Ray instance (2 CPUs) for the module, shut down after it."""
    from cjkv_phon.corpus.engines import make_engine

    engine = make_engine("ray", num_cpus=2)
    engine.connect()
    yield engine
    ray.shutdown()


def test_ray_output_is_identical_to_local(tmp_path: Path, xtreme_dir: Path, ray_engine) -> None:
    read = read_xtreme_tsv(xtreme_path(xtreme_dir, "panx", "zh", "dev"), task="panx", lang="zh",
                           split="dev", max_sentences=60)
    src = tmp_path / "zh.txt"
    src.write_text("".join("".join(s.tokens) + "\n" for s in read.sentences), encoding="utf-8")
    for fmt in ("parquet", "jsonl"):
        local = phonemize(PhonemizeConfig(lang="zh", input=str(src), output=str(tmp_path / f"local.{fmt}"),
                                          batch_size=8))
        remote = phonemize(PhonemizeConfig(lang="zh", input=str(src), output=str(tmp_path / f"ray.{fmt}"),
                                           engine="ray", batch_size=8), engine=ray_engine)
        assert (tmp_path / f"local.{fmt}").read_bytes() == (tmp_path / f"ray.{fmt}").read_bytes()
        assert remote.sentences == local.sentences == 60 and remote.status_counts == local.status_counts

    # parquet in, parquet shards out, both read and written by Ray itself
    shards = tmp_path / "shards"
    report = phonemize(PhonemizeConfig(lang="zh", input=str(tmp_path / "local.parquet"), column="tokens",
                                       output=str(shards), format="parquet", engine="ray", batch_size=8,
                                       overwrite_columns=True),
                       engine=ray_engine)
    table = pq.read_table(sorted(shards.glob("*.parquet")))
    expected = pq.read_table(tmp_path / "local.parquet")
    assert report.sentences == 60
    for col in ("line", "tokens", "ipa", "romanized", "status"):
        assert table.column(col).to_pylist() == expected.column(col).to_pylist(), col
    assert not list(tmp_path.glob(".shards*"))  # the staging folder was renamed into place
