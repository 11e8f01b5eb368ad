"""The Policy port: how the kernel asks N agents for their decisions at step t."""

from __future__ import annotations

from typing import Protocol

import numpy as np


class Policy(Protocol):
    """A population of agents deciding together, one call per step (batch-first).

    ``decide(t)`` may use market data up to and including row ``t`` only. It returns
    ``actions`` (``int8[N, M]``: -1 short, 0 flat, +1 long, or policy-specific codes) and
    ``target_qty`` (``int64[N, M]``: the position in lots each agent wants).
    """

    name: str
    agent_ids: np.ndarray

    def decide(self, t: int) -> tuple[np.ndarray, np.ndarray]: ...
