"""Causal microstructure measures over ``[T, M]``: VPIN-lite, book imbalance, staleness, spread z.

Pure functions, vectorized over time and instruments; the value at bar t uses bars ``0 … t``
only (a truncation test proves it). :func:`microstructure_table` builds them once per run;
the risk engine's microstructure filters read one row per step (``docs/risk.md``).

- **VPIN-lite** — bulk volume classification per bar: the buy share of bar t's volume is
  ``Φ(r_t / σ_t)`` with ``r_t = Δlog close`` and ``σ_t`` the EWMA root mean square of the
  one-bar log returns *before* t (zero mean, RiskMetrics style); the order imbalance over
  the last n bars is ``Σ |V_buy − V_sell| / Σ V``. It is "lite" because it works on time
  bars, not on the equal-volume buckets of Easley, López de Prado and O'Hara: the sums
  weigh each bar by its volume, which is the plain average of ``|V_buy − V_sell| / V`` when
  bars have equal volume, as buckets would.
- **Order-book imbalance** — ``(bid_size − ask_size) / (bid_size + ask_size)`` of the L1
  quote, in [−1, 1]: positive when the bid is the heavy side (the ask is thin).
- **Staleness** — bars since the quote (bid, ask, bid_size, ask_size) last changed, and
  whether the quote is invalid (``bid <= 0`` or ``ask <= bid``).
- **Spread shock** — the spread in bps of the mid, standardized by the EWMA mean and std of
  the spreads of *earlier* bars (a floor on the std keeps a constant spread from making
  every 1-tick change infinitely surprising); a shock is ``z > k``.

Markets without quotes get VPIN-lite only; the quote-based arrays are then ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from scipy.special import ndtr

from scarline.features.ewma import ew_sum, halflife_decay
from scarline.features.normalize import causal_moments, prior_count
from scarline.features.price import log_prices, log_return
from scarline.features.window import window_sum
from scarline.market.frame import MarketData


class MicrostructureParams(Protocol):
    """The estimation settings :func:`microstructure_table` reads
    (``scarline.risk.config.MicrostructureConfig`` has them)."""

    @property
    def vpin_window(self) -> int: ...
    @property
    def vol_halflife(self) -> float: ...
    @property
    def spread_halflife(self) -> float: ...
    @property
    def warmup(self) -> int: ...
    @property
    def spread_floor_bps(self) -> float: ...


def _before(s: np.ndarray) -> np.ndarray:
    """Row t holds row t − 1 of ``s`` (row 0 holds 0): a statistic of the rows < t."""
    out = np.zeros_like(s)
    out[1:] = s[:-1]
    return out


# --- VPIN-lite ------------------------------------------------------------------------------


def bvc_buy_share(close: np.ndarray, halflife: float, warmup: int) -> np.ndarray:
    """``float64[T, M]``: bulk-volume buy share ``Φ(r_t / σ_t)`` of each bar.

    ``close`` is ``float64[T, M]`` (NaN or ≤ 0 = no bar); ``r_t`` the one-bar log return
    (undefined next to a missing bar); ``σ_t²`` the EWMA (half-life ``halflife`` bars) of
    the squared returns before t. NaN where ``r_t`` is undefined or fewer than ``warmup``
    earlier returns exist. With ``σ_t = 0`` the share is 1, 0 or ½ by the sign of ``r_t``.
    """
    r = log_return(log_prices(close), 1)
    seen = ~np.isnan(r)
    decay = halflife_decay(halflife)
    w = _before(ew_sum(seen.astype(np.float64), decay))
    s2 = _before(ew_sum(np.where(seen, r * r, 0.0), decay))
    ready = seen & (prior_count(r) >= max(warmup, 1)) & (w > 0)
    sigma = np.sqrt(np.where(ready, s2 / np.where(w > 0, w, 1.0), 1.0))
    r0 = np.where(ready, r, 0.0)
    flat = np.where(r0 > 0, np.inf, np.where(r0 < 0, -np.inf, 0.0))  # sigma = 0: the sign
    z = np.where(sigma > 0, r0 / np.where(sigma > 0, sigma, 1.0), flat)
    return np.where(ready, ndtr(z), np.nan)


def vpin_lite(
    close: np.ndarray,
    volume: np.ndarray,
    valid: np.ndarray,
    window: int,
    halflife: float,
    warmup: int,
) -> np.ndarray:
    """``float64[T, M]`` in [0, 1]: ``Σ |V_buy − V_sell| / Σ V`` over bars t − n + 1 … t.

    Bars whose buy share is undefined (missing, next to a gap, warm-up) count with no
    volume. NaN before the window fills, where bar t itself is not classified, or where the
    window has no volume.
    """
    share = bvc_buy_share(close, halflife, warmup)
    known = ~np.isnan(share) & valid
    v = np.where(known, volume.astype(np.float64), 0.0)
    imbalance = np.where(known, v * np.abs(2.0 * np.where(known, share, 0.5) - 1.0), 0.0)
    num, den = window_sum(imbalance, window), window_sum(v, window)
    ok = known & (den > 0)  # den is NaN before the window fills: comparison is False
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(ok, num / np.where(ok, den, 1.0), np.nan)


# --- quote-based measures -------------------------------------------------------------------


def book_imbalance(bid_size: np.ndarray, ask_size: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``float64[T, M]``: ``(bid_size − ask_size) / (bid_size + ask_size)``, NaN with no size."""
    b, a = bid_size.astype(np.float64), ask_size.astype(np.float64)
    total = b + a
    ok = valid & (total > 0) & (b >= 0) & (a >= 0)
    return np.where(ok, (b - a) / np.where(ok, total, 1.0), np.nan)


