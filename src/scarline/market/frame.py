"""The in-memory market: aligned integer arrays over time × instruments.

Whatever the source (a package dataset, a CSV, the synthetic generator or the bars read
back from a WAL), the kernel sees one :class:`MarketData`. Prices are int64 ticks and
volumes int64 lots, so the same market always hashes and replays the same.
"""

from __future__ import annotations

import builtins
import hashlib
from dataclasses import dataclass, field

import numpy as np

from scarline.instrument import InstrumentSpec
from scarline.market.frequency import Calendar

NS_PER_DAY = 86_400 * 10**9


@dataclass(frozen=True, eq=False)
class Quotes:
    """L1 quotes aligned with the bars (ticks and lots), ``int64[T, M]`` each."""

    bid: np.ndarray
    ask: np.ndarray
    bid_size: np.ndarray
    ask_size: np.ndarray


@dataclass(frozen=True, eq=False)
class MarketData:
    """T timestamps × M instruments of bars, with a mask of which bars exist.

    ``open/high/low/close`` are ``int64[T, M]`` ticks, ``volume`` ``int64[T, M]`` lots,
    ``valid`` ``bool[T, M]`` (False where an instrument has no bar at that time), ``exog``
    ``float64[T, M, K]`` exogenous columns observable at their bar's close.
    """

    name: str
    source: str
    frequency: str
    timestamps: np.ndarray
    instruments: tuple[InstrumentSpec, ...]
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    valid: np.ndarray
    exog: np.ndarray
    exog_names: tuple[str, ...] = ()
    has_ohlc: bool = True
    has_volume: bool = True
    quotes: Quotes | None = None
    meta: dict[str, str] = field(default_factory=dict)
    calendar: Calendar = "exchange"  # how many bars a year holds: see periods_per_year

    @property
    def n_steps(self) -> int:
        return int(self.timestamps.shape[0])

    @property
    def n_instruments(self) -> int:
        return len(self.instruments)

    @property
    def symbols(self) -> list[str]:
        return [i.symbol for i in self.instruments]

    def tick_sizes(self) -> np.ndarray:
        """``float64[M]``: the value of one tick per instrument."""
        return np.array([i.tick_float for i in self.instruments], dtype=np.float64)

    def prices(self, which: str = "close") -> np.ndarray:
        """``float64[T, M]`` prices in currency units (NaN where no bar)."""
        ticks = getattr(self, which)
        out = ticks.astype(np.float64) * self.tick_sizes()[None, :]
        out[~self.valid] = np.nan
        return out

    def slice(self, start: int, stop: int) -> MarketData:
        """Rows ``start:stop`` as a new market (used for in/out-of-sample splits)."""
        return self.rows(slice(start, stop))

    def rows(self, s: builtins.slice | np.ndarray) -> MarketData:
        """The rows ``s`` selects (a slice, an index array or a boolean mask) as a new market."""
        quotes = None
        if self.quotes is not None:
            q = self.quotes
            quotes = Quotes(q.bid[s], q.ask[s], q.bid_size[s], q.ask_size[s])
        return MarketData(
            name=self.name,
            source=self.source,
            frequency=self.frequency,
            timestamps=self.timestamps[s],
            instruments=self.instruments,
            open=self.open[s],
            high=self.high[s],
            low=self.low[s],
            close=self.close[s],
            volume=self.volume[s],
            valid=self.valid[s],
            exog=self.exog[s],
            exog_names=self.exog_names,
            has_ohlc=self.has_ohlc,
            has_volume=self.has_volume,
            quotes=quotes,
            meta=dict(self.meta),
            calendar=self.calendar,
        )

    def content_hash(self) -> str:
        """sha256 over every array and the instrument specs: the identity of this market."""
        h = hashlib.sha256()
        for spec in self.instruments:
            h.update(f"{spec.symbol}|{spec.tick_size}|{spec.lot_size}|".encode())
        h.update("|".join(self.exog_names).encode())
        arrays = [
            self.timestamps,
            self.open,
            self.high,
            self.low,
            self.close,
            self.volume,
            self.valid,
            self.exog,
        ]
        if self.quotes is not None:
            arrays += [self.quotes.bid, self.quotes.ask, self.quotes.bid_size, self.quotes.ask_size]
        for a in arrays:
            h.update(np.ascontiguousarray(a).tobytes())
        return h.hexdigest()

    def time_range(self) -> tuple[np.datetime64, np.datetime64]:
        ts = self.timestamps.astype("datetime64[ns]")
        return ts[0], ts[-1]
