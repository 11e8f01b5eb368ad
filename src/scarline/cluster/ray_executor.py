"""The Ray executor: one actor per island, each holding its island's kernel in its own process.

A local Ray cluster is started for the run and shut down at its end, kept small: ``num_cpus``
(default: min(islands, CPUs)), a 256 MB object store (migrants are a few KB each), no
dashboard, worker logs not forwarded. Each actor pins torch to one thread before anything is
built — the islands are the parallelism. Results equal the in-process executor's bit for bit:
an island is the same pure function of (config, seed, immigrants) wherever it runs.

Ray is an optional extra (``pip install '.[ray]'``); it is imported only when asked for.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Sequence
from typing import Any

from scarline.cluster.executor import ExecutorError, IslandFailed
from scarline.cluster.island import Island, IslandReport, IslandSpec, Parcel
from scarline.gating.executor import init_local_ray
from scarline.market.frame import MarketData

OBJECT_STORE_BYTES = 256 * 1024**2
INSTALL_HINT = "--executor ray needs Ray, which is not installed: pip install '.[ray]'"


class IslandActor:
    """Holds one :class:`Island` inside a Ray worker (opened by :meth:`open`, so a failure
    comes back as an ordinary task error instead of a dead actor)."""

    def __init__(self) -> None:
        import torch

        torch.set_num_threads(1)
        with contextlib.suppress(RuntimeError):  # only if torch already ran parallel work
            torch.set_num_interop_threads(1)
        self.island: Island | None = None

    def open(self, spec: IslandSpec) -> int:
        self.island = Island(spec)
        return self.island.n_steps

    def advance(self, stop: int) -> int:
        assert self.island is not None
        return self.island.advance(stop)

    def emigrants(self, m: int) -> Parcel:
        assert self.island is not None
        return self.island.emigrants(m)

    def admit(self, step: int, parcel: Parcel) -> None:
        assert self.island is not None
        self.island.admit(step, parcel)

    def finish(self) -> IslandReport:
        assert self.island is not None
        return self.island.finish()

    def abort(self) -> None:
        if self.island is not None:
            self.island.abort()


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ExecutorError(INSTALL_HINT) from None
    return ray


class RayExecutor:
    name = "ray"

    def __init__(self, n_islands: int, num_cpus: int | None = None) -> None:
        self._ray = _import_ray()
        self.n_islands = n_islands
        self.num_cpus = num_cpus or max(1, min(n_islands, os.cpu_count() or 1))
        self._actors: list[Any] = []
        self._started = False

    def start(self, specs: Sequence[IslandSpec], market: MarketData) -> None:
        """Start the local cluster and one actor per island (each loads its own market)."""
        ray = self._ray
        init_local_ray(ray, self.num_cpus, OBJECT_STORE_BYTES, ExecutorError, address="local")
        self._started = True
        # fractional CPUs so K islands fit on fewer cores (Ray counts in 1e-4 units)
        share = math.floor(min(1.0, self.num_cpus / len(specs)) * 10_000) / 10_000
        actor = ray.remote(IslandActor).options(num_cpus=share)
        self._actors = [actor.remote() for _ in specs]
        self._get([a.open.remote(spec) for a, spec in zip(self._actors, specs, strict=True)])

    def advance(self, stop: int) -> None:
        self._get([a.advance.remote(stop) for a in self._actors])

    def emigrants(self, m: int) -> list[Parcel]:
        return self._get([a.emigrants.remote(m) for a in self._actors])

    def admit(self, step: int, parcels: Sequence[Parcel]) -> None:
        refs = [a.admit.remote(step, p) for a, p in zip(self._actors, parcels, strict=True)]
        self._get(refs)

    def finish(self) -> list[IslandReport]:
        return self._get([a.finish.remote() for a in self._actors])

    def close(self) -> None:
        if not self._started:
            return
        ray = self._ray
        try:
            # each island on its own: one dead worker must not cut the others' WAL close short
            for ref in [a.abort.remote() for a in self._actors]:
                with contextlib.suppress(Exception):  # after a failure: the first error counts
                    ray.get(ref, timeout=60)
        finally:
            self._actors = []
            ray.shutdown()
            self._started = False

    def _get(self, refs: list[Any]) -> list[Any]:
        """``ray.get`` of one call per island, in island order; an island's error, or the
        death of its worker process, comes back as :class:`IslandFailed` naming it."""
        return [self._get_one(k, ref) for k, ref in enumerate(refs)]

    def _get_one(self, island: int, ref: Any) -> Any:
        ray = self._ray
        try:
            return ray.get(ref)
        except ray.exceptions.RayTaskError as err:
            cause = getattr(err, "cause", None)
            raise IslandFailed(island, cause if isinstance(cause, Exception) else err) from err
        except ray.exceptions.RayActorError as err:  # the actor's process is gone
            died = f"its Ray worker process died ({type(err).__name__})"
            raise IslandFailed(island, died) from err
