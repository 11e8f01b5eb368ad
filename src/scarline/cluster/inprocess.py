"""The default executor: every island in this process, stepped one after the other."""

from __future__ import annotations

from collections.abc import Sequence

from scarline.cluster.island import Island, IslandReport, IslandSpec, Parcel
from scarline.market.frame import MarketData


class InProcessExecutor:
    name = "inprocess"

    def __init__(self) -> None:
        self.islands: list[Island] = []

    def start(self, specs: Sequence[IslandSpec], market: MarketData) -> None:
        """Open every island on the one market already loaded (read-only for kernels)."""
        for spec in specs:
            self.islands.append(Island(spec, market))

    def advance(self, stop: int) -> None:
        for island in self.islands:
            island.advance(stop)

    def emigrants(self, m: int) -> list[Parcel]:
        return [island.emigrants(m) for island in self.islands]

    def admit(self, step: int, parcels: Sequence[Parcel]) -> None:
        for island, parcel in zip(self.islands, parcels, strict=True):
            island.admit(step, parcel)

    def finish(self) -> list[IslandReport]:
        return [island.finish() for island in self.islands]

    def close(self) -> None:
        for island in self.islands:
            island.abort()
