"""Seeded synthetic markets with known truth: regimes, volatility clustering, planted edges.

Real data cannot tell us whether an agent *should* have found an edge; synthetic data can.
A sticky Markov chain switches between calm / trend / chaos, each with its own drift and
long-run volatility, and a GARCH(1,1) recursion clusters volatility inside it. A
``random_walk`` market has no edge at all (the control). Two kinds of edge can be planted:

* ``planted_ic`` adds a column ``signal`` = a noisy copy of the *next* bar's standardized log
  return (correlation ≈ IC). It is a look-ahead with no persistence: useful to test plumbing,
  not to test whether a causal learner can earn.
* ``drift_ic`` gives each instrument a hidden persistent AR(1) state s_t (unit variance,
  autocorrelation ``drift_persistence``) that really moves the market: c·s_t is added to the
  log return from close t to close t+1, with c = ic·σ/sqrt(1-ic²) and σ that bar's volatility,
  so corr(s_t, r_{t+1}) ≈ ic. The column ``alpha`` = s_t is known at bar t's close (it uses
  nothing after t): a genuine, causal edge.

Everything comes from one ``SeedSequence(seed)``: each part (regimes, shocks, ranges, volume,
quotes, signal, alpha) draws from its own spawned child, so turning quotes on does not move
prices. Children are keyed by their index, so new streams are only ever appended: a spec
without ``drift_ic`` gives byte-identical markets to the ones generated before it existed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

from scarline.errors import DataError
from scarline.instrument import InstrumentSpec, check_tick_size, to_units
from scarline.market.frame import MarketData, Quotes
from scarline.market.frequency import format_frequency, frequency_ns
from scarline.market.timestamps import LAST_TIMESTAMP, SUPPORTED_RANGE

REGIMES = ("calm", "trend", "chaos")
DEFAULT_TRANSITION = ((0.98, 0.015, 0.005), (0.02, 0.97, 0.01), (0.05, 0.05, 0.90))
DAILY_DRIFT = (0.0003, 0.0010, -0.0030)
DAILY_VOL = (0.007, 0.010, 0.025)
SPREAD_FACTOR = (1.0, 1.5, 4.0)
VOLUME_FACTOR = (1.0, 1.3, 2.5)
NS_PER_DAY = 86_400 * 10**9
# Append only: a stream's seed is its index here, so reordering would change every market.
_STREAMS = ("regimes", "shocks", "ranges", "volume", "quotes", "signal", "alpha")


MAX_START_TICKS = 10**15
"""The highest start price in ticks: prices stay below 1e15 ticks (the walk is clipped there)."""


def _price_problems(start_price: str, tick_size: str) -> list[str]:
    """What is wrong with a start price and tick: a tick the accounts cannot hold (as
    ``data.tick_size`` is checked), a price that is not a number, below one tick or past
    :data:`MAX_START_TICKS`."""
    try:
        check_tick_size(tick_size)
        ticks = to_units(start_price, Decimal(tick_size))
    except ValueError as err:
        return [str(err)]
    if ticks < 1:
        return ["start_price must be at least one tick"]
    if ticks > MAX_START_TICKS:
        return [
            f"start_price {start_price} is more than {MAX_START_TICKS:.0e} ticks of {tick_size}"
        ]
    return []


def _time_problems(start: str, freq: str, n_steps: int) -> list[str]:
    """What is wrong with the time axis: a start that is no time, or bars that would run
    past what int64 nanoseconds hold (they wrapped around to 1677)."""
    try:
        step = frequency_ns(freq)
    except ValueError as err:
        return [str(err)]
    try:  # as generate() reads it
        stamp = pd.Timestamp(start, tz="UTC")
        first = None if pd.isna(stamp) else int(stamp.as_unit("ns").value)  # "" is NaT
    except (ValueError, TypeError, OverflowError):
        first = None
    if first is None:
        return [f"start {start!r} is not a date or time within {SUPPORTED_RANGE}"]
    last = first + (max(n_steps, 1) - 1) * step
    if last > LAST_TIMESTAMP.value:
        return [f"{n_steps} bars of {freq} from {start} run past {SUPPORTED_RANGE}"]
    return []


@dataclass(frozen=True)
class SynthSpec:
    """What to generate. ``drift``/``vol`` are per bar; None uses daily defaults scaled to
    ``freq`` (drift * f, vol * sqrtf with f = bar length / 1 day)."""

    n_steps: int = 1000
    n_instruments: int = 1
    seed: int = 0
    freq: str = "1d"
    start: str = "2020-01-01"
    start_price: str = "100.00"
    tick_size: str = "0.01"
    transition: tuple[tuple[float, ...], ...] = DEFAULT_TRANSITION
    drift: tuple[float, float, float] | None = None
    vol: tuple[float, float, float] | None = None
    garch_alpha: float = 0.05
    garch_beta: float = 0.90
    correlation: float = 0.3
    base_volume: int = 10_000
    spread_ticks: int = 2
    quotes: bool = False
    planted_ic: float | None = None
    random_walk: bool = False
    labels: bool = False
    drift_ic: float | None = None
    drift_persistence: float = 0.95

    def __post_init__(self) -> None:
        problems = []
        if self.n_steps < 2 or self.n_instruments < 1:
            problems.append("need n_steps >= 2 and n_instruments >= 1")
        trans = np.asarray(self.transition, dtype=np.float64)
        if trans.shape != (3, 3) or (trans < 0).any() or not np.allclose(trans.sum(1), 1.0):
            problems.append("transition must be 3x3, non-negative, rows summing to 1")
        if not (
            self.garch_alpha >= 0 and self.garch_beta > 0 and self.garch_alpha + self.garch_beta < 1
        ):
            problems.append("need garch_alpha >= 0, garch_beta > 0, alpha + beta < 1")
        if not 0 <= self.correlation < 1:
            problems.append("correlation must be in [0, 1)")
        if self.planted_ic is not None and not -1 < self.planted_ic < 1:
            problems.append("planted_ic must be in (-1, 1)")
        if self.drift_ic is not None and not -1 < self.drift_ic < 1:
            problems.append("drift_ic must be in (-1, 1)")
        if not 0 <= self.drift_persistence < 1:
            problems.append("drift_persistence must be in [0, 1)")
        if self.spread_ticks < 1 or self.base_volume < 1:
            problems.append("spread_ticks and base_volume must be >= 1")
        problems += _price_problems(self.start_price, self.tick_size)
        problems += _time_problems(self.start, self.freq, self.n_steps)
        if problems:
            raise DataError("synthetic spec: " + "; ".join(problems))

    def per_bar(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-bar drift and volatility of each regime."""
        f = frequency_ns(self.freq) / NS_PER_DAY
        drift = np.array(self.drift if self.drift is not None else np.multiply(DAILY_DRIFT, f))
        vol = np.array(self.vol if self.vol is not None else np.multiply(DAILY_VOL, np.sqrt(f)))
        return drift.astype(np.float64), vol.astype(np.float64)


