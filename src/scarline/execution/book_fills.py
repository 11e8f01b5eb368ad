"""Booking fills into the accounts and marking them, compiled: one loop each.

The numpy reference (``Accounts._apply_numpy``) books fills in passes — one per occurrence
rank of an (agent, instrument) cell, each a dozen array ops and seven ``np.add.at`` — which
at a few thousand fills a step is ~35 µs of dispatch. Every quantity here is an int64 of
cash units, lots or ticks, so the loop is exact by construction: products and sums are the
same integers in any order (wrapping identically, if ever), the floor division of the closed
cost takes the same operands, and a cell's fills apply in row order as in the reference.
``tests/execution/test_book_fills.py`` compares every account array on random fills.

The closed cost is ``floor(basis × closing / held)``. Computed as written, ``basis ×
closing`` overflows int64 once a position's cost (cash units: 1e-6 of the currency) times
its lots passes 9.2e18 — a 300 M position of 30 000 lots — and the basis of a closed
position was left at garbage (found in the gates' power study: a learner's "unrealized"
input at 50× its equity, and 127 fake trade-loss scars). :func:`prorated` splits the
product so it cannot overflow, and equals the plain formula wherever that did not.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def prorated(basis: np.int64, closing: np.int64, held: np.int64) -> np.int64:
    """``floor(basis * closing / held)`` without the int64 product: with ``basis = k *
    held + rest`` (floor division, ``0 <= rest < held``) it is ``k * closing + floor(rest *
    closing / held)``, whose products stay below ``held * closing`` and ``|basis| *
    closing / held``. ``0 < closing <= held``."""
    k = basis // held
    rest = basis - k * held
    return k * closing + rest * closing // held


@njit(cache=True)
def book_fills(
    agent: np.ndarray, instrument: np.ndarray, side: np.ndarray, qty: np.ndarray,
    price: np.ndarray, fee: np.ndarray, slippage: np.ndarray, unit_values: np.ndarray,
    position: np.ndarray, cost_basis: np.ndarray, basis_total: np.ndarray,
    realized: np.ndarray, cash: np.ndarray, fees: np.ndarray, slippage_paid: np.ndarray,
    traded: np.ndarray, trades: np.ndarray,
) -> None:  # fmt: skip
    """Average-cost booking of each fill, in place (see :mod:`scarline.execution.accounting`)."""
    for r in range(agent.shape[0]):
        a, i = agent[r], instrument[r]
        s, q = np.int64(side[r]), qty[r]
        unit_price = price[r] * unit_values[i]
        notional = q * price[r] * unit_values[i]
        pos, basis = position[a, i], cost_basis[a, i]
        signed = s * q
        # lots that close existing exposure (opposite sign), and lots that open new exposure
        closing = min(abs(pos), q) if pos * signed < 0 else np.int64(0)
        opening = q - closing
        closed_cost = prorated(basis, closing, abs(pos)) if closing > 0 else np.int64(0)
        gain = -s * closing * unit_price - closed_cost  # closing proceeds − closed cost
        new_basis = basis - closed_cost + s * opening * unit_price
        cost_basis[a, i] = new_basis
        basis_total[a] += new_basis - basis
        position[a, i] = pos + signed
        realized[a] += gain
        cash[a] += -(s * notional + fee[r])
        fees[a] += fee[r]
        slippage_paid[a] += slippage[r]
        traded[a] += notional
        trades[a] += 1


@njit(cache=True)
def mark_to_close(
    position: np.ndarray, close: np.ndarray, valid: np.ndarray, last_close: np.ndarray,
    unit_values: np.ndarray, cash: np.ndarray, market_value: np.ndarray, equity: np.ndarray,
) -> None:  # fmt: skip
    """``last_close`` takes the valid closes; every agent's market value at those marks and
    its equity, in place: int64 sums, the same integers as the numpy matrix product."""
    m = close.shape[0]
    for j in range(m):
        if valid[j]:
            last_close[j] = close[j]
    for a in range(position.shape[0]):
        value = np.int64(0)
        for j in range(m):
            value += position[a, j] * (last_close[j] * unit_values[j])
        market_value[a] = value
        equity[a] = cash[a] + value


def warm_up() -> None:
    """Load the compiled booking and marking (~0.3 s once per process) when accounts are
    built, not on the first step."""
    if book_fills.signatures and mark_to_close.signatures:
        return
    one, ones = np.zeros(1, np.int64), np.ones((1, 1), np.int64)
    book_fills(
        one, one, np.ones(1, np.int8), one + 1, one + 1, one, one, one + 1,
        ones.copy(), ones.copy(), one.copy(), one.copy(), one.copy(), one.copy(), one.copy(),
        one.copy(), one.copy(),
    )  # fmt: skip
    mark_to_close(ones, one, np.ones(1, bool), one.copy(), one, one, one.copy(), one.copy())
