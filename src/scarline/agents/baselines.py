"""Rule baselines every learned agent is compared against.

Each class is a vectorized group of agents (one per parameter value) following the
:class:`~scarline.agents.policy.Policy` port. Indicators are causal tables computed once
(row t uses rows <= t only); trailing means and standard deviations are
:mod:`scarline.features.window`'s.
"""

from __future__ import annotations

import numpy as np

from scarline.features.window import window_mean, window_std
from scarline.market.frame import MarketData


def trailing_return(x: np.ndarray, lookback: int) -> np.ndarray:
    """``x[t] / x[t - lookback] - 1``; NaN for the first ``lookback`` rows."""
    out = np.full(x.shape, np.nan)
    if lookback < x.shape[0]:
        out[lookback:] = x[lookback:] / x[:-lookback] - 1.0
    return out


class BuyAndHold:
    """Long every instrument from its first bar, forever."""

    name = "buy-and-hold"

    def __init__(self, market: MarketData) -> None:
        self.n_agents = 1
        self.labels = ["buy-and-hold"]
        self._valid = market.valid

    def extend(self, market: MarketData) -> None:
        self._valid = market.valid

    def decide(self, t: int) -> np.ndarray:
        return self._valid[t][None, :].astype(np.int8)

    def decide_span(self, start: int, stop: int) -> np.ndarray:
        """:meth:`decide` of rows ``start .. stop - 1``, ``int8[K, 1, M]`` (a function of
        the bars alone: the kernel's quiet path)."""
        return self._valid[start:stop, None, :].astype(np.int8)


class Momentum:
    """Long (or short) when the trailing return over ``lookback`` bars exceeds ``threshold``."""

    name = "momentum"

    def __init__(
        self,
        market: MarketData,
        lookbacks: list[int],
        threshold: float = 0.0,
        allow_short: bool = False,
    ) -> None:
        self._lookbacks = lookbacks
        self._threshold = threshold
        self._short = allow_short
        self.n_agents = len(lookbacks)
        self.labels = [f"momentum({k})" for k in lookbacks]
        self.extend(market)

    def extend(self, market: MarketData) -> None:
        """(Re)build the trailing-return table ``[T, n, M]`` (a live market grows)."""
        close = market.prices("close")
        self._table = np.stack([trailing_return(close, k) for k in self._lookbacks], 1)

    def decide(self, t: int) -> np.ndarray:
        return self.decide_span(t, t + 1)[0]

    def decide_span(self, start: int, stop: int) -> np.ndarray:
        """:meth:`decide` of rows ``start .. stop - 1``, ``int8[K, n, M]`` (a function of
        the bars alone: the kernel's quiet path)."""
        r = self._table[start:stop]
        long = (r > self._threshold).astype(np.int8)
        return long - (r < -self._threshold).astype(np.int8) if self._short else long


class MeanReversion:
    """Long when price sits ``z_entry`` standard deviations below its mean; exit at the mean."""

    name = "mean-reversion"

    def __init__(
        self,
        market: MarketData,
        windows: list[int],
        z_entry: float = 1.0,
        allow_short: bool = False,
    ) -> None:
        self._windows = windows
        self._entry = z_entry
        self._short = allow_short
        self.n_agents = len(windows)
        self.labels = [f"mean-reversion({w})" for w in windows]
        self._state = np.zeros((self.n_agents, market.n_instruments), dtype=np.int8)
        self.extend(market)

    def extend(self, market: MarketData) -> None:
        """(Re)build the z-score table ``[T, n, M]`` (a live market grows)."""
        close = market.prices("close")
        z = []
        for w in self._windows:
            std = window_std(close, w)
            mean = window_mean(close, w)
            with np.errstate(invalid="ignore", divide="ignore"):
                z.append((close - mean) / np.where(std > 0, std, np.nan))
        self._z = np.stack(z, 1)

    def decide(self, t: int) -> np.ndarray:
        z = self._z[t]
        state = self._state
        state = np.where(z < -self._entry, 1, np.where(z >= 0, 0, state))
        if self._short:
            state = np.where(z > self._entry, -1, np.where((state == -1) & (z <= 0), 0, state))
        state = np.where(np.isnan(z), 0, state).astype(np.int8)
        self._state = state
        return state


class RandomEntry:
    """The placebo: enters and exits at random (seeded), so any 'edge' it shows is luck."""

    name = "random-entry"

    def __init__(
        self,
        market: MarketData,
        count: int,
        p_entry: float,
        p_exit: float,
        rng: np.random.Generator,
        allow_short: bool = False,
    ) -> None:
        self.n_agents = count
        self.labels = [f"random-entry#{i}" for i in range(count)]
        self._shape = (count, market.n_instruments)
        self._p_entry, self._p_exit = p_entry, p_exit
        self._rng = rng
        self._short = allow_short
        self._valid = market.valid
        self._state = np.zeros(self._shape, dtype=np.int8)

    def extend(self, market: MarketData) -> None:
        self._valid = market.valid

    def decide(self, t: int) -> np.ndarray:
        u = self._rng.random((2, *self._shape))
        state = self._state
        side = np.where(u[1] < 0.5, -1, 1) if self._short else 1
        enter = (state == 0) & (u[0] < self._p_entry)
        leave = (state != 0) & (u[0] < self._p_exit)
        state = np.where(enter, side, np.where(leave, 0, state)).astype(np.int8)
        state = np.where(self._valid[t][None, :], state, 0).astype(np.int8)
        self._state = state
        return state
