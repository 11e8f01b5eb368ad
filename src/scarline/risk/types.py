"""What the kernel hands the risk engine for a check, and what it gets back.

Struct-of-arrays like :mod:`scarline.execution.types`: per-intent arrays align with the
intents' rows (sorted by ``order_id``), so the whole verdict of a step is one WAL record.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scarline.execution.types import OrderBatch


@dataclass(frozen=True, eq=False)
class RiskContext:
    """The book and the market as of the close of step t (what a check may look at)."""

    position: np.ndarray  # int64[N, M] lots, signed
    pending: np.ndarray  # int64[N, M] lots, signed net of working orders
    cash: np.ndarray  # int64[N] cash units
    equity: np.ndarray  # int64[N] cash units
    last_price: np.ndarray  # int64[M] ticks (close of t)
    bid: np.ndarray | None = None  # int64[M] ticks, when quotes exist
    ask: np.ndarray | None = None  # int64[M] ticks
    quote_ts: np.ndarray | None = None  # int64[M] ns of each instrument's last quote
    now_ts: int = 0  # ns, the clock at the check
    # int64[N, M] lots of working sells (>= 0; buys are pending + pending_sells): given, a
    # check counts working orders by side, each as if only its side fills (schema 14 on);
    # None, by their net (the runs before, replayed as they were)
    pending_sells: np.ndarray | None = None
    # microstructure measures of bar t (scarline.features.microstructure), when filters are on
    vpin: np.ndarray | None = None  # float64[M], VPIN-lite; NaN = undefined
    imbalance: np.ndarray | None = None  # float64[M], L1 book imbalance; NaN = no size
    stale_bars: np.ndarray | None = None  # int64[M], bars since the quote changed; -1 = none
    quote_invalid: np.ndarray | None = None  # bool[M], bid <= 0 or ask <= bid
    spread_z: np.ndarray | None = None  # float64[M], spread z-score; NaN = undefined

    def validate(self, n: int, m: int) -> None:
        """Shape errors are kernel bugs: fail loudly, naming the field."""
        for name, per in _SHAPES:
            value = getattr(self, name)
            if value is None:
                continue
            shape = (n, m) if per == "nm" else (n,) if per == "n" else (m,)
            if np.shape(value) != shape:
                raise ValueError(
                    f"RiskContext.{name} must have shape {shape}, got {np.shape(value)}"
                )


_SHAPES = (
    ("position", "nm"), ("pending", "nm"), ("pending_sells", "nm"), ("cash", "n"),
    ("equity", "n"), ("last_price", "m"), ("bid", "m"), ("ask", "m"), ("quote_ts", "m"),
    ("vpin", "m"), ("imbalance", "m"), ("stale_bars", "m"), ("quote_invalid", "m"),
    ("spread_z", "m"),
)  # fmt: skip
"""Each field's shape: per agent and instrument, per agent, or per instrument."""


@dataclass(frozen=True, eq=False)
class RiskDecision:
    """The verdict on K intents: the batch that may go to the broker, and why, per row."""

    intents: OrderBatch  # the K intents as submitted
    approved: OrderBatch  # rows with approved_qty > 0, qty = approved_qty
    outcome: np.ndarray  # int8[K], index into codes.OUTCOMES
    rule: np.ndarray  # int16[K], index into codes.RULES (the binding rule or "none")
    value: np.ndarray  # float64[K], the binding rule's measured value
    limit: np.ndarray  # float64[K], the binding rule's limit
    requested: np.ndarray  # int64[K] lots
    approved_qty: np.ndarray  # int64[K] lots (0 = refused)
    flatten: bool = False  # the kill switch fired: the kernel must flatten every position

    def __len__(self) -> int:
        return int(self.outcome.shape[0])