def generate(spec: SynthSpec) -> MarketData:
    """The synthetic market of ``spec`` (same spec → identical arrays)."""
    return generate_with_truth(spec)[0]


def generate_with_truth(spec: SynthSpec) -> tuple[MarketData, np.ndarray]:
    """The market and its true regime path (``int64[T]``: 0 calm, 1 trend, 2 chaos)."""
    rng = dict(
        zip(
            _STREAMS,
            (
                np.random.default_rng(s)
                for s in np.random.SeedSequence(spec.seed).spawn(len(_STREAMS))
            ),
            strict=True,
        )
    )
    t, m = spec.n_steps, spec.n_instruments
    tick = Decimal(spec.tick_size)
    drift, vol = spec.per_bar()
    if spec.random_walk:
        regimes = np.zeros(t, dtype=np.int64)
    else:
        regimes = regime_path(np.asarray(spec.transition), t, rng["regimes"])
    z = _shocks(rng["shocks"], t, m, spec.correlation)
    if spec.random_walk:
        sigma = np.full((t, m), vol[0])
        returns = sigma * z
    else:
        sigma = np.sqrt(garch_variance(z, vol[regimes] ** 2, spec.garch_alpha, spec.garch_beta))
        returns = drift[regimes][:, None] + sigma * z
    alpha = None
    if spec.drift_ic is not None:
        alpha = alpha_state(rng["alpha"], t, m, spec.drift_persistence)
        c = spec.drift_ic / np.sqrt(1 - spec.drift_ic**2) * sigma[1:]
        returns[1:] += c * alpha[:-1]  # s_t moves the return from close t to close t+1
    start = to_units(spec.start_price, tick)
    log_level = np.clip(np.log(start) + np.cumsum(returns, axis=0), 0.0, np.log(1e15))
    close = np.maximum(np.rint(np.exp(log_level)), 1).astype(np.int64)
    open_ = np.vstack([np.full((1, m), start, dtype=np.int64), close[:-1]])
    high, low = _range(rng["ranges"], open_, close, sigma)
    volume = _volume(rng["volume"], spec.base_volume, z, regimes)
    quotes = _quotes(rng["quotes"], close, regimes, spec) if spec.quotes else None
    exog, names = _exog(rng["signal"], close, regimes, alpha, spec)
    step = frequency_ns(spec.freq)
    t0 = pd.Timestamp(spec.start, tz="UTC").as_unit("ns").value
    market = MarketData(
        name="synthetic",
        source=f"scarline.market.synthetic(seed={spec.seed})",
        frequency=format_frequency(step),
        timestamps=t0 + step * np.arange(t, dtype=np.int64),
        instruments=tuple(
            InstrumentSpec(symbol=f"SYN{i}", tick_size=spec.tick_size) for i in range(m)
        ),
        open=open_,
        high=high,
        low=low,
        close=close,
        volume=volume,
        valid=np.ones((t, m), dtype=bool),
        exog=exog,
        exog_names=names,
        quotes=quotes,
        meta={"spec": json.dumps(asdict(spec), sort_keys=True)},
    )
    return market, regimes


