"""What the evolve driver needs of an executor: open islands, advance them in lockstep,
trade migrants, finish. Every call acts on all islands and returns one result per island,
in island order, so executors differ only in *where* islands run, never in what they do.
The executors (``inprocess``, ``ray_executor``) implement this protocol; the evolve driver
chooses one by name (:func:`scarline.cluster.evolve.executor_for`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from scarline.cluster.island import IslandReport, IslandSpec, Parcel
from scarline.errors import ScarlineError
from scarline.market.frame import MarketData

EXECUTORS = ("inprocess", "ray")


class ExecutorError(ScarlineError):
    """The chosen executor cannot run here (e.g. Ray is not installed)."""

    exit_code = 2


class IslandFailed(ScarlineError):
    """One island stopped with an error. It names the island (so the user knows which run
    directory holds the failure) and keeps the cause's exit code (1 for an unexpected one)."""

    def __init__(self, island: int, cause: BaseException | str) -> None:
        self.island = island
        self.run_dir: Path | None = None  # the island's run directory, once the driver knows
        if isinstance(cause, str):
            what = cause
        elif isinstance(cause, ScarlineError):
            what = str(cause)
            self.exit_code = cause.exit_code
        else:
            what = f"{type(cause).__name__}: {cause}".rstrip(": ")
        super().__init__(f"island {island} failed: {what}")

    def stopped_in(self, evolve_dir: Path, island_dir: str) -> IslandFailed:
        """This error, saying where the failed island is and what became of the others."""
        self.run_dir = evolve_dir / island_dir
        self.args = (
            f"{self.args[0]}; every island stopped unfinished (WAL kept, no manifest): "
            f"`scarline wal seal {evolve_dir}/island-<k>` finishes one",
        )
        return self


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
