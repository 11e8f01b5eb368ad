"""Struct-of-arrays batches that flow between the kernel, the risk engine and the broker.

Batch-first: one step's orders of all N agents are one :class:`OrderBatch` of K rows, not K
objects. Rows are always sorted by ``order_id`` (which increases in submission order), so
every vectorized routine that groups rows keeps a deterministic order.

Units: ``qty`` in lots (always > 0; direction is ``side``), prices in instrument ticks,
money in *cash units* (:data:`CASH_SCALE` per currency unit), all int64 — accounting is
exact integer arithmetic, so cash + marked positions = equity holds to the unit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scarline.instrument import CASH_SCALE as CASH_SCALE  # defined with the ticks it holds

MAX_MONEY = 1e10
"""The largest amount of money a config may name (currency units): 10¹⁸ cash units, so
int64 accounts keep headroom for gains."""

MARKET, LIMIT = 0, 1
BUY, SELL = 1, -1


def unit_value_problem(tick: str, lot: str) -> str | None:
    """Why one lot moving one tick is not a whole, positive number of cash units (None when
    it is): the accounts could not book that instrument exactly."""
    from decimal import Decimal

    value = Decimal(tick) * Decimal(lot) * CASH_SCALE
    if value != value.to_integral_value() or value <= 0:
        return (
            f"tick {tick} x lot {lot} is finer than one cash unit (1/{CASH_SCALE} of the "
            "currency): use a coarser lot size or tick size for this instrument"
        )
    return None


def unit_values(tick_sizes: list[str], lot_sizes: list[str]) -> np.ndarray:
    """``int64[M]``: cash units of one lot moving one tick (tick × lot × CASH_SCALE, exact)."""
    from decimal import Decimal

    out = []
    for tick, lot in zip(tick_sizes, lot_sizes, strict=True):
        problem = unit_value_problem(tick, lot)
        if problem is not None:
            raise ValueError(problem)
        out.append(int(Decimal(tick) * Decimal(lot) * CASH_SCALE))
    return np.array(out, dtype=np.int64)


def _empty(dtype: type) -> np.ndarray:
    return np.zeros(0, dtype=dtype)


@dataclass(frozen=True, eq=False)
class OrderBatch:
    """K orders. ``agent`` is the agent's row in the population (0..N-1)."""

    order_id: np.ndarray  # int64[K], unique, increasing
    agent: np.ndarray  # int64[K]
    instrument: np.ndarray  # int64[K]
    side: np.ndarray  # int8[K], +1 buy / -1 sell
    qty: np.ndarray  # int64[K] lots, > 0
    order_type: np.ndarray  # int8[K], MARKET or LIMIT
    limit_price: np.ndarray  # int64[K] ticks (0 for market orders)
    decision_step: np.ndarray  # int64[K], the step whose close produced the order
    reducing: np.ndarray  # bool[K], True when the order only reduces |position|

    def __len__(self) -> int:
        return int(self.order_id.shape[0])

    def take(self, index: np.ndarray) -> OrderBatch:
        """Rows ``index`` (an int array or bool mask), keeping their order."""
        return OrderBatch(*(getattr(self, f)[index] for f in self.__dataclass_fields__))

    def with_qty(self, qty: np.ndarray) -> OrderBatch:
        return OrderBatch(
            self.order_id,
            self.agent,
            self.instrument,
            self.side,
            qty,
            self.order_type,
            self.limit_price,
            self.decision_step,
            self.reducing,
        )

    @staticmethod
    def empty() -> OrderBatch:
        i8, i64 = np.int8, np.int64
        return OrderBatch(
            _empty(i64),
            _empty(i64),
            _empty(i64),
            _empty(i8),
            _empty(i64),
            _empty(i8),
            _empty(i64),
            _empty(i64),
            _empty(bool),
        )

    @staticmethod
    def concat(batches: list[OrderBatch]) -> OrderBatch:
        batches = [b for b in batches if len(b)]
        if not batches:
            return OrderBatch.empty()
        fields = OrderBatch.__dataclass_fields__
        out = OrderBatch(*(np.concatenate([getattr(b, f) for b in batches]) for f in fields))
        return out.take(np.argsort(out.order_id, kind="stable"))


@dataclass(frozen=True, eq=False)
class FillBatch:
    """F fills; ``price`` already includes slippage, ``ref_price`` is the price before it."""

    order_id: np.ndarray  # int64[F]
    agent: np.ndarray  # int64[F]
    instrument: np.ndarray  # int64[F]
    side: np.ndarray  # int8[F]
    qty: np.ndarray  # int64[F] lots, > 0
    price: np.ndarray  # int64[F] ticks, the execution price
    ref_price: np.ndarray  # int64[F] ticks, open (market) or limit price before slippage
    fee: np.ndarray  # int64[F] cash units
    slippage: np.ndarray  # int64[F] cash units paid to slippage (>= 0 when adverse)
    maker: np.ndarray  # bool[F], True for resting limit orders

    def __len__(self) -> int:
        return int(self.order_id.shape[0])

    @staticmethod
    def empty() -> FillBatch:
        i8, i64 = np.int8, np.int64
        return FillBatch(
            _empty(i64),
            _empty(i64),
            _empty(i64),
            _empty(i8),
            _empty(i64),
            _empty(i64),
            _empty(i64),
            _empty(i64),
            _empty(i64),
            _empty(bool),
        )


@dataclass(frozen=True, eq=False)
class RejectBatch:
    """R orders (or remainders) the broker refused; ``reason`` indexes :data:`REJECT_REASONS`."""

    order_id: np.ndarray  # int64[R]
    agent: np.ndarray  # int64[R]
    qty: np.ndarray  # int64[R] lots refused
    reason: np.ndarray  # int8[R]

    def __len__(self) -> int:
        return int(self.order_id.shape[0])

    @staticmethod
    def empty() -> RejectBatch:
        return RejectBatch(_empty(np.int64), _empty(np.int64), _empty(np.int64), _empty(np.int8))


REJECT_REASONS: tuple[str, ...] = (
    "no_bar",  # the instrument has no bar at the execution step
    "insufficient_cash",  # a buy costs more than the agent's cash
    "limit_expired",  # a resting limit order outlived its time in force
    "no_liquidity",  # participation cap left nothing for this order
    "cancelled",  # replaced by a newer decision or flattened by the kill switch
)


@dataclass(frozen=True, eq=False)
class BarSlice:
    """Row t of the market, what the broker may see when executing at step t (``[M]`` each)."""

    step: int
    ts: int
    open: np.ndarray  # int64 ticks
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray  # int64 lots
    valid: np.ndarray  # bool
    volatility: np.ndarray  # float64, causal per-bar return volatility estimate up to t-1
