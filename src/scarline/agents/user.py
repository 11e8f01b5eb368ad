"""User strategies as a policy group: the kernel asks them like any other agents.

Vectorized strategies are asked once for the whole history (``signals``), checked for
lookahead, and read row by row; event-driven ones are asked at every bar (``decide``) with an
:class:`~scarline.agents.strategy.Observation`. Exposures are clipped to [-1, 1] (a fraction of
equity per symbol) and NaN is flat; they are float32 like a learner's, so they journal the
same way.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from scarline.agents.qagents import AgentView
from scarline.agents.strategy import Observation, Strategy
from scarline.errors import ConfigError
from scarline.execution.types import CASH_SCALE
from scarline.market.frame import MarketData

FIELDS = ("open", "high", "low", "close", "volume")
CUTS = 16
"""How many histories the lookahead check cuts, evenly from a fifth of the bars to one bar
short. A signal that peeks one bar ahead often reads the same at a cut either way (``c.shift(-1)
> c`` is False on the cut's last bar, and is False with the whole history after a fall), so
each cut catches it about half the time: four cuts missed it in ~3 % of random markets,
sixteen in ~1 in 65,000. The check costs about ten full calls of ``signals``."""


COPY_ON_WRITE = int(pd.__version__.split(".")[0]) >= 3 or pd.options.mode.copy_on_write is True
"""pandas copies a shared frame's data on its first write: a shallow copy is a private one
(pandas 2 without the option: a deep copy, ~5 ms for 5,000 bars × 20 symbols)."""


class LookaheadError(ConfigError):
    """A strategy's past signals change when later bars are removed."""


def history_frame(market: MarketData) -> pd.DataFrame:
    """The market as a DataFrame: UTC time index, columns ``(field, symbol)``, prices in
    currency units (NaN where a symbol has no bar), volume in lots."""
    index = pd.DatetimeIndex(pd.to_datetime(market.timestamps, unit="ns", utc=True), name="time")
    parts = {}
    for field in FIELDS:
        values = market.prices(field) if field != "volume" else market.volume.astype(np.float64)
        if field == "volume":
            values = np.where(market.valid, values, np.nan)
        parts[field] = pd.DataFrame(values, index=index, columns=list(market.symbols))
    return pd.concat(parts, axis=1, names=["field", "symbol"])


def exposures_of(strategy: Strategy, data: pd.DataFrame, symbols: list[str]) -> np.ndarray:
    """``float64[T, M]`` from ``strategy.signals(data)``: checked shape, [-1, 1], NaN → 0."""
    name = strategy.label
    try:
        # its own copy: a strategy that edits ``data`` in place (``data["close"] = ...``)
        # must not change what the grid's next one, or the lookahead check's cuts, are given
        out = strategy.signals(data.copy(deep=not COPY_ON_WRITE))
    except Exception as err:
        raise ConfigError(f"{name}.signals failed: {type(err).__name__}: {err}") from err
    if isinstance(out, pd.Series):
        out = out.to_frame(symbols[0] if len(symbols) == 1 else out.name)
    if isinstance(out, pd.DataFrame):
        missing = [s for s in symbols if s not in out.columns]
        if missing:
            raise ConfigError(f"{name}.signals: no column for symbol(s) {', '.join(missing)}")
        twice = sorted({str(s) for s in symbols if list(out.columns).count(s) > 1})
        if twice:
            raise ConfigError(f"{name}.signals: more than one column for {', '.join(twice)}")
        if not _same_times(out.index, data.index):
            raise ConfigError(
                f"{name}.signals: the index must be the data's ({len(data)} rows from "
                f"{data.index[0].isoformat()}), got {len(out.index)} rows"
            )
        values = _numbers(name, lambda: out[symbols].to_numpy(dtype=np.float64, na_value=np.nan))
    else:
        values = _numbers(name, lambda: np.asarray(out, dtype=np.float64))
        if values.ndim == 1 and len(symbols) == 1:
            values = values[:, None]
        if values.shape != (len(data), len(symbols)):
            raise ConfigError(
                f"{name}.signals: expected {len(data)} rows × {len(symbols)} symbols, "
                f"got shape {values.shape}"
            )
    return np.clip(np.nan_to_num(values, nan=0.0, posinf=1.0, neginf=-1.0), -1.0, 1.0)


def _same_times(index: pd.Index, times: pd.DatetimeIndex) -> bool:
    """Whether ``index`` is the data's bars: the same index, or the same instants in another
    time zone (a strategy that works in the exchange's local time)."""
    if len(index) != len(times):
        return False
    if isinstance(index, pd.DatetimeIndex) and index.tz is not None:
        index = index.tz_convert("UTC")
    return bool(index.equals(times))


def _numbers(name: str, convert: Callable[[], np.ndarray]) -> np.ndarray:
    """``convert()``; a signal that is not a number (``"buy"``) is a :class:`ConfigError`."""
    try:
        return convert()
    except (ValueError, TypeError) as err:
        raise ConfigError(f"{name}.signals: exposures must be numbers in [-1, 1] ({err})") from None


def check_deterministic(strategy: Strategy, data: pd.DataFrame, full: np.ndarray) -> None:
    """Ask once more on the same history: replay recomputes the signals, so one that draws
    from global randomness (or the clock) would break parity; refused here naming it, not
    misread by the lookahead check as a peek. Compared as the run stores them (float32)."""
    again = exposures_of(strategy, data, list(data["close"].columns))
    differs = again.astype(np.float32) != full.astype(np.float32)
    if differs.any():
        row, col = np.argwhere(differs)[0]
        raise ConfigError(
            f"{strategy.label}: not deterministic — two calls of signals on the same history "
            f"differ at bar {row} ({data.index[row].isoformat()}), symbol "
            f"{data['close'].columns[col]} ({full[row, col]:g}, then {again[row, col]:g}); "
            "seed any randomness from the parameters (replay recomputes the signals)"
        )


def check_lookahead(strategy: Strategy, data: pd.DataFrame, full: np.ndarray) -> None:
    """Recompute on histories cut at several points: a past value that changes means the
    strategy used a later bar (as Freqtrade's lookahead analysis does). The error names the
    first bar and symbol that changed."""
    n = len(data)
    cuts = sorted(set(np.linspace(n // 5, n - 1, CUTS).astype(int).tolist()))
    symbols = list(data["close"].columns)
    for cut in cuts:
        if cut < 2:
            continue
        try:
            part = exposures_of(strategy, data.iloc[:cut], symbols)
        except ConfigError as err:  # it answered on the whole history: say which one failed
            raise ConfigError(
                f"{err} (on the history of bars 0..{cut - 1}, which the lookahead check asks)"
            ) from err
        differs = ~np.isclose(part, full[:cut], rtol=1e-9, atol=1e-12)
        if differs.any():
            row, col = np.argwhere(differs)[0]
            raise LookaheadError(
                f"{strategy.label}: lookahead — its signal at bar {row} "
                f"({data.index[row].isoformat()}), symbol {symbols[col]}, is "
                f"{full[row, col]:g} with the whole history but {part[row, col]:g} when "
                f"the history ends at bar {cut}; a signal may only use bars up to its own"
            )


class UserStrategies:
    """A group of user strategies (one agent each, all of one class)."""

    name = "python"

    def __init__(
        self, market: MarketData, strategies: list[Strategy], kind: str, allow_short: bool = True
    ) -> None:
        if not strategies:
            raise ConfigError("a python group needs at least one strategy")
        self.strategies = strategies
        self.n_agents = len(strategies)
        self.labels = [s.label for s in strategies]
        self.vectorized = kind == "vectorized"
        self._low = -1.0 if allow_short else 0.0  # no shorts: a negative exposure is flat
        self._table: np.ndarray | None = None
        self._view: AgentView | None = None
        self.extend(market)

    def extend(self, market: MarketData) -> None:
        """(Re)build from ``market``; a live market that grew must not change past signals."""
        self._market = market
        self._m = market.n_instruments
        if not self.vectorized:
            self._prices = {f: market.prices(f) for f in FIELDS[:4]}
            self._volume = np.where(market.valid, market.volume.astype(np.float64), np.nan)
            return
        data = history_frame(market)
        symbols = list(market.symbols)
        columns = []
        for strategy in self.strategies:
            full = exposures_of(strategy, data, symbols)
            check_deterministic(strategy, data, full)
            check_lookahead(strategy, data, full)
            columns.append(full)
        table = np.stack(columns, axis=1).astype(np.float32)  # [T, n, M]
        old = self._table
        if old is not None and not np.array_equal(table[: len(old)], old):
            raise LookaheadError("a strategy's past signals changed as the market grew")
        self._table = table

    def observe(self, t: int, view: AgentView) -> None:
        self._view = view

    def decide(self, t: int) -> np.ndarray:
        if self.vectorized:
            assert self._table is not None
            row = self._table[t]
        else:
            row = np.stack([self._ask(k, t) for k in range(self.n_agents)]).astype(np.float32)
        return row if self._low < 0 else np.maximum(row, np.float32(0.0))

    def decide_span(self, start: int, stop: int) -> np.ndarray | None:
        """:meth:`decide` of rows ``start .. stop - 1``, ``float32[K, n, M]``, for vectorized
        strategies (functions of the bars alone: the kernel's quiet path), row by row so
        every bit is :meth:`decide`'s; None for event-driven ones (they see the account)."""
        if not self.vectorized:
            return None
        if stop <= start:  # no rows: the shape and dtype alone
            return np.zeros((0, self.n_agents, self._market.close.shape[1]), np.float32)
        return np.stack([self.decide(t) for t in range(start, stop)])

    def _ask(self, k: int, t: int) -> np.ndarray:
        strategy, view = self.strategies[k], self._view
        assert view is not None
        p = self._prices
        obs = Observation(
            t=t,
            timestamps=_frozen(self._market.timestamps[: t + 1]),
            symbols=tuple(self._market.symbols),
            open=_frozen(p["open"][: t + 1]),
            high=_frozen(p["high"][: t + 1]),
            low=_frozen(p["low"][: t + 1]),
            close=_frozen(p["close"][: t + 1]),
            volume=_frozen(self._volume[: t + 1]),
            position=view.position[k].astype(np.float64),
            equity=float(view.equity[k]) / CASH_SCALE,
            cash=float(view.cash[k]) / CASH_SCALE,
        )
        try:
            out = _exposures(strategy.decide(obs), obs.symbols)
        except Exception as err:
            raise ConfigError(
                f"{strategy.label}.decide failed at bar {t}: {type(err).__name__}: {err}"
            ) from err
        if out.shape != (self._m,):
            raise ConfigError(
                f"{strategy.label}.decide at bar {t}: expected {self._m} exposures, got {out.size}"
            )
        return np.clip(np.nan_to_num(out, nan=0.0), -1.0, 1.0)


def _frozen(view: np.ndarray) -> np.ndarray:
    """``view`` read-only: the rows are the market's own (its timestamps, the group's
    prices), so a strategy writing into them would change the run's data, or what the other
    agents see; writing raises instead."""
    view.flags.writeable = False
    return view


def _exposures(out: object, symbols: tuple[str, ...]) -> np.ndarray:
    """``decide``'s answer as ``float64[M]``: a dict, or a Series keyed by symbol, is read by
    symbol (not by position); None (a forgotten ``return``) is refused rather than read as
    flat."""
    if out is None:
        raise TypeError("returned None; return one exposure per symbol (0 is flat)")
    if isinstance(out, dict):
        unknown = [str(k) for k in out if k not in symbols]
        if unknown:
            raise ValueError(f"no symbol(s) {', '.join(unknown)} (the symbols: {symbols})")
        out = pd.Series(out, dtype=object)
    if isinstance(out, pd.Series) and any(s in out.index for s in symbols):
        missing = [s for s in symbols if s not in out.index]
        if missing:
            raise ValueError(f"no exposure for symbol(s) {', '.join(missing)}")
        out = out[list(symbols)]
    return np.asarray(out, dtype=np.float64).reshape(-1)
