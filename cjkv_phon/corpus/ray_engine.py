"""``--engine ray``: the same Transcriber on Ray Data, on a local Ray or an existing cluster.

``map_batches`` gets :class:`~cjkv_phon.data.transcriber.Transcriber` itself as a callable class
(``eager=True``): Ray builds one per actor, so each actor loads its phonemizer once and keeps it for
every batch it is given. The order of the input is kept (``preserve_order``), so the rows come back
as the local engine gives them and the written files are the same bytes.

Two shapes of run:

* :meth:`RayEngine.run` -- batches from the driver (any input the readers take), results streamed
  back to the driver, which writes the one output file (JSONL, parquet or TSV);
* :meth:`RayEngine.write_shards` -- parquet in, parquet shards out: Ray reads the input files and
  writes the output folder itself (``read_parquet`` / ``write_parquet``), so nothing passes through
  the driver. On a cluster both paths must be visible to every node (a shared file system, or a
  URI pyarrow can open such as ``s3://bucket/corpus/``).

Ray is optional (``pip install -e '.[ray]'``); it is imported only when this engine runs.
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import sys
import time
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pyarrow as pa

from cjkv_phon.corpus.engine_stats import EngineTimings
from cjkv_phon.data.transcriber import Transcriber


def _ray() -> Any:
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise RuntimeError("--engine ray needs Ray: pip install -e '.[ray]'") from None
    return ray


CONNECT_TIMEOUT_S = 10.0


def check_reachable(address: str, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """Raise a one-line ``RuntimeError`` if ``host:port`` (or ``ray://host:port``) does not accept a
    TCP connection within ``timeout`` seconds; ``auto`` and other forms are left to Ray."""
    hostport = address.removeprefix("ray://")
    host, sep, port = hostport.rpartition(":")
    if not sep or not port.isdigit() or not host:
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout).close()
    except OSError as err:
        reason = err.strerror or str(err) or type(err).__name__
        raise RuntimeError(f"--ray-address {address}: no Ray cluster answers there ({reason}, waited at "
                           f"most {timeout:.0f} s); start one with `ray start --head`, or leave out "
                           "--ray-address for a local Ray") from None


@dataclass(frozen=True)
class RayEngine:
    """Ray Data engine.

    Attributes:
        address: an existing cluster (``auto``, ``ray://head:10001``, ``head:6379``); None starts a
            new local Ray instance (even if one is already running on the machine).
        num_cpus: CPUs of the local instance (None: all); ignored with ``address``.
        actors: Transcriber actors (one CPU each); None: ``num_cpus``, or the cluster's CPUs.
    """

    address: str | None = None
    num_cpus: int | None = None
    actors: int | None = None

    def connect(self) -> Any:
        """Start (or join) Ray once per process and return the ``ray`` module.

        Raises:
            RuntimeError: one line, when the cluster at ``address`` cannot be reached (checked with
                a TCP connect of at most :data:`CONNECT_TIMEOUT_S` first: Ray itself retries an
                unreachable address for minutes) or when ``auto`` finds no running cluster.
        """
        ray = _ray()
        if not ray.is_initialized():
            if self.address:
                check_reachable(self.address)
            else:
                # A new local Ray turns token authentication on by itself and logs a warning that it
                # did, on every run: that notice (only it) is silenced for the local Ray we start.
                logging.getLogger("ray._private.authentication.authentication_token_setup").setLevel(
                    logging.ERROR)
            try:
                ray.init(address=self.address or "local",
                         num_cpus=None if self.address else self.num_cpus,
                         include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
            except (ConnectionError, TimeoutError, ValueError, RuntimeError) as err:
                first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
                raise RuntimeError(f"--ray-address {self.address or 'local'}: cannot start or join Ray: "
                                   f"{first}") from None
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True  # same row order as the input, always
        context.enable_progress_bars = False             # the CLI shows its own progress
        # Ray Data warns, on every successful run, that progress bars are off (the CLI draws its own).
        logging.getLogger("ray.data").setLevel(logging.ERROR)
        return ray

    def close(self) -> None:
        """Stop the local Ray this engine started (its actors and agents with it); a cluster joined
        with ``address`` is left running. Without it the actors outlive the run for a minute or two."""
        if self.address is None and "ray" in sys.modules:
            import ray
            if ray.is_initialized():
                ray.shutdown()

    def _pool_size(self, ray: Any) -> int:
        return self.actors or self.num_cpus or max(1, int(ray.cluster_resources().get("CPU", 1)))

    def _map(self, ray: Any, ds: Any, transcriber: Transcriber, batch_size: int | None) -> Any:
        # Restartable actors whose constructor arguments live in the object store make Ray log an
        # error-level line on every run: max_restarts=0 (Ray's own advice) makes a lost actor fail the
        # run instead, and a rerun starts afresh (outputs are atomic). Ray 2.60 still takes it only
        # as a ``ray_remote_args`` keyword, deprecated, so that one warning is silenced here.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="`ray_remote_args` is deprecated")
            return ds.map_batches(Transcriber, fn_constructor_kwargs={**transcriber.settings(), "eager": True},
                                  batch_size=batch_size, batch_format="pyarrow", num_cpus=1,
                                  compute=ray.data.ActorPoolStrategy(size=self._pool_size(ray)),
                                  max_restarts=0)

    def run(self, transcriber: Transcriber, batches: list[pa.Table],
            timings: EngineTimings) -> Iterator[pa.Table]:
        """Transcribe driver-side batches (one Ray block each); yield the results in order."""
        start = time.perf_counter()
        ray = self.connect()
        timings.startup_s = time.perf_counter() - start
        timings.versions = transcriber.versions()
        if not batches:
            return
        ds = self._map(ray, ray.data.from_arrow(batches), transcriber, batch_size=None)
        yield from ds.iter_batches(batch_size=None, batch_format="pyarrow")

    def write_shards(self, transcriber: Transcriber, inputs: list[str], out_dir: str,
                     batch_size: int) -> list[str]:
        """Parquet files in, a folder of parquet shards out, both read and written by Ray.

        The folder is written beside ``out_dir`` under a temporary name and renamed onto it at the
        end (a previous output there is replaced only then).

        Returns:
            The shard paths, in order.
        """
        ray = self.connect()
        # The read is materialised (distributed, into the object store) before the actors start:
        # streamed, its tasks would wait for CPUs that the actor pool holds (2 actors on 2 CPUs
        # never finish reading).
        ds = ray.data.read_parquet(inputs, override_num_blocks=max(2, 2 * self._pool_size(ray)))
        ds = ds.materialize()
        target = Path(out_dir)
        staging = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            self._map(ray, ds, transcriber, batch_size).write_parquet(str(staging))
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        old = None
        if target.exists():
            old = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.old")
            os.replace(target, old)
        os.replace(staging, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return sorted(str(p) for p in target.glob("*.parquet"))
