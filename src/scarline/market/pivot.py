"""Long rows ⇄ the T * M panel.

:func:`to_market` turns a checked :class:`RawTable` into :class:`MarketData`: the union of all
timestamps becomes the time axis and ``valid`` is False where a symbol has no row or a row has
a missing value. :func:`from_market` is the inverse (only valid bars), used to write files and
to run G0 on a market that never was a file (the synthetic generator).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scarline.errors import DataError
from scarline.instrument import InstrumentSpec
from scarline.machine_memory import available_memory, gib
from scarline.market.frame import MarketData, Quotes
from scarline.market.frequency import infer_frequency
from scarline.market.raw import (
    OK,
    PRICE_COLUMNS,
    QUOTE_PRICE_COLUMNS,
    QUOTE_SIZE_COLUMNS,
    RawTable,
)


def to_market(raw: RawTable, *, name: str, source: str, frequency: str | None = None) -> MarketData:
    """Pivot rows into the panel; a duplicated (timestamp, symbol) keeps its last row."""
    keep = ~pd.DataFrame({"s": raw.symbol_codes, "t": raw.timestamps}).duplicated(keep="last")
    keep = keep.to_numpy()
    times = np.unique(raw.timestamps[keep])
    t_idx = np.searchsorted(times, raw.timestamps[keep])
    s_idx = raw.symbol_codes[keep]
    shape = (times.size, len(raw.symbols))
    _check_panel_memory(raw, shape, int(np.count_nonzero(keep)))

    def panel(values: np.ndarray, fill: float | int = 0) -> np.ndarray:
        out = np.full(shape, fill, dtype=values.dtype)
        out[t_idx, s_idx] = values[keep]
        return out

    valid = np.zeros(shape, dtype=bool)
    valid[t_idx, s_idx] = ~raw.any_missing()[keep]
    close = panel(raw.prices["close"])
    ohlc = {c: panel(raw.prices[c]) if raw.has_ohlc else close.copy() for c in PRICE_COLUMNS}
    zeros = np.zeros(shape, dtype=np.int64)
    volume = panel(raw.sizes["volume"]) if raw.has_volume else zeros
    quotes = None
    if raw.has_quotes:
        bid, ask = (panel(raw.prices[c]) for c in QUOTE_PRICE_COLUMNS)
        sizes = [
            panel(raw.sizes[c]) if c in raw.sizes else zeros.copy() for c in QUOTE_SIZE_COLUMNS
        ]
        quotes = Quotes(bid=bid, ask=ask, bid_size=sizes[0], ask_size=sizes[1])
    names = tuple(raw.exog)
    exog = np.full((*shape, len(names)), np.nan, dtype=np.float64)
    for k, col in enumerate(names):
        exog[t_idx, s_idx, k] = raw.exog[col][keep]
    instruments = tuple(
        InstrumentSpec(symbol=s, tick_size=t, lot_size=raw.lot_of(k))
        for k, (s, t) in enumerate(zip(raw.symbols, raw.tick_sizes, strict=True))
    )
    return MarketData(
        name=name,
        source=source,
        frequency=frequency or infer_frequency(times),
        timestamps=times.astype(np.int64),
        instruments=instruments,
        open=ohlc["open"],
        high=ohlc["high"],
        low=ohlc["low"],
        close=ohlc["close"],
        volume=volume,
        valid=valid,
        exog=exog,
        exog_names=names,
        has_ohlc=raw.has_ohlc,
        has_volume=raw.has_volume,
        quotes=quotes,
        meta=dict(raw.meta),
    )


PANEL_COPIES = 3
"""The panel is held about three times over before a run starts (the pivot, the market
normalized for the WAL, a run's features and subsets): what must fit in memory."""


def _check_panel_memory(raw: RawTable, shape: tuple[int, int], rows: int) -> None:
    """A :class:`DataError` when the ``[T, M]`` panel of ``raw`` could not fit in memory:
    rows of symbols that never share a timestamp pivot to a panel of T × M cells, however
    few rows there are (20,000 symbols with their own times: 20,000 × 20,000 of each field)."""
    have = available_memory()
    if have is None:
        return
    per_cell = 8 * (len(PRICE_COLUMNS) + 2 + len(raw.exog)) + 1  # prices, volume, zeros, exog
    if raw.has_quotes:
        per_cell += 8 * 4
    need = PANEL_COPIES * shape[0] * shape[1] * per_cell
    if need > have:
        raise DataError(
            f"{raw.source}: {rows:,} rows pivot to {shape[0]:,} timestamps × {shape[1]:,} "
            f"symbols, about {gib(need)} of arrays, but {gib(have)} is available: the symbols "
            "share few timestamps (resample them to common bars), or put fewer in the file"
        )


def from_market(market: MarketData, source: str | None = None) -> RawTable:
    """The valid bars of ``market`` as long rows, time-major (all symbols of t, then t+1)."""
    t_idx, s_idx = np.nonzero(market.valid)
    n = t_idx.size
    prices = {"close": market.close[t_idx, s_idx]}
    if market.has_ohlc:
        prices = {c: getattr(market, c)[t_idx, s_idx] for c in PRICE_COLUMNS}
    sizes = {"volume": market.volume[t_idx, s_idx]} if market.has_volume else {}
    if market.quotes is not None:
        q = market.quotes
        prices |= {"bid": q.bid[t_idx, s_idx], "ask": q.ask[t_idx, s_idx]}
        sizes |= {"bid_size": q.bid_size[t_idx, s_idx], "ask_size": q.ask_size[t_idx, s_idx]}
    missing = {c: np.full(n, OK, dtype=np.int8) for c in (*prices, *sizes)}
    exog = {name: market.exog[t_idx, s_idx, k] for k, name in enumerate(market.exog_names)}
    return RawTable(
        source=source or market.name,
        timestamps=market.timestamps[t_idx],
        symbol_codes=s_idx.astype(np.int64),
        symbols=tuple(market.symbols),
        tick_sizes=tuple(i.tick_size for i in market.instruments),
        prices=prices,
        sizes=sizes,
        missing=missing,
        exog=exog,
        rows=np.arange(1, n + 1, dtype=np.int64),
        has_ohlc=market.has_ohlc,
        has_volume=market.has_volume,
        meta=dict(market.meta),
    )
