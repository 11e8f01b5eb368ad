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
) -> OrderBatch:
    """Market orders moving ``position + pending`` to ``target`` (all ``int64[N, M]``),
    only in the cells ``where`` is True (default: everywhere)."""
    held = position + pending
    delta = target - held
    if where is not None:
        delta = np.where(where, delta, 0)
    agent, instrument = np.nonzero(delta)
    if agent.size == 0:
        return OrderBatch.empty()
    d = delta[agent, instrument]
    h = held[agent, instrument]
    opposite = (h != 0) & (np.sign(d) == -np.sign(h))
    close_qty = np.where(opposite, np.minimum(np.abs(d), np.abs(h)), 0)
    open_qty = np.abs(d) - close_qty
    # rows: the reducing part first, then the opening part, each (agent, instrument) ordered
    agents = np.concatenate([agent, agent])
    instruments = np.concatenate([instrument, instrument])
    qty = np.concatenate([close_qty, open_qty])
    reducing = np.concatenate([np.ones_like(d, bool), np.zeros_like(d, bool)])
    side = np.concatenate([np.sign(d), np.sign(d)]).astype(np.int8)
    keep = qty > 0
    key = np.lexsort((~reducing[keep], instruments[keep], agents[keep]))
    agents, instruments, qty = agents[keep][key], instruments[keep][key], qty[keep][key]
    side, reducing = side[keep][key], reducing[keep][key]
    k = agents.size
    return OrderBatch(
        order_id=np.arange(first_order_id, first_order_id + k, dtype=np.int64),
        agent=agents.astype(np.int64),
        instrument=instruments.astype(np.int64),
        side=side,
        qty=qty.astype(np.int64),
        order_type=np.full(k, MARKET, np.int8),
        limit_price=np.zeros(k, np.int64),
        decision_step=np.full(k, step, np.int64),
        reducing=reducing,
    )
