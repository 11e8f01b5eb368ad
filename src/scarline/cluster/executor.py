"""What the evolve driver needs of an executor: open islands, advance them in lockstep,
trade migrants, finish. Every call acts on all islands and returns one result per island,
in island order, so executors differ only in *where* islands run, never in what they do.
The executors (``inprocess``, ``ray_executor``) implement this protocol; the evolve driver
chooses one by name (:func:`scarline.cluster.evolve.executor_for`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from scarline.cluster.island import IslandReport, IslandSpec, Parcel
from scarline.errors import ScarlineError
from scarline.market.frame import MarketData

EXECUTORS = ("inprocess", "ray")


class ExecutorError(ScarlineError):
    """The chosen executor cannot run here (e.g. Ray is not installed)."""

    exit_code = 2


class IslandExecutor(Protocol):
    name: str

    def start(self, specs: Sequence[IslandSpec], market: MarketData) -> None: ...

    def advance(self, stop: int) -> None: ...

    def emigrants(self, m: int) -> list[Parcel]: ...

    def admit(self, step: int, parcels: Sequence[Parcel]) -> None: ...

    def finish(self) -> list[IslandReport]: ...

    def close(self) -> None:
        """Abort unfinished islands and release resources; safe to call twice."""
        ...
