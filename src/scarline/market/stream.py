"""Market data as canonical events and back.

A run writes every bar (and quote) it consumes to the WAL; replay rebuilds the identical
:class:`MarketData` from those events alone, without reading the dataset again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import numpy as np

from scarline.events import Bar, Quote, SessionStart
from scarline.market.frame import MarketData, Quotes


def normalized(market: MarketData) -> MarketData:
    """Zero every field where no bar exists, so a market equals its own WAL round trip."""
    invalid = ~market.valid

    def clean(a: np.ndarray) -> np.ndarray:
        out = a.copy()
        out[invalid] = 0
        return out

    exog = np.nan_to_num(market.exog.copy(), nan=0.0, posinf=0.0, neginf=0.0)
    exog[invalid] = 0.0
    quotes = market.quotes
    if quotes is not None:
        quotes = Quotes(
            clean(quotes.bid), clean(quotes.ask), clean(quotes.bid_size), clean(quotes.ask_size)
        )
    return replace(
        market,
        open=clean(market.open),
        high=clean(market.high),
        low=clean(market.low),
        close=clean(market.close),
        volume=clean(market.volume),
        exog=exog,
        quotes=quotes,
    )


class BarEmitter:
    """Builds the Bar/Quote events of step ``t``; arrays are turned into Python lists once."""

    def __init__(self, market: MarketData, run_id: str, session_id: str) -> None:
        self._run_id, self._session_id = run_id, session_id
        self._cols = [
            a.tolist() for a in (market.open, market.high, market.low, market.close, market.volume)
        ]
        self._valid = market.valid.tolist()
        self._exog = market.exog.tolist()
        q = market.quotes
        self._quotes = (
            None if q is None else [a.tolist() for a in (q.bid, q.ask, q.bid_size, q.ask_size)]
        )

    def bars(self, t: int) -> list[Bar]:
        o, h, lo, c, v = (col[t] for col in self._cols)
        return [
            Bar(
                run_id=self._run_id,
                session_id=self._session_id,
                instrument=m,
                open=o[m],
                high=h[m],
                low=lo[m],
                close=c[m],
                volume=v[m],
                exog=self._exog[t][m],
            )
            for m, ok in enumerate(self._valid[t])
            if ok
        ]

    def quotes(self, t: int) -> list[Quote]:
        if self._quotes is None:
            return []
        bid, ask, bsz, asz = (col[t] for col in self._quotes)
        return [
            Quote(
                run_id=self._run_id,
                session_id=self._session_id,
                instrument=m,
                bid=bid[m],
                ask=ask[m],
                bid_size=bsz[m],
                ask_size=asz[m],
            )
            for m, ok in enumerate(self._valid[t])
            if ok
        ]


def market_from_events(
    start: SessionStart, records: Iterable[tuple[int, Bar | Quote]]
) -> MarketData:
    """Rebuild a session's market from its SessionStart and its (ts, Bar | Quote) stream."""
    bars: list[tuple[int, Bar]] = []
    quotes: list[tuple[int, Quote]] = []
    for ts, event in records:
        (bars if isinstance(event, Bar) else quotes).append((ts, event))
    timestamps = np.array(sorted({ts for ts, _ in bars}), dtype=np.int64)
    row = {int(ts): i for i, ts in enumerate(timestamps)}
    t_n, m_n, k_n = len(timestamps), len(start.instruments), len(start.exog_names)
    ohlcv = np.zeros((5, t_n, m_n), dtype=np.int64)
    valid = np.zeros((t_n, m_n), dtype=bool)
    exog = np.zeros((t_n, m_n, k_n), dtype=np.float64)
    for ts, b in bars:
        t = row[ts]
        ohlcv[:, t, b.instrument] = (b.open, b.high, b.low, b.close, b.volume)
        valid[t, b.instrument] = True
        if k_n:
            exog[t, b.instrument] = b.exog
    quote_arrays = None
    if quotes:
        q = np.zeros((4, t_n, m_n), dtype=np.int64)
        for ts, e in quotes:
            q[:, row[ts], e.instrument] = (e.bid, e.ask, e.bid_size, e.ask_size)
        quote_arrays = Quotes(q[0], q[1], q[2], q[3])
    return MarketData(
        name=start.universe,
        source="wal",
        frequency=start.frequency,
        timestamps=timestamps,
        instruments=tuple(start.instruments),
        open=ohlcv[0],
        high=ohlcv[1],
        low=ohlcv[2],
        close=ohlcv[3],
        volume=ohlcv[4],
        valid=valid,
        exog=exog,
        exog_names=tuple(start.exog_names),
        has_ohlc=start.has_ohlc,
        has_volume=start.has_volume,
        quotes=quote_arrays,
    )