def regime_path(transition: np.ndarray, n_steps: int, rng: np.random.Generator) -> np.ndarray:
    """A Markov chain path starting calm, drawn as (geometric stay, jump) segments."""
    path = np.empty(n_steps, dtype=np.int64)
    state, pos = 0, 0
    while pos < n_steps:
        stay = transition[state, state]
        length = n_steps - pos if stay >= 1.0 else int(rng.geometric(1.0 - stay))
        path[pos : pos + length] = state
        pos += length
        jump = transition[state].copy()
        jump[state] = 0.0
        if jump.sum() > 0:
            state = int(rng.choice(3, p=jump / jump.sum()))
    return path


def garch_variance(z: np.ndarray, long_run: np.ndarray, alpha: float, beta: float) -> np.ndarray:
    """GARCH(1,1) variance of shocks ``z`` (``[T, M]``) around a regime's long-run variance.

    s2_t = (1 - alpha - beta) v_t + alpha eps2_{t-1} + beta s2_{t-1} with eps = sqrt(s2) z,
    where ``long_run`` (``[T]``) is v_t. The recursion is linear in s2,
    x_t = a_t x_{t-1} + b_t, so it is solved in blocks with cumulative products.
    """
    a = alpha * np.vstack([np.zeros((1, z.shape[1])), z[:-1] ** 2]) + beta
    b = np.broadcast_to(((1 - alpha - beta) * long_run)[:, None], z.shape)
    return linear_recurrence(a, b, np.broadcast_to(long_run[0], z.shape[1:]))


def linear_recurrence(a: np.ndarray, b: np.ndarray, x0: np.ndarray, block: int = 64) -> np.ndarray:
    """x_0 = ``x0``, x_t = a_t x_{t-1} + b_t (a > 0), vectorized in blocks of ``block`` steps.

    Inside a block x_{s+k} = P_k (x_{s-1} + sum_j b_j / P_j) with P the running product of a;
    short blocks keep P far from float under/overflow.
    """
    out = np.empty(b.shape, dtype=np.float64)
    out[0] = x0
    prev = out[0]
    for lo in range(1, b.shape[0], block):
        hi = min(lo + block, b.shape[0])
        prod = np.cumprod(a[lo:hi], axis=0)
        out[lo:hi] = prod * (prev + np.cumsum(b[lo:hi] / prod, axis=0))
        prev = out[hi - 1]
    return out


def _shocks(rng: np.random.Generator, t: int, m: int, rho: float) -> np.ndarray:
    common = rng.standard_normal((t, 1))
    own = rng.standard_normal((t, m))
    return np.sqrt(rho) * common + np.sqrt(1 - rho) * own


