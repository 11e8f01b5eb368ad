"""Target positions → order intents, vectorized over agents × instruments.

An order that would flip a position (long → short) is split into a reducing part that
closes it and an opening part, so the risk engine can always let the reducing part through.
"""

from __future__ import annotations

import numpy as np

from scarline.execution.types import MARKET, OrderBatch


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
    N × M cells can have changed."""
    if cells is None:
        mask = target != position + pending
        if where is not None:
            mask &= where
        cells = np.nonzero(mask)
    agent, instrument = cells
    flat = agent * target.shape[1] + instrument  # flat gathers: ~4x faster than [a, i]
    h = position.take(flat) + pending.take(flat)
    d = target.take(flat) - h
    moving = d != 0
    if not moving.all():
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