def quote_staleness(
    bid: np.ndarray,
    ask: np.ndarray,
    bid_size: np.ndarray,
    ask_size: np.ndarray,
    valid: np.ndarray,
) -> np.ndarray:
    """``int64[T, M]``: bars since the quote last changed; −1 before the first quote.

    A quote exists where the bar does (``valid``); it changes when any of its four fields
    differs from the last quote seen (the first quote is a change). A missing bar brings no
    quote, so staleness keeps growing through gaps.
    """
    t_n = valid.shape[0]
    rows = np.arange(t_n, dtype=np.int64)[:, None]
    last_seen = np.maximum.accumulate(np.where(valid, rows, -1), axis=0)
    prev = np.full(valid.shape, -1, dtype=np.int64)
    prev[1:] = last_seen[:-1]
    at = np.maximum(prev, 0)
    differs = np.zeros(valid.shape, dtype=bool)
    for field in (bid, ask, bid_size, ask_size):
        differs |= field != np.take_along_axis(field, at, axis=0)
    changed = valid & ((prev < 0) | differs)
    last_change = np.maximum.accumulate(np.where(changed, rows, -1), axis=0)
    return np.where(last_change >= 0, rows - last_change, -1).astype(np.int64)


def quote_invalid(bid: np.ndarray, ask: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``bool[T, M]``: the bar exists and its quote has no bid (``<= 0``) or ``ask <= bid``."""
    return valid & ((bid <= 0) | (ask <= bid))


def spread_bps(bid: np.ndarray, ask: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``float64[T, M]``: ``(ask − bid) / mid · 10⁴``; NaN without a valid two-sided quote."""
    b, a = bid.astype(np.float64), ask.astype(np.float64)
    ok = valid & (b > 0) & (a > b)
    mid = np.where(ok, (a + b) / 2.0, 1.0)
    return np.where(ok, (a - b) / mid * 1e4, np.nan)


def spread_zscore(spread: np.ndarray, halflife: float, warmup: int, floor_bps: float) -> np.ndarray:
    """``float64[T, M]``: ``(s_t − mean_{<t}) / max(std_{<t}, floor_bps)`` (EWMA statistics).

    NaN where ``s_t`` is NaN or fewer than ``warmup`` earlier spreads were seen.
    """
    mean, var, count = causal_moments(spread, halflife_decay(halflife))
    ok = ~np.isnan(spread) & (count >= max(warmup, 1))
    std = np.maximum(np.sqrt(np.where(ok, var, 0.0)), floor_bps)
    return np.where(ok, (spread - np.where(ok, mean, 0.0)) / std, np.nan)


# --- the per-run table ----------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class MicrostructureTable:
    """The measures of one market, ``[T, M]`` each, read-only; quote-based ones are ``None``
    when the market has no quotes. :meth:`row` gives step t's values by the names of the
    matching :class:`scarline.risk.types.RiskContext` fields."""

    vpin: np.ndarray  # float64[T, M], NaN = undefined
    imbalance: np.ndarray | None = None  # float64[T, M], NaN = no size
    stale_bars: np.ndarray | None = None  # int64[T, M], −1 = no quote yet
    quote_invalid: np.ndarray | None = None  # bool[T, M]
    spread_bps: np.ndarray | None = None  # float64[T, M], NaN = no valid quote
    spread_z: np.ndarray | None = None  # float64[T, M], NaN = undefined

    def __post_init__(self) -> None:
        for name in ("vpin", "imbalance", "stale_bars", "quote_invalid", "spread_bps", "spread_z"):
            value = getattr(self, name)
            if value is None:
                continue
            if value.shape != self.vpin.shape:
                raise ValueError(f"{name} must have shape {self.vpin.shape}, got {value.shape}")
            value.setflags(write=False)

    @property
    def has_quotes(self) -> bool:
        return self.imbalance is not None

    def row(self, t: int) -> dict[str, np.ndarray]:
        """Step t's values for the risk context (``[M]`` views; absent measures left out)."""
        names = ("vpin", "imbalance", "stale_bars", "quote_invalid", "spread_z")
        return {n: a[t] for n in names if (a := getattr(self, n)) is not None}


def microstructure_table(market: MarketData, cfg: MicrostructureParams) -> MicrostructureTable:
    """Every measure of ``market`` with ``cfg``'s windows, computed once (causal per row).

    Without volume (``has_volume`` false) every existing bar weighs 1 in VPIN-lite.
    """
    valid = market.valid
    volume = market.volume if market.has_volume else valid.astype(np.int64)
    vpin = vpin_lite(
        market.prices("close"), volume, valid, cfg.vpin_window, cfg.vol_halflife, cfg.warmup
    )
    q = market.quotes
    if q is None:
        return MicrostructureTable(vpin=vpin)
    spread = spread_bps(q.bid, q.ask, valid)
    return MicrostructureTable(
        vpin=vpin,
        imbalance=book_imbalance(q.bid_size, q.ask_size, valid),
        stale_bars=quote_staleness(q.bid, q.ask, q.bid_size, q.ask_size, valid),
        quote_invalid=quote_invalid(q.bid, q.ask, valid),
        spread_bps=spread,
        spread_z=spread_zscore(spread, cfg.spread_halflife, cfg.warmup, cfg.spread_floor_bps),
    )
