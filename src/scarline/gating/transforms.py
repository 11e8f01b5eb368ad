"""Market transformations that build placebo markets for the anti-overfitting gates.

A placebo keeps what a strategy could legitimately exploit in *prices* (the return
distribution, its volatility clusters and short-range autocorrelation) while destroying
what an exogenous column knew about the next return. If a strategy still "works" on the
placebo, its edge was not the information it claims to use.

All functions are pure: they return a new :class:`MarketData` and never mutate the input.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from scarline.market.frame import MarketData, Quotes

_MAX_LOG_TICKS = float(np.log(1e15))
"""Cap on the rebuilt log price (as the synthetic generator), far from int64 overflow."""


def block_permuted(
    market: MarketData, block: int, rng: np.random.Generator, start: int = 0
) -> MarketData:
    """Rows ``start:`` rebuilt from the same bars shuffled in contiguous blocks of ``block``.

    Why blocks: one shared block permutation keeps the return distribution, the
    cross-sectional correlation (all instruments move together) and the autocorrelation
    inside a block, while ``exog`` and ``timestamps`` stay in place, so any link between an
    exogenous column and the next return is broken.

    Rebuild: each moved bar brings its close-to-close log return (measured from the
    instrument's last valid close), its open/high/low and bid/ask as ratios to its close, its
    volume and quote sizes as is. Returns are applied in the new order from the close at row
    ``start - 1``; for ``start == 0`` the anchor is ``close[0]`` and bar 0's own return is 0
    (it has no previous close), so an identity permutation gives back the input.

    Missing bars (``valid`` False): their return is 0 (the price is carried) and they move as
    a flat bar at the carried price. The output's ``valid`` is the input's: a return landing
    on a missing row still moves the (unobserved) price, and fields of missing rows from
    ``start`` on are zeroed as the loaders store them. Valid bars get ticks >= 1,
    ``low <= min(open, close)``, ``high >= max(open, close)`` and ``ask >= bid`` (a positive
    source spread stays >= 1 tick) after rounding. One ``rng.permutation`` call is the only
    randomness, so the same generator state gives the same market.
    """
    return blocks_moved(market, block, block_order(market, block, rng, start), start)


def block_order(
    market: MarketData, block: int, rng: np.random.Generator, start: int = 0
) -> np.ndarray:
    """The one draw of :func:`block_permuted`: the shuffled block indices (so a permuted
    market can be rebuilt elsewhere from them, :func:`blocks_moved`)."""
    t_n = market.n_steps
    if block < 1:
        raise ValueError(f"block must be >= 1, got {block}")
    if not 0 <= start < t_n:
        raise ValueError(f"start must be in [0, {t_n}), got {start}")
    return rng.permutation(-(-(t_n - start) // block))


def blocks_moved(market: MarketData, block: int, order: np.ndarray, start: int) -> MarketData:
    """:func:`block_permuted` with its draw ``order`` given."""
    t_n = market.n_steps
    n = t_n - start
    rank = np.argsort(order)  # new position of each old block
    src = start + np.argsort(rank[np.arange(n) // block], kind="stable")  # old row of new row

    valid = market.valid
    log_ref = np.log(_carried_close(market.close, valid))
    ret = np.diff(log_ref, axis=0, prepend=log_ref[:1])
    anchor = log_ref[start - 1] if start > 0 else log_ref[0]
    level = np.clip(anchor + np.cumsum(ret[src], axis=0), 0.0, _MAX_LOG_TICKS)
    close = np.maximum(np.rint(np.exp(level)), 1).astype(np.int64)

    src_valid = valid[src]
    src_close = np.where(src_valid, np.maximum(market.close[src], 1), 1).astype(np.float64)

    def moved(ticks: np.ndarray) -> np.ndarray:
        """A price field's ratio to its own close, re-applied to the new close."""
        ratio = np.where(src_valid, ticks[src] / src_close, 1.0)
        return np.maximum(np.rint(ratio * close), 1).astype(np.int64)

    open_ = moved(market.open)
    high = np.maximum(moved(market.high), np.maximum(open_, close))
    low = np.minimum(moved(market.low), np.minimum(open_, close))
    missing = ~valid[start:]
    fields = {
        "open": open_,
        "high": high,
        "low": low,
        "close": close,
        "volume": market.volume[src],
    }
    out = {k: _spliced(getattr(market, k), v, start, missing) for k, v in fields.items()}

    quotes = market.quotes
    if quotes is not None:
        bid = moved(quotes.bid)
        locked = src_valid & (quotes.ask[src] <= quotes.bid[src])
        ask = np.maximum(moved(quotes.ask), bid + np.where(locked | ~src_valid, 0, 1))
        quotes = Quotes(
            bid=_spliced(quotes.bid, bid, start, missing),
            ask=_spliced(quotes.ask, ask, start, missing),
            bid_size=_spliced(quotes.bid_size, quotes.bid_size[src], start, missing),
            ask_size=_spliced(quotes.ask_size, quotes.ask_size[src], start, missing),
        )
    return replace(
        market,
        quotes=quotes,
        valid=valid.copy(),
        open=out["open"],
        high=out["high"],
        low=out["low"],
        close=out["close"],
        volume=out["volume"],
    )


def lagged_exog(market: MarketData, lag: int = 1) -> MarketData:
    """``exog[t] = exog[t - lag]``: a column that only helps through look-ahead goes stale.

    Rows ``t < lag`` repeat row 0 (there is nothing older to show; repeating keeps every row
    finite and the column's support unchanged). Prices and everything else are untouched;
    ``lag=0`` returns an equal market with a copied ``exog``.
    """
    if lag < 0:
        raise ValueError(f"lag must be >= 0, got {lag}")
    rows = np.maximum(np.arange(market.n_steps) - lag, 0)
    return replace(market, exog=market.exog[rows])


def truncated(market: MarketData, stop: int) -> MarketData:
    """The first ``stop`` rows: a market that ends before the future a strategy may peek at."""
    if not 2 <= stop <= market.n_steps:
        raise ValueError(f"stop must be in [2, {market.n_steps}], got {stop}")
    return market.slice(0, stop)


def _carried_close(close: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``float64[T, M]`` last valid close (leading gaps take the first valid one, never-valid
    instruments 1), so returns are 0 on missing bars and span the gap on the next valid one."""
    rows = np.arange(close.shape[0])[:, None]
    last = np.maximum.accumulate(np.where(valid, rows, -1), axis=0)
    idx = np.where(last >= 0, last, valid.argmax(axis=0)[None, :])
    ref = np.take_along_axis(close, idx, axis=0).astype(np.float64)
    return np.where(valid.any(axis=0, keepdims=True), np.maximum(ref, 1.0), 1.0)


def _spliced(
    original: np.ndarray, moved: np.ndarray, start: int, missing: np.ndarray
) -> np.ndarray:
    """Original rows before ``start`` then the moved rows, zeroed where no bar exists."""
    tail = np.where(missing, 0, moved).astype(original.dtype)
    return np.concatenate([original[:start], tail], axis=0)
