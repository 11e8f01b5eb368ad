"""Cut a market down to a date range and a list of symbols (from ``[data]`` in the config)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from scarline.errors import ConfigError
from scarline.market.frame import MarketData, Quotes


def _ns(date: str, field: str) -> int:
    try:
        return int(np.datetime64(date, "ns").astype(np.int64))
    except ValueError:
        raise ConfigError(f"data.{field}: cannot parse {date!r} as a date") from None


def subset(
    market: MarketData,
    start: str | None = None,
    end: str | None = None,
    symbols: list[str] | None = None,
) -> MarketData:
    """Rows in ``[start, end]`` (a date ``end`` includes its whole day) and the named symbols."""
    ts = market.timestamps
    lo = 0 if start is None else int(np.searchsorted(ts, _ns(start, "start"), "left"))
    if end is None:
        hi = len(ts)
    else:
        end_ns = _ns(end, "end")
        if len(end) <= 10:  # a date: include that whole day
            end_ns += 86_400 * 10**9 - 1
        hi = int(np.searchsorted(ts, end_ns, "right"))
    if hi <= lo:
        raise ConfigError(f"data: no rows of {market.name!r} between {start} and {end}")
    out = market.slice(lo, hi)
    if symbols is None:
        return out
    known = out.symbols
    missing = [s for s in symbols if s not in known]
    if missing:
        raise ConfigError(f"data.symbols: {missing} not in {market.name!r} (has {known})")
    cols = np.array([known.index(s) for s in symbols])
    q = out.quotes
    return replace(
        out,
        instruments=tuple(out.instruments[i] for i in cols),
        open=out.open[:, cols],
        high=out.high[:, cols],
        low=out.low[:, cols],
        close=out.close[:, cols],
        volume=out.volume[:, cols],
        valid=out.valid[:, cols],
        exog=out.exog[:, cols],
        quotes=None
        if q is None
        else Quotes(q.bid[:, cols], q.ask[:, cols], q.bid_size[:, cols], q.ask_size[:, cols]),
    )
