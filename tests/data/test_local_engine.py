"""The local engine's worker lanes: output invariance, set-up once per worker, accounting, errors."""

from __future__ import annotations

import multiprocessing as mp
import subprocess
import sys
import threading
from pathlib import Path

import pyarrow as pa
import pytest

from cjkv_phon.corpus.engines import EngineTimings, LocalEngine
from cjkv_phon.workers.lifetime import choose_start_method
from cjkv_phon.corpus.phonemize import PhonemizeConfig, phonemize
from cjkv_phon.data.transcriber import Transcriber
from cjkv_phon.data.xtreme import read_xtreme_tsv, xtreme_path
from cjkv_phon.errors import InputError

# Hanja and kana inside Korean text: routed readings (another phonemizer, the lazily loaded hanja
# table), which set-up must have built before the first batch in every worker.
MIXED_KO = ["高麗大學校에 갔다", "カタカナ와 ひらがな", "서울 123 abc"]


@pytest.fixture(scope="module")
def ko_text(xtreme_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    read = read_xtreme_tsv(xtreme_path(xtreme_dir, "panx", "ko", "dev"), task="panx", lang="ko",
                           split="dev", max_sentences=40)
    path = tmp_path_factory.mktemp("ko") / "ko.txt"
    lines = [" ".join(s.tokens) for s in read.sentences]
    path.write_text("\n".join(lines[:20] + MIXED_KO + lines[20:]) + "\n", encoding="utf-8")
    return path


def test_same_bytes_for_any_workers_start_method_and_batches_and_set_up_once(
        tmp_path: Path, ko_text: Path) -> None:
    runs = [(1, "auto", 500, "parquet"), (2, "fork", 7, "parquet"), (2, "spawn", 9, "parquet"),
            (3, "fork", 5, "parquet"), (1, "auto", 500, "tsv"), (2, "fork", 4, "tsv")]
    outs, cpu = {}, {}
    for workers, method, batch, fmt in runs:
        out = tmp_path / f"{workers}-{method}-{batch}.{fmt}"
        report = phonemize(PhonemizeConfig(lang="ko", input=str(ko_text), output=str(out),
                                           workers=workers, start_method=method, batch_size=batch))
        assert report.sentences == 43
        assert report.cpu["start_method"] == ("inline" if workers == 1 else method)
        outs.setdefault(fmt, set()).add(out.read_bytes())
        cpu[(workers, method, batch)] = report.cpu
    assert len(outs["parquet"]) == 1 and len(outs["tsv"]) == 1  # byte-identical whatever ran them
    assert "\tfallback\n" in next(iter(outs["tsv"])).decode()  # the routed Hanja and kana

    fork, spawn = cpu[(2, "fork", 7)], cpu[(2, "spawn", 9)]
    # Forked: the parent set up once; the workers inherited it and set up nothing themselves.
    assert fork["worker_inherited_setup"] == [True, True] and fork["worker_setup_cpu_s"] == [0.0, 0.0]
    # Spawned: each worker set up once, before its first batch (its own CPU, not the parent's).
    assert spawn["worker_inherited_setup"] == [False, False] and spawn["parent_setup_cpu_s"] == 0.0
    assert all(s > 0.05 for s in spawn["worker_setup_cpu_s"])
    for stats, batches in ((fork, 7), (spawn, 5), (cpu[(3, "fork", 5)], 9)):
        # No phonemizer is built mid-stream (routed ones included: Hanja, kana are in the input).
        assert set(stats["worker_built_mid_stream"]) == {0}
        # Two batches go to each lane at once, so every lane works; every sentence is counted.
        assert sum(stats["worker_sentences"]) == 43 and sum(stats["worker_batches"]) == batches
        assert min(stats["worker_batches"]) >= 2 and min(stats["worker_transcribe_cpu_s"]) > 0
        assert stats["parent_serial_cpu_s"] >= 0 and stats["parent_read_cpu_s"] > 0
    # A fresh spawned worker computed every unit it met: its memo misses are counted.
    assert all(m > 0 for m in spawn["worker_memo_misses"])


def test_warm_up_loads_the_lazy_tables_at_set_up() -> None:
    # A fresh process: set-up alone (no batch) has loaded the hanja reading table that Korean
    # text needs at its first Hanja, so no worker loads it inside the throughput.
    code = ("import sys; from cjkv_phon.data.transcriber import Transcriber; "
            "assert 'hanja' not in sys.modules; Transcriber('ko').setup(); print('hanja' in sys.modules)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=Path(__file__).resolve().parents[2])
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "True"


def test_a_worker_error_is_raised_in_the_parent_and_no_worker_is_left() -> None:
    batches = [pa.table({"tokens": [["서울"], ["bad token"]]})]
    transcriber = Transcriber("ko", tokenize="pretokenized")
    with pytest.raises(InputError, match="sentence 1: token 0 contains whitespace"):
        list(LocalEngine(workers=2, start_method="fork").run(transcriber, batches, EngineTimings()))
    assert not [p for p in mp.active_children() if p.name == "cjkv-phonemize"]


def test_start_method_choice() -> None:
    assert choose_start_method("spawn") == "spawn"
    with pytest.raises(ValueError, match="unknown start method"):
        choose_start_method("threads")
    with pytest.raises(ValueError, match="unknown start method"):
        PhonemizeConfig(lang="ko", start_method="threads")
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:  # another thread is running: forking could copy a lock it holds, so auto spawns
        assert choose_start_method("auto") == "spawn"
    finally:
        stop.set()
        thread.join()
