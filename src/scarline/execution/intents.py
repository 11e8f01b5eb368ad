"""Target positions → order intents, vectorized over agents × instruments.

An order that would flip a position (long → short) is split into a reducing part that
closes it and an opening part, so the risk engine can always let the reducing part through.
Opening orders may then become limit orders (:func:`limit_entries`, :func:`profile_entries`);
reducing orders stay market orders, so risk can always get out.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from scarline.execution.types import LIMIT, MARKET, OrderBatch


def intents_from_targets(
    target: np.ndarray,
    position: np.ndarray,
    pending: np.ndarray,
    step: int,
    first_order_id: int,
    where: np.ndarray | None = None,
    cells: tuple[np.ndarray, np.ndarray] | None = None,
) -> OrderBatch:
    """Market orders moving ``position + pending`` to ``target`` (all ``int64[N, M]``),
    only in the cells ``where`` is True (default: everywhere), or only in ``cells``
    (agent rows, instruments; unique, in row-major order) — the cheap form when few of the
    N × M cells can have changed.

    One compiled pass over the cells (:func:`orders_of_cells`); :func:`_intents_numpy` is
    the reference it equals (``tests/execution/test_intents.py``)."""
    if cells is None:
        mask = target != position + pending
        if where is not None:
            mask &= where
        agent, instrument = np.nonzero(mask)
    else:
        agent, instrument = cells
    c = agent.shape[0]
    out = np.empty((4, 2 * c), dtype=np.int64)  # agent, instrument, side, qty per order
    reducing = np.empty(2 * c, dtype=np.bool_)
    k = orders_of_cells(
        np.asarray(target, dtype=np.int64), np.asarray(position, dtype=np.int64),
        np.asarray(pending, dtype=np.int64), np.asarray(agent, dtype=np.int64),
        np.asarray(instrument, dtype=np.int64), out, reducing,
    )  # fmt: skip
    return order_batch(out, reducing, k, step, first_order_id)


def order_batch(
    out: np.ndarray, reducing: np.ndarray, k: int, step: int, first_order_id: int
) -> OrderBatch:
    """The market orders :func:`orders_of_cells` wrote (its first ``k`` rows), numbered
    from ``first_order_id``."""
    if k == 0:
        return OrderBatch.empty()
    # empty + fill, not np.full: a single strategy's crossover makes one or two orders,
    # where np.full's Python layer cost more than the arrays
    order_type = np.empty(k, np.int8)
    order_type.fill(MARKET)
    decision_step = np.empty(k, np.int64)
    decision_step.fill(step)
    return OrderBatch(
        order_id=np.arange(first_order_id, first_order_id + k, dtype=np.int64),
        agent=out[0, :k].copy(),
        instrument=out[1, :k].copy(),
        side=out[2, :k].astype(np.int8),
        qty=out[3, :k].copy(),
        order_type=order_type,
        limit_price=np.zeros(k, np.int64),
        decision_step=decision_step,
        reducing=reducing[:k].copy(),
    )


@njit(cache=True)
def orders_of_cells(
    target: np.ndarray, position: np.ndarray, pending: np.ndarray, agent: np.ndarray,
    instrument: np.ndarray, out: np.ndarray, reducing: np.ndarray,
) -> int:  # fmt: skip
    """Per cell in order, the reducing part (when the move crosses zero) then the opening
    part, each only when its qty is > 0; writes rows of ``out`` (agent, instrument, side,
    qty) and ``reducing``; the number of orders."""
    k = 0
    for r in range(agent.shape[0]):
        a, i = agent[r], instrument[r]
        held = position[a, i] + pending[a, i]
        d = target[a, i] - held
        if d == 0:
            continue
        side = 1 if d > 0 else -1
        held_sign = (held > 0) - (held < 0)
        close = min(abs(d), abs(held)) if held != 0 and side == -held_sign else 0
        for qty, is_reducing in ((close, True), (abs(d) - close, False)):
            if qty > 0:
                out[0, k], out[1, k], out[2, k], out[3, k] = a, i, side, qty
                reducing[k] = is_reducing
                k += 1
    return k


def warm_up() -> None:
    """Load the compiled pass (~0.2 s once per process) when a kernel is built, not on a step."""
    if orders_of_cells.signatures:
        return
    z = np.zeros((1, 1), dtype=np.int64)
    one = np.zeros(1, dtype=np.int64)
    orders_of_cells(z, z, z, one, one, np.empty((4, 2), np.int64), np.empty(2, np.bool_))


def _intents_numpy(
    target: np.ndarray,
    position: np.ndarray,
    pending: np.ndarray,
    step: int,
    first_order_id: int,
    cells: tuple[np.ndarray, np.ndarray],
) -> OrderBatch:
    """:func:`intents_from_targets` of ``cells`` in numpy: the reference."""
    agent, instrument = cells
    flat = agent * target.shape[1] + instrument
    h = position.take(flat) + pending.take(flat)
    d = target.take(flat) - h
    moving = d != 0
    agent, instrument, d, h = agent[moving], instrument[moving], d[moving], h[moving]
    if agent.size == 0:
        return OrderBatch.empty()
    sign = np.sign(d)
    opposite = (h != 0) & (sign == -np.sign(h))
    close_qty = np.where(opposite, np.minimum(np.abs(d), np.abs(h)), 0)
    # rows per cell in (agent, instrument) order: the reducing part first, then the opening
    qty = np.empty(2 * d.size, dtype=np.int64)
    qty[0::2], qty[1::2] = close_qty, np.abs(d) - close_qty
    rows = np.flatnonzero(qty > 0)
    pair = rows >> 1
    k = rows.size
    return OrderBatch(
        order_id=np.arange(first_order_id, first_order_id + k, dtype=np.int64),
        agent=agent[pair].astype(np.int64),
        instrument=instrument[pair].astype(np.int64),
        side=sign[pair].astype(np.int8),
        qty=qty[rows],
        order_type=np.full(k, MARKET, np.int8),
        limit_price=np.zeros(k, np.int64),
        decision_step=np.full(k, step, np.int64),
        reducing=(rows & 1) == 0,
    )


def limit_entries(intents: OrderBatch, limit_entry: np.ndarray, last_close: np.ndarray) -> None:
    """Agents whose genes say "limit" (``limit_entry``, ``bool[N]``) open positions with a
    limit order at the last close (joining the book instead of crossing it), in place."""
    limit = limit_entry[intents.agent] & ~intents.reducing
    if limit.any():
        intents.order_type[limit] = LIMIT
        intents.limit_price[limit] = last_close[intents.instrument[limit]]


def profile_entries(
    intents: OrderBatch, maker: np.ndarray, bps: np.ndarray, last_close: np.ndarray
) -> None:
    """The router's profile of each instrument shapes the opening market orders, in place:
    makers (``maker``, ``bool[M]``) join the book at the last close, aggressive takers pay at
    most ``bps`` (``float64[M]``) past it (a marketable limit)."""
    opening = ~intents.reducing & (intents.order_type != LIMIT)
    inst = intents.instrument
    close = last_close[inst]
    joins = opening & maker[inst]
    if joins.any():
        intents.order_type[joins] = LIMIT
        intents.limit_price[joins] = close[joins]
    capped = opening & ~maker[inst] & np.isfinite(bps[inst])
    if capped.any():
        side = intents.side[capped].astype(np.float64)
        edge = close[capped] * (1.0 + side * bps[inst][capped] / 1e4)
        price = np.where(side > 0, np.ceil(edge), np.floor(edge)).astype(np.int64)
        intents.order_type[capped] = LIMIT
        intents.limit_price[capped] = np.maximum(price, 1)
