"""A bar of market and limit orders executed in one compiled pass.

Agents whose genes say "limit" (evolution mutates the entry gene) and the router's maker
profiles put limit orders in the book; a bar holding any then took the broker's numpy path,
~0.6 ms a bar at N = 4096 (an evolving arena's every step after its first life cycle). Under
the same conditions as :mod:`~scarline.execution.market_fill_compiled` (the built-in fee and
slippage models, no participation cap) and the risk-averse queue
(:class:`~scarline.execution.queue.RiskAverseBarQueue`), the whole bar is this loop; the
numpy path stays the reference (``tests/execution/test_bar_fill_compiled.py`` runs both on
random sessions of mixed orders).

Exactness: as the market pass's (no ``fastmath``, the same operands in the same order, the
touch volume ``floor(share * volume * (1 + tol))`` with numpy's order of products), and the
cash cap is the one :func:`~scarline.execution.market_fill_compiled.cash_cap`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from scarline.execution.market_fill_compiled import cash_cap, cost_of_fill

_NO_BAR, _INSUFFICIENT_CASH, _LIMIT_EXPIRED = 0, 1, 2
"""REJECT_REASONS indices, literal so the numba cache depends on this file only;
``tests/execution/test_bar_fill_compiled.py`` compares them with REJECT_REASONS."""


@njit(cache=True)
def execute_bar(
    agent: np.ndarray, inst: np.ndarray, side: np.ndarray, qty: np.ndarray,
    is_limit: np.ndarray, limit: np.ndarray, queue: np.ndarray, first_due: np.ndarray,
    step: int, tif_steps: int, bar_open: np.ndarray, bar_high: np.ndarray,
    bar_low: np.ndarray, bar_volume: np.ndarray, bar_valid: np.ndarray,
    bar_sigma: np.ndarray, unit_values: np.ndarray, cash: np.ndarray,
    position: np.ndarray, cover_on: bool, touch_share: float,
    touch_scale: float, fixed: float, vol_coef: float, bps: float, minimum: int,
    filled: np.ndarray, price: np.ndarray, fee: np.ndarray, ref: np.ndarray,
    reject_lots: np.ndarray, reject_reason: np.ndarray, keep: np.ndarray,
    remaining: np.ndarray, queue_after: np.ndarray,
) -> None:  # fmt: skip
    """Fill the K due orders (rows in order_id order) at this bar; ``cash`` and
    ``position`` are the accounts' before it, ``cover_on`` the broker's ``cover_uncapped``.

    A limit row's fillable lots follow the risk-averse queue (``queue``: the lots ahead of
    it; ``touch_share`` × ``touch_scale`` of a bar's volume trades at a touched limit) and
    fill at the better of the open and the limit, a maker fill referenced at its own price;
    a market row fills its qty with slippage from the open. Writes per row: ``filled``,
    ``price``, ``fee``, ``ref`` (the fill's reference price), the refused remainder
    (``reject_lots``, ``reject_reason``: no bar, insufficient cash, limit expired; -1 when
    none), whether it ``keep``\\ s resting with ``remaining`` lots and ``queue_after`` ahead.
    """
    k = agent.shape[0]
    alloc = np.empty(k, np.int64)
    notional = np.empty(k, np.int64)
    avail = cash.copy()
    is_buy = np.zeros(k, np.bool_)
    for r in range(k):
        m = inst[r]
        queue_after[r] = queue[r]
        if not bar_valid[m]:
            alloc[r] = 0
        elif is_limit[r]:
            buy = side[r] > 0
            through = bar_low[m] < limit[r] if buy else bar_high[m] > limit[r]
            touch = bar_low[m] == limit[r] if buy else bar_high[m] == limit[r]
            if through:  # everything at our price traded
                alloc[r] = qty[r]
                queue_after[r] = 0
            elif touch:  # the touch volume eats the queue ahead first
                volume = np.float64(bar_volume[m])
                touch_lots = np.int64(np.floor(touch_share * volume * touch_scale))
                alloc[r] = min(max(touch_lots - queue[r], 0), qty[r])
                queue_after[r] = max(queue[r] - touch_lots, 0)
            else:
                alloc[r] = 0
        else:
            alloc[r] = qty[r]
        filled[r] = alloc[r]
        price[r], notional[r], fee[r] = cost_of_fill(
            alloc[r], is_limit[r], limit[r], bar_open[m], side[r], bar_volume[m],
            bar_sigma[m], unit_values[m], fixed, vol_coef, bps, minimum,
        )  # fmt: skip
        if side[r] < 0 and alloc[r] > 0:  # sells settle first
            avail[agent[r]] += notional[r] - fee[r]
        is_buy[r] = side[r] > 0 and alloc[r] > 0
    cash_cap(
        agent, inst, side, is_limit, limit, alloc, notional, fee, avail, is_buy, position,
        cover_on, bar_open, bar_volume, bar_sigma, unit_values, fixed, vol_coef, bps, minimum,
        filled, price,
    )  # fmt: skip
    for r in range(k):
        m = inst[r]
        ref[r] = price[r] if is_limit[r] else bar_open[m]
        remaining[r] = qty[r] - filled[r]
        cut = filled[r] < alloc[r]
        expired = is_limit[r] and step >= first_due[r] + tif_steps
        keep[r] = is_limit[r] and remaining[r] > 0 and not cut and not expired
        reject_lots[r], reject_reason[r] = 0, -1
        if not is_limit[r] and not bar_valid[m]:
            reject_lots[r], reject_reason[r] = qty[r], _NO_BAR
        elif cut:
            lots = qty[r] if is_limit[r] else alloc[r]
            reject_lots[r], reject_reason[r] = lots - filled[r], _INSUFFICIENT_CASH
        elif expired and remaining[r] > 0:
            reject_lots[r], reject_reason[r] = remaining[r], _LIMIT_EXPIRED


def warm_up() -> None:
    """Load the compiled bar (once per process) when a broker that may use it is built."""
    if execute_bar.signatures:
        return
    i64, one, yes = np.ones(1, np.int64), np.ones(1), np.ones(1, bool)
    i8 = np.ones(1, np.int8)
    execute_bar(
        i64 - 1, i64 - 1, i8, i64, yes, i64 * 10, i64 - 1, i64 - 1, 0, 10, i64 * 10,
        i64 * 11, i64 * 9, i64, yes, one, i64, i64 * 10**9, np.zeros((1, 1), np.int64), True,
        0.1, 1.0, 1e-4, 0.1, 1.0, 0,
        i64.copy(), i64.copy(), i64.copy(), i64.copy(), i64.copy(), i8.copy(), yes.copy(),
        i64.copy(), i64.copy(),
    )  # fmt: skip
