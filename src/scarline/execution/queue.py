"""Queue approximation for resting limit orders on OHLCV bars.

Bars show no order book, so a limit order's place in the queue at its price is estimated,
in the spirit of hftbacktest's *risk-averse* queue model (the queue ahead only shrinks by
trades at our price, never by cancellations, and our order fills only once it is gone):

* at submission, the queue ahead is ``floor(queue_ahead_share * volume)`` of the bar the
  order was submitted on;
* a bar that trades *through* the limit (buy: ``low < limit``; sell: ``high > limit``)
  fills the order fully: everything at our price traded, queue ahead becomes 0;
* a bar that only *touches* it (buy: ``low == limit``; sell: ``high == limit``) trades an
  estimated ``touch = floor(touch_share * volume)`` lots at our price: they first consume
  the queue ahead, and what is left (``touch - queue``, at most the order's size) can fill;
  the queue ahead becomes ``max(queue - touch, 0)``;
* a bar that does not reach the limit fills nothing and leaves the queue unchanged.

Limit fills are maker fills at ``min(open, limit)`` for buys and ``max(open, limit)`` for
sells — a bar that gaps through the limit fills at the open — with no slippage. Orders of
several agents at one price each see the whole touch volume; the participation cap is what
makes them share a bar.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from scarline.execution.config import FillConfig
from scarline.execution.participation import share_lots


class QueueModel(Protocol):
    def initial(self, volume: np.ndarray) -> np.ndarray:
        """``int64[K]`` queue ahead of new orders given their submit bar's ``volume``."""
        ...

    def match(
        self,
        side: np.ndarray,
        limit: np.ndarray,
        qty: np.ndarray,
        queue: np.ndarray,
        low: np.ndarray,
        high: np.ndarray,
        volume: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(fillable, queue_after)``, ``int64[K]`` each, for resting orders on one bar."""
        ...


def limit_fill_price(side: np.ndarray, limit: np.ndarray, open_: np.ndarray) -> np.ndarray:
    """Buy ``min(open, limit)``, sell ``max(open, limit)``: never worse than the limit.

    A bar that opens beyond the limit (a gap through it) fills at its open.
    """
    return np.where(side > 0, np.minimum(open_, limit), np.maximum(open_, limit))


class RiskAverseBarQueue:
    """The model in the module docstring."""

    def __init__(self, touch_share: float, queue_ahead_share: float) -> None:
        if not 0 <= touch_share <= 1 or queue_ahead_share < 0:
            raise ValueError("touch_share must be in [0, 1] and queue_ahead_share >= 0")
        self.touch_share = float(touch_share)
        self.queue_ahead_share = float(queue_ahead_share)

    def initial(self, volume: np.ndarray) -> np.ndarray:
        return share_lots(self.queue_ahead_share, volume)

    def match(
        self,
        side: np.ndarray,
        limit: np.ndarray,
        qty: np.ndarray,
        queue: np.ndarray,
        low: np.ndarray,
        high: np.ndarray,
        volume: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        buy = side > 0
        through = np.where(buy, low < limit, high > limit)
        touch = np.where(buy, low == limit, high == limit)
        touch_lots = share_lots(self.touch_share, volume)
        at_touch = np.clip(touch_lots - queue, 0, qty)
        fillable = np.where(through, qty, np.where(touch, at_touch, 0))
        queue_after = np.where(
            through, 0, np.where(touch, np.maximum(queue - touch_lots, 0), queue)
        )
        return fillable.astype(np.int64), queue_after.astype(np.int64)


def build_queue_model(cfg: FillConfig) -> QueueModel:
    if cfg.queue == "risk-averse":
        return RiskAverseBarQueue(cfg.touch_share, cfg.queue_ahead_share)
    raise ValueError(f"unknown queue model {cfg.queue!r}")
