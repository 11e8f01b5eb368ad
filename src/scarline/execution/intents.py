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
    h = position[agent, instrument] + pending[agent, instrument]
    d = target[agent, instrument] - h
    moving = d != 0
    if not moving.all():
        agent, instrument, d, h = agent[moving], instrument[moving], d[moving], h[moving]
    if agent.size == 0:
        return OrderBatch.empty()
    sign = np.sign(d)
    opposite = (h != 0) & (sign == -np.sign(h))
    close_qty = np.where(opposite, np.minimum(np.abs(d), np.abs(h)), 0)
    open_qty = np.abs(d) - close_qty
    # rows per cell in (agent, instrument) order: the reducing part first, then the opening
    qty = np.stack([close_qty, open_qty], axis=1).ravel()
    keep = qty > 0
    pair = np.repeat(np.arange(agent.size), 2)[keep]
    qty = qty[keep]
    reducing = np.tile(np.array([True, False]), agent.size)[keep]
    k = qty.size
    return OrderBatch(
        order_id=np.arange(first_order_id, first_order_id + k, dtype=np.int64),
        agent=agent[pair].astype(np.int64),
        instrument=instrument[pair].astype(np.int64),
        side=sign[pair].astype(np.int8),
        qty=qty.astype(np.int64),
        order_type=np.full(k, MARKET, np.int8),
        limit_price=np.zeros(k, np.int64),
        decision_step=np.full(k, step, np.int64),
        reducing=reducing,
    )
