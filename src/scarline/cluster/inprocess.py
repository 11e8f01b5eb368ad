"""The default executor: every island in this process, stepped one after the other."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from scarline.cluster.executor import IslandFailed
from scarline.cluster.island import Island, IslandReport, IslandSpec, Parcel
from scarline.market.frame import MarketData

T = TypeVar("T")


class InProcessExecutor:
    name = "inprocess"

    def __init__(self) -> None:
        self.islands: list[Island] = []

    def start(self, specs: Sequence[IslandSpec], market: MarketData) -> None:
        """Open every island on the one market already loaded (read-only for kernels)."""
        for spec in specs:
            try:
                self.islands.append(Island(spec, market))
            except Exception as err:
                raise IslandFailed(spec.island, err) from err

    def advance(self, stop: int) -> None:
        self._each(lambda island: island.advance(stop))

    def emigrants(self, m: int) -> list[Parcel]:
        return self._each(lambda island: island.emigrants(m))

    def admit(self, step: int, parcels: Sequence[Parcel]) -> None:
        arriving = dict(zip(self.islands, parcels, strict=True))
        self._each(lambda island: island.admit(step, arriving[island]))

    def finish(self) -> list[IslandReport]:
        return self._each(lambda island: island.finish())

    def _each(self, call: Callable[[Island], T]) -> list[T]:
        return [self._one(island, call) for island in self.islands]

    @staticmethod
    def _one(island: Island, call: Callable[[Island], T]) -> T:
        """``call(island)``, an error in it named by the island it happened on."""
        try:
            return call(island)
        except Exception as err:
            raise IslandFailed(island.spec.island, err) from err

    def close(self) -> None:
        for island in self.islands:
            island.abort()
