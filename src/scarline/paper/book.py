"""The market of a live session, one closed row at a time.

A row is the bars of every instrument that closed at one venue time (``ts``, the bars'
open). Prices become integer ticks and volumes integer lots of each instrument through
:mod:`scarline.instrument` (decimal text, never a float), so a BTC volume of ``"12.34567"``
at a lot of ``0.00001`` is ``1234567`` lots. An instrument without a good bar at a row is
not valid there (no bar is journaled, nothing trades on it).

Arrays grow by doubling; :meth:`LiveBook.market` is a view of the rows so far, built the
way :func:`scarline.market.stream.market_from_events` rebuilds it from the WAL, so the
session's kernel and a replay's see the same market.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

import numpy as np

from scarline.instrument import InstrumentSpec, price_to_ticks, to_units
from scarline.market.feeds.port import Candle, Quote
from scarline.market.frame import MarketData, Quotes
from scarline.market.frequency import Calendar

_FIELDS = ("open", "high", "low", "close", "volume")


class LiveBook:
    """Rows of closed bars, in time order, for ``instruments`` (fixed for the session)."""

    def __init__(
        self,
        instruments: Sequence[InstrumentSpec],
        *,
        name: str,
        frequency: str,
        calendar: Calendar = "24/7",
        has_volume: bool = True,
        has_quotes: bool = False,
        meta: dict[str, str] | None = None,
        capacity: int = 256,
    ) -> None:
        self.instruments = tuple(instruments)
        self.index = {spec.symbol: m for m, spec in enumerate(self.instruments)}
        self.name, self.frequency, self.calendar = name, frequency, calendar
        self.has_volume = has_volume
        self.meta = dict(meta or {})
        m = len(self.instruments)
        self._n = 0
        self._ts = np.zeros(capacity, dtype=np.int64)
        self._ohlcv = np.zeros((5, capacity, m), dtype=np.int64)
        self._valid = np.zeros((capacity, m), dtype=bool)
        # best bid/ask and sizes (ticks, lots) of each row: the feed's latest quote per symbol
        # when the row closed, 0 where it has none yet; None: the feed gives no quotes
        self._quotes = np.zeros((4, capacity, m), dtype=np.int64) if has_quotes else None

    @property
    def n_rows(self) -> int:
        return self._n

    @property
    def last_ts(self) -> int | None:
        """Venue open time of the last row (None before the first)."""
        return int(self._ts[self._n - 1]) if self._n else None

    def units(self, candle: Candle) -> tuple[int, int, int, int, int]:
        """``(open, high, low, close)`` in ticks and the volume in lots of its instrument
        (``ValueError`` naming the text when one is no finite number)."""
        spec = self.instruments[self.index[candle.symbol]]
        o, h, lo, c = (price_to_ticks(getattr(candle, f), spec) for f in _FIELDS[:4])
        volume = to_units(candle.volume, spec.lot) if self.has_volume else 0
        return o, h, lo, c, volume

    def quote_units(self, quote: Quote) -> tuple[int, int, int, int]:
        """``(bid, ask)`` in ticks and ``(bid_size, ask_size)`` in lots (0 where missing).

        ``ValueError`` for a quote no fill may be priced from: a negative price or size, or
        a crossed book (bid above ask), which would let a buy fill below a sell. A backtest's
        G0 refuses the same (``crossed_quote``, ``negative_size``)."""
        spec = self.instruments[self.index[quote.symbol]]

        def units(text: str | None, unit: Decimal) -> int:
            return 0 if text is None else to_units(text, unit)

        out = (
            units(quote.bid, spec.tick),
            units(quote.ask, spec.tick),
            units(quote.bid_size, spec.lot),
            units(quote.ask_size, spec.lot),
        )
        bid, ask = out[0], out[1]
        if min(out) < 0:
            raise ValueError(f"negative price or size in the quote of {quote.symbol!r}")
        if bid and ask and bid > ask:
            raise ValueError(f"crossed quote of {quote.symbol!r}: bid {quote.bid} > {quote.ask}")
        return out

    def append(
        self,
        ts: int,
        candles: Mapping[int, Candle],
        quotes: Mapping[int, tuple[int, int, int, int]] | None = None,
    ) -> MarketData:
        """Add the row at venue time ``ts`` from ``candles`` by instrument (and the latest
        ``quotes``, in units, by instrument); the market so far. Rows come in time order."""
        last = self.last_ts
        if last is not None and ts <= last:
            raise ValueError(f"row at {ts} is not after the last row at {last}")
        if self._n == len(self._ts):
            self._grow()
        t = self._n
        self._ts[t] = ts
        for m, candle in candles.items():
            self._ohlcv[:, t, m] = self.units(candle)
            self._valid[t, m] = True
            if self._quotes is not None and quotes is not None and m in quotes:
                self._quotes[:, t, m] = quotes[m]
        self._n += 1
        return self.market()

    def load(self, market: MarketData) -> None:
        """Start from ``market``'s rows (a resumed session's, rebuilt from its WAL)."""
        if market.instruments != self.instruments:
            raise ValueError("the recorded market has other instruments than the feed")
        self._n = 0
        while len(self._ts) < market.n_steps:
            self._grow()
        n = market.n_steps
        self._ts[:n] = market.timestamps
        for i, name in enumerate(_FIELDS):
            self._ohlcv[i, :n] = getattr(market, name)
        self._valid[:n] = market.valid
        if self._quotes is not None and market.quotes is not None:
            q = market.quotes
            for i, a in enumerate((q.bid, q.ask, q.bid_size, q.ask_size)):
                self._quotes[i, :n] = a
        self._n = n

    def market(self) -> MarketData:
        """The rows so far as a market (views, no copy)."""
        n, m = self._n, len(self.instruments)
        o, h, lo, c, v = (self._ohlcv[i, :n] for i in range(5))
        return MarketData(
            name=self.name,
            source="live",
            frequency=self.frequency,
            timestamps=self._ts[:n],
            instruments=self.instruments,
            open=o,
            high=h,
            low=lo,
            close=c,
            volume=v,
            valid=self._valid[:n],
            exog=np.zeros((n, m, 0), dtype=np.float64),
            has_volume=self.has_volume,
            quotes=None if self._quotes is None else Quotes(*(q[:n] for q in self._quotes)),
            meta=dict(self.meta),
            calendar=self.calendar,
        )

    def _grow(self) -> None:
        size = 2 * len(self._ts)
        ts = np.zeros(size, dtype=np.int64)
        ts[: self._n] = self._ts[: self._n]
        ohlcv = np.zeros((5, size, len(self.instruments)), dtype=np.int64)
        ohlcv[:, : self._n] = self._ohlcv[:, : self._n]
        valid = np.zeros((size, len(self.instruments)), dtype=bool)
        valid[: self._n] = self._valid[: self._n]
        self._ts, self._ohlcv, self._valid = ts, ohlcv, valid
        if self._quotes is not None:
            quotes = np.zeros((4, size, len(self.instruments)), dtype=np.int64)
            quotes[:, : self._n] = self._quotes[:, : self._n]
            self._quotes = quotes
