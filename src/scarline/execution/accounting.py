"""Per-agent accounts: cash, positions, cost basis, realized PnL, fees, turnover — exact.

Money is int64 cash units (:data:`~scarline.execution.types.CASH_SCALE` per currency unit),
so the books balance to the unit. Average-cost method: ``cost_basis[N, M]`` is the signed
cash paid for the open position; reducing a position realizes ``proceeds - closed cost``.
Invariant (tested): ``cash + cost_basis.sum(1) == initial + realized - fees``, hence
``equity = cash + market value = initial + realized + unrealized - fees``.
"""

from __future__ import annotations

import numpy as np

from scarline.execution.book_fills import book_fills, mark_to_close, warm_up
from scarline.execution.types import FillBatch


class Accounts:
    def __init__(self, n_agents: int, unit_values: np.ndarray, initial_cash: int) -> None:
        m = int(unit_values.shape[0])
        self.unit_values = unit_values.astype(np.int64)
        self.initial_cash = int(initial_cash)
        self.cash = np.full(n_agents, initial_cash, dtype=np.int64)
        self.position = np.zeros((n_agents, m), dtype=np.int64)
        self.cost_basis = np.zeros((n_agents, m), dtype=np.int64)
        self._basis_total = np.zeros(n_agents, dtype=np.int64)  # cost_basis.sum(1), kept
        self.realized = np.zeros(n_agents, dtype=np.int64)
        self.fees = np.zeros(n_agents, dtype=np.int64)
        self.slippage = np.zeros(n_agents, dtype=np.int64)
        self.traded = np.zeros(n_agents, dtype=np.int64)  # gross traded notional
        self.trades = np.zeros(n_agents, dtype=np.int64)  # number of fills
        self.market_value = np.zeros(n_agents, dtype=np.int64)
        self.last_close = np.zeros(m, dtype=np.int64)  # ticks; holds through missing bars
        self.equity = np.full(n_agents, initial_cash, dtype=np.int64)
        warm_up()

    @property
    def n_agents(self) -> int:
        return int(self.cash.shape[0])

    def apply(self, fills: FillBatch) -> None:
        """Book fills. Several fills of one (agent, instrument) are applied in row order."""
        if not len(fills):
            return
        f = fills
        book_fills(
            f.agent, f.instrument, f.side, f.qty, f.price, f.fee, f.slippage, self.unit_values,
            self.position, self.cost_basis, self._basis_total, self.realized, self.cash,
            self.fees, self.slippage, self.traded, self.trades,
        )  # fmt: skip

    def _apply_numpy(self, fills: FillBatch) -> None:
        """:meth:`apply` in numpy, by occurrence rank of each cell: the reference the
        compiled booking is tested against."""
        if not len(fills):
            return
        m = self.position.shape[1]
        key = fills.agent * m + fills.instrument
        # occurrence rank of each row within its key; nearly always 0 (one fill per key)
        ordered = bool((key[1:] >= key[:-1]).all())  # the kernel's fills are, by key
        order = np.arange(len(key)) if ordered else np.argsort(key, kind="stable")
        sorted_key = key if ordered else key[order]
        first = np.ones(len(key), dtype=bool)
        first[1:] = sorted_key[1:] != sorted_key[:-1]
        if first.all():
            self._apply_unique(fills, slice(None), key)
            return
        idx = np.arange(len(key))
        rank = np.empty_like(order)
        rank[order] = idx - np.maximum.accumulate(np.where(first, idx, 0))
        for r in range(int(rank.max()) + 1):
            rows = np.flatnonzero(rank == r)
            self._apply_unique(fills, rows, key[rows])

    def _apply_unique(self, f: FillBatch, rows: np.ndarray | slice, cell: np.ndarray) -> None:
        """Book ``rows``, whose (agent, instrument) cells ``cell`` (flat) are unique."""
        a, i = f.agent[rows], f.instrument[rows]
        side = f.side[rows].astype(np.int64)
        qty = f.qty[rows]
        notional = qty * f.price[rows] * self.unit_values[i]  # cash units, > 0
        fee = f.fee[rows]

        pos = self.position.take(cell)
        basis = self.cost_basis.take(cell)
        signed = side * qty
        # lots that close existing exposure (opposite sign), and lots that open new exposure
        closing = np.where(pos * signed < 0, np.minimum(np.abs(pos), qty), 0)
        opening = qty - closing
        safe_pos = np.where(pos == 0, 1, np.abs(pos))
        whole = basis // safe_pos  # floor(basis * closing / held), never the int64 product
        closed_cost = np.where(
            closing > 0, whole * closing + (basis - whole * safe_pos) * closing // safe_pos, 0
        )  # signed, like basis (book_fills.prorated says why)
        unit_price = f.price[rows] * self.unit_values[i]
        # closing proceeds (signed like the position): sell closes long → +, buy closes short → -
        close_value = -side * closing * unit_price
        realized = close_value - closed_cost

        # (agent, instrument) keys are unique here, agents are not: accumulate with add.at
        new_basis = basis - closed_cost + side * opening * unit_price
        np.put(self.cost_basis, cell, new_basis)
        np.add.at(self._basis_total, a, new_basis - basis)
        np.put(self.position, cell, pos + signed)
        np.add.at(self.realized, a, realized)
        np.add.at(self.cash, a, -(side * notional + fee))
        np.add.at(self.fees, a, fee)
        np.add.at(self.slippage, a, f.slippage[rows])
        np.add.at(self.traded, a, notional)
        np.add.at(self.trades, a, 1)

    def mark(self, close: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """Mark positions at ``close`` ticks (``int64[M]``); where no bar, the last mark holds.
        New arrays each step (callers keep the previous step's equity)."""
        last_close = self.last_close.copy()
        market_value = np.empty_like(self.cash)
        equity = np.empty_like(self.cash)
        mark_to_close(
            self.position, close, valid, last_close, self.unit_values, self.cash,
            market_value, equity,
        )  # fmt: skip
        self.last_close, self.market_value, self.equity = last_close, market_value, equity
        return equity

    def _mark_numpy(self, close: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """:meth:`mark` in numpy: the reference the compiled marking is tested against."""
        self.last_close = np.where(valid, close, self.last_close)
        self.market_value = self.position @ (self.last_close * self.unit_values)
        self.equity = self.cash + self.market_value
        return self.equity

    def avg_price(self) -> np.ndarray:
        """``float64[N, M]`` average entry price in ticks of each open position (NaN if flat)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(
                self.position != 0, self.cost_basis / (self.position * self.unit_values), np.nan
            )

    def unrealized(self) -> np.ndarray:
        """``market value − cost basis`` per agent (the basis total is kept as fills book)."""
        return self.market_value - self._basis_total
