"""What one batch of intents has approved so far, and the rounds it is checked in.

An agent may send several intents in one step, and each must see the ones approved before
it. Intents are checked in *rounds*: round r holds every agent's r-th intent (in order id
order), so a round has at most one row per agent and per (agent, instrument), and folding
its approvals in is a plain vector scatter. Usually there is one round; a loop over rounds
is a loop over order depth, never over agents.

Approved buys and sells are kept apart: an opening buy is checked as if every approved buy
fills and no approved sell does (and conversely), so the limits hold whichever part of the
batch fills, not only for the net. From schema 14 the working orders count the same way
(:func:`working_bounds`): an order approved against a working order of the other side would
otherwise fill past a limit when that order fails (the participation cap, cash, an expiry).
"""

from __future__ import annotations

import numpy as np

from scarline.execution.types import OrderBatch
from scarline.risk.limits import Limits
from scarline.risk.types import RiskContext


def working_bounds(
    position: np.ndarray, pending: np.ndarray, pending_sells: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Exposure if only the working buys fill (``up``) and if only the working sells do
    (``dn``), elementwise. ``pending_sells`` None: both are the net, position + pending (the
    runs of schema 13 and before)."""
    if pending_sells is None:
        net = position + pending
        return net, net
    return position + pending + pending_sells, position - pending_sells


def agent_rounds(agent: np.ndarray) -> list[np.ndarray]:
    """Row indices by rank within agent: round r = every agent's r-th row, in row order."""
    k = len(agent)
    ordered = bool((agent[1:] >= agent[:-1]).all())  # the kernel's intents are, by agent
    order = np.arange(k) if ordered else np.argsort(agent, kind="stable")
    sorted_agent = agent if ordered else agent[order]
    first = np.ones(k, dtype=bool)
    first[1:] = sorted_agent[1:] != sorted_agent[:-1]
    if first.all():
        return [np.arange(k)]
    idx = np.arange(k)
    rank = np.empty(k, dtype=np.int64)
    rank[order] = idx - np.maximum.accumulate(np.where(first, idx, 0))
    return [np.flatnonzero(rank == r) for r in range(int(rank.max()) + 1)]


def dense_ids(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)``, without a sort when already sorted."""
    if len(values) and (values[1:] >= values[:-1]).all():
        first = np.ones(len(values), dtype=bool)
        first[1:] = values[1:] != values[:-1]
        return values[first], np.cumsum(first) - 1
    return np.unique(values, return_inverse=True)


class BatchBook:
    """Lots approved per (agent, instrument) key by side, and per-agent gross, cash, orders.

    ``kid``/``gid`` map each intent row to its key/agent slot; per-agent figures exist only
    for the rules that are on.
    """

    def __init__(
        self,
        lim: Limits,
        intents: OrderBatch,
        ctx: RiskContext,
        orders_used: np.ndarray,
        one_per_agent: bool,
    ) -> None:
        a, m = intents.agent, intents.instrument
        if one_per_agent:  # rows are their own keys and agents: no sort needed
            agents, n_keys = a, len(a)
            self.kid = self.gid = np.arange(len(a))
        else:
            keys, self.kid = dense_ids(a * ctx.last_price.shape[0] + m)
            agents, self.gid = dense_ids(a)
            n_keys = len(keys)
        self.bought = np.zeros(n_keys, np.int64)
        self.sold = np.zeros(n_keys, np.int64)
        lot_values = ctx.last_price.astype(np.int64) * lim.unit_values
        self.gross: np.ndarray | None = None
        self.free_cash: np.ndarray | None = None
        self.used: np.ndarray | None = None
        if lim.max_gross is not None or lim.min_cash is not None:
            sells = None if ctx.pending_sells is None else ctx.pending_sells[agents]
            up, dn = working_bounds(ctx.position[agents], ctx.pending[agents], sells)
        if lim.max_gross is not None:
            held = np.maximum(np.abs(up), np.abs(dn))
            self.gross = (held * lot_values).sum(axis=1)
        if lim.min_cash is not None:  # working buys already spend cash (at the last price)
            bought = ctx.pending[agents] if sells is None else ctx.pending[agents] + sells
            committed = (np.maximum(bought, 0) * lot_values).sum(axis=1)
            self.free_cash = ctx.cash[agents] - committed
        if lim.max_orders is not None:
            self.used = orders_used[agents].copy()

    def worst(
        self, rows: np.ndarray, base_up: np.ndarray, base_dn: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Exposure of rows if only the buys fill (``up``) or only the sells (``dn``): the
        working ones (:func:`working_bounds` of the rows' cells) and the approved ones."""
        kid = self.kid[rows]
        return base_up + self.bought[kid], base_dn - self.sold[kid]

    def commit(
        self,
        rows: np.ndarray,
        side: np.ndarray,
        approved: np.ndarray,
        base_up: np.ndarray,
        base_dn: np.ndarray,
        lot_value: np.ndarray,
        lot_cost: np.ndarray,
    ) -> None:
        """Fold one round's approved qty in (its keys and agents are unique)."""
        kid, gid = self.kid[rows], self.gid[rows]
        buy = side > 0
        up, dn = self.worst(rows, base_up, base_dn)
        old_abs = np.maximum(np.abs(up), np.abs(dn))
        self.bought[kid] += np.where(buy, approved, 0)
        self.sold[kid] += np.where(buy, 0, approved)
        if self.gross is not None:
            up, dn = self.worst(rows, base_up, base_dn)
            self.gross[gid] += (np.maximum(np.abs(up), np.abs(dn)) - old_abs) * lot_value
        if self.free_cash is not None:
            self.free_cash[gid] -= np.where(buy, approved * lot_cost, 0)
        if self.used is not None:
            self.used[gid] += approved > 0
