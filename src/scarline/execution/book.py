"""The broker's pending orders: an :class:`OrderBatch` plus per-order execution state.

Struct of arrays, rows sorted by ``order_id`` like every batch, so selecting the due rows,
updating remaining quantities and dropping finished orders are whole-array operations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scarline.execution.types import OrderBatch


@dataclass(frozen=True, eq=False)
class PendingBook:
    """``orders.qty`` is the remaining quantity; ``first_due`` is -1 until the order is due."""

    orders: OrderBatch
    min_step: np.ndarray  # int64[P], earliest step the order may execute
    min_ts: np.ndarray  # int64[P], earliest bar timestamp it may execute at
    first_due: np.ndarray  # int64[P], step of the first bar it was due at, or -1
    queue: np.ndarray  # int64[P], lots ahead of a limit order at its price

    def __len__(self) -> int:
        return len(self.orders)

    @staticmethod
    def empty() -> PendingBook:
        z = np.zeros(0, dtype=np.int64)
        return PendingBook(OrderBatch.empty(), z, z, z, z)

    def take(self, index: np.ndarray) -> PendingBook:
        return PendingBook(
            self.orders.take(index),
            self.min_step[index],
            self.min_ts[index],
            self.first_due[index],
            self.queue[index],
        )

    def append(self, other: PendingBook) -> PendingBook:
        """Both books sorted, every id of ``other`` above every id of ``self``."""
        if not len(self):
            return other
        fields = OrderBatch.__dataclass_fields__
        a, b = self.orders, other.orders
        orders = OrderBatch(*(np.concatenate([getattr(a, f), getattr(b, f)]) for f in fields))
        return PendingBook(
            orders,
            np.concatenate([self.min_step, other.min_step]),
            np.concatenate([self.min_ts, other.min_ts]),
            np.concatenate([self.first_due, other.first_due]),
            np.concatenate([self.queue, other.queue]),
        )

    def updated(self, qty: np.ndarray, first_due: np.ndarray, queue: np.ndarray) -> PendingBook:
        return PendingBook(self.orders.with_qty(qty), self.min_step, self.min_ts, first_due, queue)
