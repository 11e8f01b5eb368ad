"""The Policy port: how the kernel asks a group of agents for their decisions at step t."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from scarline.market.frame import MarketData


class Policy(Protocol):
    """A group of n agents deciding together, one call per step (batch-first).

    ``decide(t)`` may use market data up to and including row ``t`` only, and returns the
    desired exposure per agent and instrument as ``int8[n, M]``: -1 short, 0 flat, +1 long.
    How many lots an exposure means is the sizer's job (:mod:`scarline.agents.sizing`).
    """

    name: str
    n_agents: int
    labels: list[str]  # one per agent, e.g. 'sma(10,30)'

    def decide(self, t: int) -> np.ndarray: ...

    def extend(self, market: MarketData) -> None:
        """The market grew by rows (a live session): rebuild every table derived from it,
        causally (row t from rows <= t only), keeping all state."""
        ...
