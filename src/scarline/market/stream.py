"""Market data as canonical events and back.

A run writes every bar (and quote) it consumes to the WAL; replay rebuilds the identical
:class:`MarketData` from those events alone, without reading the dataset again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import numpy as np

from scarline.errors import WalError
from scarline.events import Bar, Quote, SessionStart
from scarline.market.frame import MarketData, Quotes
from scarline.session import SessionIds


def normalized(market: MarketData) -> MarketData:
    """Zero every field where no bar exists and drop the time rows where no instrument has
    a bar, so a market equals its own WAL round trip.

    A step journals a ``Bar`` per valid cell and replay rebuilds the time axis from them: a
    row without any bar (a file's only row at a time with a missing price, or the times of
    symbols ``data.symbols`` left out) would be stepped by the run but not by the replay,
    shifting every later record. Run and replay both step only rows with a bar.
    """
    rows = np.flatnonzero(market.valid.any(axis=1))
    if rows.size < market.n_steps:
        market = market.rows(rows)
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
    """Builds the Bar/Quote events of step ``t`` from the market's arrays, a row at a time.

    Rows become Python lists only when their step is emitted: converting the whole market
    up front cost more than every step's share of it (an empty ``exog`` alone became a list
    per cell), and a gate re-run deep-copies a stepped prefix kernel per block permutation
    (:mod:`scarline.gating.prefix`), where held lists were most of what got copied."""

    def __init__(self, market: MarketData, ids: SessionIds) -> None:
        self._run_id, self._session_id = ids.run_id, ids.session_id
        self.extend(market)

    def extend(self, market: MarketData) -> None:
        """Emit from ``market`` from now on (a live market grows by rows; the rows already
        emitted are the same in it)."""
        self._cols = (market.open, market.high, market.low, market.close, market.volume)
        self._valid = market.valid
        self._exog = market.exog
        q = market.quotes
        self._quotes = None if q is None else (q.bid, q.ask, q.bid_size, q.ask_size)

    def __deepcopy__(self, memo: dict[int, object]) -> BarEmitter:
        """A copy reading the same arrays: the emitter never writes them (a market is
        replaced by :meth:`extend`, never changed in place)."""
        out = BarEmitter.__new__(BarEmitter)
        out.__dict__.update(self.__dict__)
        return out

    def bars(self, t: int) -> list[Bar]:
        o, h, lo, c, v = (col[t].tolist() for col in self._cols)
        exog = self._exog[t].tolist()
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
                exog=exog[m],
            )
            for m, ok in enumerate(self._valid[t].tolist())
            if ok
        ]

    def quotes(self, t: int) -> list[Quote]:
        if self._quotes is None:
            return []
        bid, ask, bsz, asz = (col[t].tolist() for col in self._quotes)
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
            for m, ok in enumerate(self._valid[t].tolist())
            if ok
        ]


def _check_event(ts: int, event: Bar | Quote, m_n: int, k_n: int) -> None:
    """A record the market cannot hold (a chain-valid WAL can still say anything) is a
    :class:`WalError` naming it, not an IndexError deep in numpy."""
    kind = type(event).__name__
    if not 0 <= event.instrument < m_n:
        raise WalError(
            f"the WAL's {kind} at ts {ts} names instrument {event.instrument}, but its "
            f"SessionStart lists {m_n} instrument(s) (0..{m_n - 1})"
        )
    fields: tuple[str, ...] = ("open", "high", "low", "close", "volume")
    if isinstance(event, Quote):
        fields = ("bid", "ask", "bid_size", "ask_size")
    for name in fields:
        value = getattr(event, name)
        if not -(2**63) <= value < 2**63:
            raise WalError(
                f"the WAL's {kind} of instrument {event.instrument} at ts {ts} has {name} "
                f"{value}, outside int64"
            )
    if isinstance(event, Bar) and len(event.exog) != k_n:
        raise WalError(
            f"the WAL's Bar of instrument {event.instrument} at ts {ts} has "
            f"{len(event.exog)} exogenous values, its SessionStart names {k_n}"
        )


def market_from_events(
    start: SessionStart, records: Iterable[tuple[int, Bar | Quote]]
) -> MarketData:
    """Rebuild a session's market from its SessionStart and its (ts, Bar | Quote) stream."""
    bars: list[tuple[int, Bar]] = []
    quotes: list[tuple[int, Quote]] = []
    m_n, k_n = len(start.instruments), len(start.exog_names)
    for ts, event in records:
        _check_event(ts, event, m_n, k_n)
        if isinstance(event, Bar):
            bars.append((ts, event))
        else:
            quotes.append((ts, event))
    timestamps = np.array(sorted({ts for ts, _ in bars}), dtype=np.int64)
    row = {int(ts): i for i, ts in enumerate(timestamps)}
    t_n = len(timestamps)
    for ts, e in quotes:
        if ts not in row:
            raise WalError(f"the WAL's Quote of instrument {e.instrument} at ts {ts} has no Bar")
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
