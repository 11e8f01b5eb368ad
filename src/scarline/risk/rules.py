"""Pre-trade rules as pure vectorized functions over K order intents.

Each rule returns a :class:`Verdict`: a pass mask, the measured value and the limit (in
the units documented in ``docs/risk.md``), so a reject can be journaled with the numbers
that caused it. Rules a smaller order can satisfy (position, notional, gross notional,
cash) also return ``cap``, the largest qty that passes, so the engine can scale the order
down instead of refusing it. "Exposure" is position + pending + already approved lots of
the same batch, signed; money is int64 cash units; prices are ticks.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from scarline.execution.types import CASH_SCALE, LIMIT

NO_CAP = np.iinfo(np.int64).max // 4
"""Cap of a rule that does not apply to a row (larger than any real order)."""


class Verdict(NamedTuple):
    ok: np.ndarray  # bool[K]
    value: np.ndarray  # float64[K], what was measured
    limit: np.ndarray  # float64[K], what it was compared with
    cap: np.ndarray | None = None  # int64[K], largest passing qty (scaling rules only)


def _full(k: int, x: float) -> np.ndarray:
    return np.full(k, x, dtype=np.float64)


def reduces(side: np.ndarray, exposure: np.ndarray, qty: np.ndarray) -> np.ndarray:
    """True where the order only brings |exposure| towards zero (never through it)."""
    return (side * exposure < 0) & (qty <= np.abs(exposure))


# --- market-state and sanity rules (reject only) -----------------------------------------


def no_price(last_price: np.ndarray) -> Verdict:
    """An instrument without a positive last price cannot be valued: refuse."""
    return Verdict(last_price > 0, last_price.astype(np.float64), _full(len(last_price), 0.0))


def quote_age(now_ts: int, quote_ts: np.ndarray, max_age_ns: int) -> Verdict:
    """The quote the order would trade against is at most ``max_age_ns`` old."""
    age = now_ts - quote_ts
    return Verdict(age <= max_age_ns, age.astype(np.float64), _full(len(age), max_age_ns))


def spread(bid: np.ndarray, ask: np.ndarray, max_bps: float) -> Verdict:
    """Bid/ask spread in bps of the mid; rows without a two-sided quote pass."""
    quoted = (bid > 0) & (ask > 0)
    mid = np.where(quoted, (bid + ask) / 2.0, 1.0)
    bps = np.where(quoted, (ask - bid) / mid * 1e4, 0.0)
    return Verdict(bps <= max_bps, bps, _full(len(bps), max_bps))


def price_band(
    order_type: np.ndarray, limit_price: np.ndarray, last_price: np.ndarray, band_pct: float
) -> Verdict:
    """Limit orders: |limit − last| / last in percent; market orders pass (value 0)."""
    is_limit = (order_type == LIMIT) & (last_price > 0)
    last = np.where(is_limit, last_price, 1)
    dev = np.where(is_limit, np.abs(limit_price - last) / last * 100.0, 0.0)
    return Verdict(dev <= band_pct, dev, _full(len(dev), band_pct))


def order_rate(used: np.ndarray, max_orders: int) -> Verdict:
    """This order would be number ``used + 1`` of the agent in the window."""
    n = used + 1
    return Verdict(n <= max_orders, n.astype(np.float64), _full(len(n), max_orders))


def drawdown(dd_pct: np.ndarray, max_pct: float) -> Verdict:
    """Hard drawdown limit: at or beyond it opening orders are refused."""
    return Verdict(dd_pct < max_pct, dd_pct.astype(np.float64), _full(len(dd_pct), max_pct))


# --- microstructure filters (opening orders; an undefined measure passes) -----------------


def _at_most(value: np.ndarray, limit: float) -> Verdict:
    """``value <= limit``; NaN (undefined) passes."""
    value = np.asarray(value, dtype=np.float64)
    return Verdict(~(value > limit), value, _full(len(value), limit))


def vpin(value: np.ndarray, limit: float) -> Verdict:
    """VPIN-lite of the order's instrument at most ``limit`` (block or throttle threshold)."""
    return _at_most(value, limit)


