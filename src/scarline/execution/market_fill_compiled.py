"""A bar of market orders executed in one compiled pass: the broker's usual case.

:meth:`SimBroker.execute` is a few dozen numpy calls per bar, ~150 µs whatever the number of
orders: that is most of a step for the small populations the gates re-run (three agents,
tens of thousands of steps) and for N = 1. When every due order is a market order, there
is no participation cap and the fee and slippage models are the built-in ones (``BpsMinFee``,
``FixedPlusVolatility``), the whole bar is this loop instead; any other case takes the numpy
path, which stays the reference (``tests/execution/test_market_fill_compiled.py`` runs both
on random bars).

Exactness: no ``fastmath``; every float is computed from the same operands in the same order
as the numpy path (int64 → float64, then one IEEE operation at a time, ``rint`` for the fee);
integer sums wrap exactly as numpy's do. The cash cap (:func:`cash_cap`, shared with the
bar of market and limit orders in :mod:`~scarline.execution.bar_fill_compiled`) follows
:func:`~scarline.execution.cash.affordable_prefix` and
:func:`~scarline.execution.cash.largest_affordable` row by row: each row's bisection is
independent of the others, so a loop per row takes the same steps as the vectorized search.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from scarline.execution.slippage_compiled import Int, price_one

_NO_BAR, _INSUFFICIENT_CASH = 0, 1
"""REJECT_REASONS indices, literal so the numba cache depends on this file only;
``tests/execution/test_market_fill_compiled.py`` compares them with REJECT_REASONS."""


@njit(cache=True)
def _fee(notional: Int, bps: float, minimum: int) -> Int:
    """``BpsMinFee.fee`` of one notional."""
    if notional <= 0:
        return 0
    fee = np.int64(np.rint(notional * bps / 1e4))
    return fee if fee > minimum else minimum


@njit(cache=True)
def cost_of_fill(
    q: Int, is_limit: bool, limit: Int, open_: Int, side: Int, volume: Int, sigma: float,
    uv: Int, fixed: float, vol_coef: float, bps: float, minimum: int,
) -> tuple[Int, Int, Int]:  # fmt: skip
    """``(price, notional, fee)`` of one fill of ``q`` lots: a market order's price slips
    from the open; a limit order's is ``queue.limit_fill_price`` (the better of the open and
    its limit), whatever ``q``."""
    if is_limit:
        price = min(open_, limit) if side > 0 else max(open_, limit)
    else:
        price = price_one(open_, side, q, volume, sigma, fixed, vol_coef)
    notional = q * price * uv
    return price, notional, _fee(notional, bps, minimum)


@njit(cache=True)
def execute_market(
    agent: np.ndarray, inst: np.ndarray, side: np.ndarray, qty: np.ndarray,
    bar_open: np.ndarray, bar_volume: np.ndarray, bar_valid: np.ndarray,
    bar_sigma: np.ndarray, unit_values: np.ndarray, cash: np.ndarray,
    position: np.ndarray, cover_on: bool,
    fixed: float, vol_coef: float, bps: float, minimum: int,
    filled: np.ndarray, price: np.ndarray, fee: np.ndarray,
    reject_lots: np.ndarray, reject_reason: np.ndarray,
) -> None:  # fmt: skip
    """Fill the K due market orders (rows in order_id order) at this bar; ``cash`` and
    ``position`` (``int64[N, M]``) are the accounts' before it, ``cover_on`` the broker's
    ``cover_uncapped`` (schema 15: a buy covering a short is not held to cash).

    Writes per row: ``filled`` lots, ``price`` (at the filled qty), ``fee`` and the refused
    remainder (``reject_lots`` > 0 with ``reject_reason`` no bar or insufficient cash;
    ``reject_reason`` -1 when none). The slippage cost stays with the caller, in numpy: an
    absurd price (σ = -inf) overflows ``|price - open|``, and only numpy's wrap is the
    reference's.
    """
    k = agent.shape[0]
    alloc = np.empty(k, np.int64)
    notional = np.empty(k, np.int64)
    avail = cash.copy()
    is_buy = np.zeros(k, np.bool_)
    for r in range(k):
        m = inst[r]
        alloc[r] = qty[r] if bar_valid[m] else 0
        filled[r] = alloc[r]
        price[r], notional[r], fee[r] = cost_of_fill(
            alloc[r], False, 0, bar_open[m], side[r], bar_volume[m], bar_sigma[m],
            unit_values[m], fixed, vol_coef, bps, minimum,
        )  # fmt: skip
        if side[r] < 0 and alloc[r] > 0:  # sells settle first
            avail[agent[r]] += notional[r] - fee[r]
        is_buy[r] = side[r] > 0 and alloc[r] > 0
    cash_cap(
        agent, inst, side, np.zeros(k, np.bool_), np.zeros(k, np.int64), alloc, notional,
        fee, avail, is_buy, position, cover_on, bar_open, bar_volume, bar_sigma, unit_values,
        fixed, vol_coef, bps, minimum, filled, price,
    )  # fmt: skip
    for r in range(k):
        m = inst[r]
        if not bar_valid[m]:
            reject_lots[r], reject_reason[r] = qty[r], _NO_BAR
        elif filled[r] < alloc[r]:
            reject_lots[r], reject_reason[r] = alloc[r] - filled[r], _INSUFFICIENT_CASH
        else:
            reject_lots[r], reject_reason[r] = 0, -1


@njit(cache=True)
def cash_cap(
    agent: np.ndarray, inst: np.ndarray, side: np.ndarray, is_limit: np.ndarray,
    limit: np.ndarray, alloc: np.ndarray, notional: np.ndarray, fee: np.ndarray,
    avail: np.ndarray, is_buy: np.ndarray, position: np.ndarray, cover_on: bool,
    bar_open: np.ndarray, bar_volume: np.ndarray, bar_sigma: np.ndarray,
    unit_values: np.ndarray, fixed: float, vol_coef: float, bps: float, minimum: int,
    filled: np.ndarray, price: np.ndarray,
) -> None:  # fmt: skip
    """``SimBroker._cash_cap`` row by row: each agent's buys (``is_buy``) in order_id order.
    With ``cover_on`` (schema 15), the lots of each that cover the agent's short at the
    bar's start (``position``; :func:`_covers`) are paid first out of ``avail`` (cash after
    the sells), into debit if need be. Then the opening parts' running cost against what is
    left (:func:`~scarline.execution.cash.affordable_prefix`): a row whose opening part does
    not fit fills the largest qty its cash pays for (never less than its cover) if it is the
    agent's first such row, else only its cover; a row cut so is re-priced at what fills
    (0 lots: no notional, no fee), ``filled``, ``price`` and ``fee`` in place."""
    buy_rows = np.flatnonzero(is_buy)
    buy_rows = buy_rows[np.argsort(agent[buy_rows], kind="mergesort")]
    cover = np.zeros(alloc.shape[0], np.int64)
    paid = np.zeros(alloc.shape[0], np.int64)
    if cover_on:
        _covers(agent, inst, alloc, buy_rows, position, cover)
        for r in buy_rows:  # the covering lots' cost, at their own size
            if cover[r] == alloc[r]:
                paid[r] = notional[r] + fee[r]
            elif cover[r] > 0:
                m = inst[r]
                _, n, f = cost_of_fill(
                    cover[r], is_limit[r], limit[r], bar_open[m], side[r], bar_volume[m],
                    bar_sigma[m], unit_values[m], fixed, vol_coef, bps, minimum,
                )  # fmt: skip
                paid[r] = n + f
            avail[agent[r]] -= paid[r]
    before = 0
    prev_full = True
    prev_agent = -1
    for r in buy_rows:
        if alloc[r] <= cover[r]:
            continue  # it only covers: filled in full, paid
        m = inst[r]
        first = agent[r] != prev_agent
        prev_agent = agent[r]
        if first:
            before = 0
        whole = notional[r] + fee[r]
        cost = whole - paid[r]
        budget = avail[agent[r]]
        full = before + cost <= budget
        if not full:
            if first or prev_full:  # the cut row: the largest qty its cash pays for
                most = _largest_affordable(
                    alloc[r], budget - before + paid[r], whole, is_limit[r], limit[r],
                    bar_open[m], side[r], bar_volume[m], bar_sigma[m], unit_values[m], fixed,
                    vol_coef, bps, minimum,
                )  # fmt: skip
                filled[r] = max(cover[r], most)
            else:
                filled[r] = cover[r]
            price[r], _, fee[r] = cost_of_fill(
                filled[r], is_limit[r], limit[r], bar_open[m], side[r], bar_volume[m],
                bar_sigma[m], unit_values[m], fixed, vol_coef, bps, minimum,
            )  # fmt: skip
        before += cost
        prev_full = full


@njit(cache=True)
def _covers(
    agent: np.ndarray, inst: np.ndarray, alloc: np.ndarray, buy_rows: np.ndarray,
    position: np.ndarray, cover: np.ndarray,
) -> None:  # fmt: skip
    """:func:`~scarline.execution.cash.covering_lots` of the buy rows in a short cell (the
    others cover nothing): per (agent, instrument) in order_id order, ``min(alloc, short
    left)`` into ``cover``."""
    m_count = position.shape[1]
    short = np.empty(buy_rows.shape[0], np.int64)
    rows = np.empty(buy_rows.shape[0], np.int64)
    k = 0
    for r in buy_rows:  # by agent, then order_id
        held = position[agent[r], inst[r]]
        if held < 0:
            rows[k], short[k] = r, -held
            k += 1
    if k == 0:
        return
    rows, short = rows[:k], short[:k]
    key = agent[rows] * m_count + inst[rows]
    order = np.argsort(key, kind="mergesort")  # (cell, order_id)
    before = 0
    for j in range(k):
        r = rows[order[j]]
        if j == 0 or key[order[j]] != key[order[j - 1]]:
            before = 0
        cover[r] = min(alloc[r], max(short[order[j]] - before, 0))
        before += alloc[r]


@njit(cache=True)
def _largest_affordable(
    hi: Int, left: Int, hi_cost: Int, is_limit: bool, limit: Int, open_: Int, side: Int,
    volume: Int, sigma: float, uv: Int, fixed: float, vol_coef: float, bps: float,
    minimum: int,
) -> Int:  # fmt: skip
    """:func:`~scarline.execution.cash.largest_affordable` for one row: the guess from the
    cost per lot at ``hi``, its neighbour, then bisection."""

    def affordable(q: Int) -> bool | np.bool_:
        _, n, f = cost_of_fill(
            q, is_limit, limit, open_, side, volume, sigma, uv, fixed, vol_coef, bps, minimum
        )
        return n + f <= left

    per_lot = max(np.float64(hi_cost), 1.0) / np.float64(max(hi, 1))
    guess = np.int64(min(max(np.floor(left / per_lot), 0.0), np.float64(max(hi - 1, 0))))
    lo: Int = 0
    if affordable(guess):
        if affordable(guess + 1):
            lo = guess + 1
        else:
            lo, hi = guess, guess + 1
    else:
        hi = guess
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if affordable(mid):
            lo = mid
        else:
            hi = mid
    return lo


def warm_up() -> None:
    """Load the compiled bar (~0.5 s once per process) when a broker is built."""
    if execute_market.signatures:
        return
    i64, one = np.ones(1, np.int64), np.ones(1)
    i8 = np.ones(1, np.int8)
    execute_market(
        i64 - 1, i64 - 1, i8, i64, i64, i64, np.ones(1, bool), one, i64, i64 * 10**9,
        np.zeros((1, 1), np.int64), True, 1e-4, 0.1, 1.0, 0, i64.copy(), i64.copy(),
        i64.copy(), i64.copy(), i8.copy(),
    )  # fmt: skip
