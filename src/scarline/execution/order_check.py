"""The broker's validation of submitted orders, compiled: one pass instead of fourteen.

Seven field checks as numpy reductions cost ~20 µs per submitted batch at any size (N = 1
pays it on every order); one loop finds the same failures. A validation has no arithmetic
to round, so the loop is exact by construction; ``tests/execution/test_order_check.py``
compares it with the numpy checks on random batches.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from scarline.execution.types import BUY, LIMIT, MARKET, SELL  # compile-time constants

FIELDS = ("order_id", "agent", "instrument", "side", "qty", "order_type", "limit_price")


@njit(cache=True)
def invalid_fields(
    order_id: np.ndarray, last_id: int, agent: np.ndarray, n_agents: int,
    instrument: np.ndarray, n_instruments: int, side: np.ndarray, qty: np.ndarray,
    order_type: np.ndarray, limit_price: np.ndarray,
) -> int:  # fmt: skip
    """Bit k set when field ``FIELDS[k]`` fails for some order: ids not increasing past
    ``last_id``, an agent or instrument out of range, a side neither BUY nor SELL, qty ≤ 0,
    an unknown order type, a limit order without a positive limit price."""
    bad = 0
    prev = last_id
    for r in range(order_id.shape[0]):
        if order_id[r] <= prev:
            bad |= 1
        prev = order_id[r]
        if agent[r] < 0 or agent[r] >= n_agents:
            bad |= 2
        if instrument[r] < 0 or instrument[r] >= n_instruments:
            bad |= 4
        if side[r] != BUY and side[r] != SELL:
            bad |= 8
        if qty[r] <= 0:
            bad |= 16
        if order_type[r] != MARKET and order_type[r] != LIMIT:
            bad |= 32
        if order_type[r] == LIMIT and limit_price[r] <= 0:
            bad |= 64
    return bad


def warm_up() -> None:
    """Load the compiled check (~0.3 s once per process) when a broker is built."""
    if invalid_fields.signatures:
        return
    one, i8 = np.ones(1, np.int64), np.ones(1, np.int8)
    invalid_fields(one, 0, one - 1, 1, one - 1, 1, i8, one, i8 - 1, one - 1)