def imbalance(side: np.ndarray, book_imbalance: np.ndarray, max_imbalance: float) -> Verdict:
    """Book imbalance *against* the order, ``side · (b − a) / (b + a)``, at most the limit.

    A buy lifts the ask: it is against it when the ask is the thin side (imbalance > 0); a
    sell hits the bid: against it when the bid is thin (imbalance < 0).
    """
    return _at_most(side * np.asarray(book_imbalance, dtype=np.float64), max_imbalance)


def stale_quote(stale_bars: np.ndarray, max_bars: int) -> Verdict:
    """Bars since the quote last changed at most ``max_bars``; no quote yet (−1) passes."""
    return _at_most(np.where(stale_bars < 0, np.nan, stale_bars), max_bars)


def spread_shock(spread_z: np.ndarray, max_z: float) -> Verdict:
    """Spread z-score against the earlier bars' spreads at most ``max_z``."""
    return _at_most(spread_z, max_z)


def bad_quote(invalid: np.ndarray) -> Verdict:
    """The quote is usable: a bid > 0 and ask > bid (value 1 = invalid, limit 0)."""
    k = len(invalid)
    return Verdict(~invalid, np.asarray(invalid, dtype=np.float64), _full(k, 0.0))


# --- scaling rules (cap the qty, reject when the cap is zero) ------------------------------


def _cap_abs(side: np.ndarray, exposure: np.ndarray, bound: np.ndarray) -> np.ndarray:
    """Largest q ≥ 0 with |exposure + side·q| ≤ bound, for an order moving away from zero."""
    return np.maximum(bound - side * exposure, 0)


def position(side: np.ndarray, exposure: np.ndarray, qty: np.ndarray, max_lots: int) -> Verdict:
    """|exposure + side·qty| ≤ max_lots (lots)."""
    after = np.abs(exposure + side * qty)
    bound = np.full(len(qty), max_lots, dtype=np.int64)
    return Verdict(
        after <= max_lots,
        after.astype(np.float64),
        bound.astype(np.float64),
        _cap_abs(side, exposure, bound),
    )


def notional(
    side: np.ndarray,
    exposure: np.ndarray,
    qty: np.ndarray,
    lot_value: np.ndarray,
    max_cash: int,
) -> Verdict:
    """|exposure + side·qty| × lot value ≤ max_notional (value and limit in currency)."""
    after = np.abs(exposure + side * qty) * lot_value
    bound = max_cash // np.maximum(lot_value, 1)
    return Verdict(
        after <= max_cash,
        after / CASH_SCALE,
        _full(len(qty), max_cash / CASH_SCALE),
        _cap_abs(side, exposure, bound),
    )


def gross(
    side: np.ndarray,
    exposure: np.ndarray,
    qty: np.ndarray,
    lot_value: np.ndarray,
    gross_cash: np.ndarray,
    held_abs: np.ndarray,
    other_abs: np.ndarray,
    max_cash: int,
) -> Verdict:
    """The agent's Σ |exposure| × lot value ≤ max_gross_notional (currency).

    ``gross_cash`` is the agent's current gross in cash units and ``held_abs`` the lots this
    instrument adds to it (the worse of its long and short worst cases); after the order it
    adds the worse of ``|exposure + side·qty|`` and ``other_abs``, the other side's case.
    """
    others = gross_cash - held_abs * lot_value
    after = others + np.maximum(np.abs(exposure + side * qty), other_abs) * lot_value
    bound = (max_cash - others) // np.maximum(lot_value, 1)  # floors; negative → cap 0
    return Verdict(
        after <= max_cash,
        after / CASH_SCALE,
        _full(len(qty), max_cash / CASH_SCALE),
        _cap_abs(side, exposure, bound),
    )


def cash(
    side: np.ndarray,
    qty: np.ndarray,
    lot_cost: np.ndarray,
    free_cash: np.ndarray,
    min_cash: int,
) -> Verdict:
    """Buys: free cash − qty × lot cost ≥ min_cash (currency); sells pass."""
    buy = side > 0
    after = free_cash - np.where(buy, qty * lot_cost, 0)
    cap = np.where(buy, (free_cash - min_cash) // np.maximum(lot_cost, 1), NO_CAP)
    return Verdict(
        after >= min_cash,
        after / CASH_SCALE,
        _full(len(qty), min_cash / CASH_SCALE),
        np.maximum(cap, 0),
    )