def _range(
    rng: np.random.Generator, open_: np.ndarray, close: np.ndarray, sigma: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """High/low beyond the open-close body by half-normal excursions of half a bar's sigma."""
    body_hi, body_lo = np.maximum(open_, close), np.minimum(open_, close)
    up, down = np.abs(rng.standard_normal((2, *close.shape))) * 0.5 * sigma
    high = body_hi + np.rint(up * body_hi).astype(np.int64)
    low = np.maximum(body_lo - np.rint(down * body_lo).astype(np.int64), 1)
    return high, low


def _volume(rng: np.random.Generator, base: int, z: np.ndarray, regimes: np.ndarray) -> np.ndarray:
    """Lots: more volume on big moves and in turbulent regimes (log-normal noise)."""
    level = base * np.asarray(VOLUME_FACTOR)[regimes][:, None] * (1 + 0.5 * np.abs(z))
    noise = np.exp(0.3 * rng.standard_normal(z.shape))
    return np.maximum(np.rint(level * noise), 1).astype(np.int64)


def _quotes(
    rng: np.random.Generator, close: np.ndarray, regimes: np.ndarray, spec: SynthSpec
) -> Quotes:
    """Bid/ask around the close; the spread widens and sizes shrink in chaos."""
    factor = np.asarray(SPREAD_FACTOR)[regimes][:, None]
    spread = np.maximum(np.rint(spec.spread_ticks * factor * np.ones(close.shape)), 1)
    spread = spread.astype(np.int64)
    bid = np.maximum(close - spread // 2, 1)
    ask = bid + spread
    size = spec.base_volume / 10 / factor * np.exp(0.5 * rng.standard_normal((2, *close.shape)))
    sizes = np.maximum(np.rint(size), 1).astype(np.int64)
    return Quotes(bid=bid, ask=ask, bid_size=sizes[0], ask_size=sizes[1])


def _exog(
    rng: np.random.Generator,
    close: np.ndarray,
    regimes: np.ndarray,
    alpha: np.ndarray | None,
    spec: SynthSpec,
) -> tuple[np.ndarray, tuple[str, ...]]:
    """``signal`` (planted IC on the next return), ``regime`` (truth labels) and ``alpha``
    (the hidden drift state) columns, in that order so older column indices stay put."""
    t, m = close.shape
    columns, names = [], []
    if spec.planted_ic is not None:
        columns.append(planted_signal(close, spec.planted_ic, rng))
        names.append("signal")
    if spec.labels:
        columns.append(np.broadcast_to(regimes[:, None].astype(np.float64), (t, m)))
        names.append("regime")
    if alpha is not None:
        columns.append(alpha)
        names.append("alpha")
    exog = np.stack(columns, axis=-1) if columns else np.zeros((t, m, 0))
    return np.ascontiguousarray(exog, dtype=np.float64), tuple(names)


def planted_signal(close: np.ndarray, ic: float, rng: np.random.Generator) -> np.ndarray:
    """signal_t = ic·u_{t+1} + sqrt(1-ic²)·e_t, u = the next log return standardized per column.

    Only the *next* return enters (its sample mean and sigma are constants of the scale), so the
    column is a planted look-ahead: corr(signal_t, r_{t+1}) ≈ ic. The last bar has no next
    return and gets noise only.
    """
    nxt = np.diff(np.log(close.astype(np.float64)), axis=0)
    std = nxt.std(axis=0)
    u = np.zeros(close.shape)
    u[:-1] = (nxt - nxt.mean(axis=0)) / np.where(std > 0, std, 1.0)
    return ic * u + np.sqrt(1 - ic**2) * rng.standard_normal(close.shape)


def alpha_state(rng: np.random.Generator, n_steps: int, m: int, rho: float) -> np.ndarray:
    """Stationary AR(1) per column: s_0 = η_0, s_t = ρ s_{t-1} + sqrt(1-ρ²) η_t, η ~ N(0, 1).

    η is drawn as one row-major ``[T, M]`` block and the filter is causal, so a longer market
    has the same state on its common prefix (s_t depends on η up to t only).
    """
    eta = rng.standard_normal((n_steps, m))
    out = np.empty_like(eta)
    out[0] = eta[0]
    if n_steps > 1:
        from scarline.filters import first_order  # numba, loaded when first used

        out[1:] = first_order(eta[1:], np.sqrt(1 - rho**2), -rho, zi=rho * eta[0])
    return out
