"""User strategies (``kind = "python"``) trade under the same kernel as built-in agents: a
user's SMA(10, 30), vectorized or event-driven, makes exactly the built-in SMA baseline's
equity path; lookahead is refused naming the bar and symbol; a grid is one population;
replay re-imports the strategy and refuses, naming the file, once it is edited."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from scarline.config import RunConfig
from scarline.equity_file import read_equity
from scarline.errors import ConfigError, WalError
from scarline.replayer import replay_run
from scarline.runner import RunSummary, execute_run

STRATEGIES = """
import numpy as np
from scarline.agents.strategy import Strategy


class SmaCross(Strategy):
    def signals(self, data):
        close = data["close"]
        fast = close.rolling(self.fast).mean()
        slow = close.rolling(self.slow).mean()
        return (fast > slow).astype(float).where(slow.notna())


class SmaEvents(Strategy):
    def decide(self, obs):
        close = obs.close[:, 0]
        if len(close) < self.slow:
            return np.zeros(1)
        fast = close[-self.fast:].mean()
        slow = close[-self.slow:].mean()
        return np.array([1.0 if fast > slow else 0.0])


class Peeks(Strategy):
    def signals(self, data):
        nxt = data["close"].shift(-1)
        return (nxt > data["close"]).astype(float)
"""

DATA = {"source": "sp500", "start": "2015-01-01", "end": "2019-12-31"}


def _module(tmp_path: Path) -> Path:
    path = tmp_path / "my_strategies.py"
    path.write_text(STRATEGIES, encoding="utf-8")
    return path


def _run(tmp_path: Path, agents: list[dict[str, object]], run_id: str) -> RunSummary:
    cfg = RunConfig(seed=3, data=DATA, report=False, agents=agents)
    return execute_run(cfg, run_id=run_id, out_dir=tmp_path / "runs")


def test_a_users_sma_trades_exactly_like_the_built_in_one(tmp_path: Path) -> None:
    path = str(_module(tmp_path))
    params = {"fast": 10, "slow": 30}
    summary = _run(
        tmp_path,
        [
            {"kind": "sma-crossover", "fast": [10], "slow": [30]},
            {
                "kind": "python",
                "strategy": "my_strategies:SmaCross",
                "path": path,
                "params": params,
            },
            {
                "kind": "python",
                "strategy": "my_strategies:SmaEvents",
                "path": path,
                "params": params,
            },
        ],
        "user-sma",
    )
    _, curves = read_equity(summary.run_dir / "equity.parquet")
    assert np.array_equal(curves[0], curves[1]) and np.array_equal(curves[0], curves[2])
    trades = {row["id"]: row["trades"] for row in summary.to_json()["agents"]}  # type: ignore[union-attr]
    assert trades[0] == trades[1] == trades[2] > 10
    assert replay_run(summary.run_dir).parity


def test_lookahead_is_refused_naming_the_bar_and_symbol(tmp_path: Path) -> None:
    path = str(_module(tmp_path))
    with pytest.raises(ConfigError, match=r"lookahead .* bar \d+ .*symbol"):
        _run(
            tmp_path, [{"kind": "python", "strategy": "my_strategies:Peeks", "path": path}], "peek"
        )


def test_a_grid_is_one_population_and_an_edited_file_stops_replay(tmp_path: Path) -> None:
    path = _module(tmp_path)
    grid = {"fast": [3, 5, 8, 10, 12], "slow": [20, 30, 40, 50, 60]}
    summary = _run(
        tmp_path,
        [{"kind": "python", "strategy": "my_strategies:SmaCross", "path": str(path), "grid": grid}],
        "grid",
    )
    assert summary.n_agents == 25  # one kernel, 25 agents
    labels = [row["policy"] for row in summary.to_json()["agents"]]  # type: ignore[union-attr]
    assert "SmaCross(fast=5,slow=40)" in labels
    assert replay_run(summary.run_dir).parity
    path.write_text(STRATEGIES.replace("rolling(self.fast)", "rolling(self.fast + 1)"))
    with pytest.raises(WalError, match=r"my_strategies\.py changed"):
        replay_run(summary.run_dir)


def test_parameters_may_not_hide_the_strategys_methods() -> None:
    from scarline.agents.strategy import Strategy

    class Plain(Strategy):
        def signals(self, data: object) -> object:
            return data

    assert Plain(fast=3).params == {"fast": 3} and Plain(fast=3).label == "Plain(fast=3)"
    for bad in ({"signals": 1}, {"label": "x"}, {"_private": 2}):
        with pytest.raises(TypeError, match="would hide"):
            Plain(**bad)
    with pytest.raises(TypeError, match="must be a number"):
        Plain(window=[1, 2])  # type: ignore[arg-type]


def _history(seed: int, n: int = 300) -> pd.DataFrame:
    close = 100 * np.exp(np.cumsum(np.random.default_rng(seed).normal(0, 0.01, n)))
    index = pd.date_range("2020-01-01", periods=n, freq="D", tz="UTC", name="time")
    return pd.concat({"close": pd.DataFrame({"X": close}, index=index)}, axis=1)


def test_a_one_bar_peek_is_caught_in_every_market() -> None:
    """``c.shift(-1) > c`` reads False on a cut's last bar, and after a fall with the whole
    history too: four cuts let it through in ~3 % of markets, 200 markets here catch all."""
    from scarline.agents.strategy import Strategy
    from scarline.agents.user import LookaheadError, check_lookahead, exposures_of

    class Peek(Strategy):
        def signals(self, data: pd.DataFrame) -> pd.DataFrame:
            close = data["close"]
            return (close.shift(-1) > close).astype(float)

    for seed in range(200):
        data = _history(seed)
        with pytest.raises(LookaheadError, match=r"lookahead"):
            check_lookahead(Peek(), data, exposures_of(Peek(), data, ["X"]))


def test_signals_that_are_not_numbers_are_a_config_error() -> None:
    from scarline.agents.strategy import Strategy
    from scarline.agents.user import exposures_of

    class Words(Strategy):
        def signals(self, data: pd.DataFrame) -> pd.DataFrame:
            return pd.DataFrame("buy", index=data.index, columns=["X"])

    with pytest.raises(ConfigError, match=r"Words\(\)\.signals: exposures must be numbers"):
        exposures_of(Words(), _history(0), ["X"])


def test_a_strategy_editing_data_in_place_changes_nothing_for_the_next() -> None:
    """``data["close"] = ...`` in one grid member's ``signals`` used to reach the next
    member's input (and the lookahead check's cuts): a grid's results depended on order."""
    from scarline.agents.strategy import Strategy
    from scarline.agents.user import check_lookahead, exposures_of

    class Scales(Strategy):
        def signals(self, data: pd.DataFrame) -> pd.DataFrame:
            data["close"] = data["close"] * self.k
            data.iloc[0, 0] = -1.0
            return (data["close"] > 100).astype(float)

    data = _history(0)
    before = data.copy()
    alone = exposures_of(Scales(k=1.0), data, ["X"])
    exposures_of(Scales(k=2.0), data, ["X"])  # ran first in a grid
    pd.testing.assert_frame_equal(data, before)
    after = exposures_of(Scales(k=1.0), data, ["X"])
    assert np.array_equal(after, alone) and 0 < alone.sum() < len(alone)
    check_lookahead(Scales(k=2.0), data, exposures_of(Scales(k=2.0), data, ["X"]))


def test_signals_with_a_symbols_column_twice_are_refused() -> None:
    from scarline.agents.strategy import Strategy
    from scarline.agents.user import exposures_of

    class Twice(Strategy):
        def signals(self, data: pd.DataFrame) -> pd.DataFrame:
            close = data["close"]
            return pd.concat([close * 0 + 1.0, close * 0 - 1.0], axis=1)

    with pytest.raises(ConfigError, match=r"Twice\(\)\.signals: more than one column for X"):
        exposures_of(Twice(), _history(0), ["X"])


def test_a_cached_signal_of_the_wrong_length_is_explained() -> None:
    from scarline.agents.strategy import Strategy
    from scarline.agents.user import check_lookahead, exposures_of

    class Cached(Strategy):
        def signals(self, data: pd.DataFrame) -> pd.DataFrame:
            return _history(0)["close"] * 0 + 1.0

    with pytest.raises(ConfigError, match=r"\(100 rows from 2020-01-01.*\), got 300 rows$"):
        exposures_of(Cached(), _history(0).iloc[:100], ["X"])
    data = _history(0)
    with pytest.raises(ConfigError, match=r"got 300 rows \(on the history of bars 0\.\.59, "):
        check_lookahead(Cached(), data, exposures_of(Cached(), data, ["X"]))


def test_decide_answers_are_read_by_symbol_and_none_is_not_flat() -> None:
    """A Series keyed by symbol is read by symbol, not position; a forgotten ``return``
    (None) used to read as flat for one symbol."""
    from scarline.agents.user import _exposures

    symbols = ("A", "B")
    by_name = pd.Series({"B": 1.0, "A": -0.5})
    assert _exposures(by_name, symbols).tolist() == [-0.5, 1.0]
    assert _exposures(pd.Series([0.25, 1.0]), symbols).tolist() == [0.25, 1.0]
    assert _exposures(np.float32(0.5), ("A",)).tolist() == [0.5]
    with pytest.raises(ValueError, match=r"no exposure for symbol\(s\) B"):
        _exposures(pd.Series({"A": 1.0, "C": 1.0}), symbols)
    with pytest.raises(TypeError, match=r"returned None; return one exposure per symbol"):
        _exposures(None, ("A",))
    assert _exposures({"B": 1, "A": 0.5}, symbols).tolist() == [0.5, 1.0]
    with pytest.raises(ValueError, match=r"no exposure for symbol\(s\) B"):
        _exposures({"A": 1.0}, symbols)
    with pytest.raises(ValueError, match=r"no symbol\(s\) C \(the symbols: \('A', 'B'\)\)"):
        _exposures({"A": 1.0, "B": 0.0, "C": 1.0}, symbols)


def test_an_observation_cannot_write_into_the_market() -> None:
    """``obs.timestamps`` and the price arrays are the market's rows: a strategy writing into
    them rewrote the run's timestamps (the equity index read 1970 and replay refused)."""
    from scarline.agents.user import _frozen

    market = np.arange(6, dtype=np.int64)
    view = _frozen(market[:3])
    with pytest.raises(ValueError, match="read-only"):
        view[-1] = 0
    assert market.tolist() == [0, 1, 2, 3, 4, 5] and market.flags.writeable


def test_signals_from_global_randomness_are_refused_as_such() -> None:
    """``np.random.rand`` in ``signals`` was reported as a lookahead at bar 0; replay would
    recompute other signals, so it is refused naming the cause."""
    from scarline.agents.strategy import Strategy
    from scarline.agents.user import check_deterministic, exposures_of

    class Dice(Strategy):
        def signals(self, data: pd.DataFrame) -> pd.DataFrame:
            return data["close"] * 0 + np.random.rand(len(data), 1)

    class Seeded(Strategy):
        def signals(self, data: pd.DataFrame) -> pd.DataFrame:
            rng = np.random.default_rng(self.seed)
            return data["close"] * 0 + rng.random((len(data), 1))

    data = _history(1)
    with pytest.raises(ConfigError, match=r"Dice\(\): not deterministic — .* at bar 0 \(2020"):
        check_deterministic(Dice(), data, exposures_of(Dice(), data, ["X"]))
    check_deterministic(Seeded(seed=7), data, exposures_of(Seeded(seed=7), data, ["X"]))


def test_signals_in_the_exchanges_time_zone_are_the_same_bars() -> None:
    """A frame indexed by the same instants in New York time was "the index must be the
    data's"; other bars (or wall times without a zone) still are refused."""
    from scarline.agents.strategy import Strategy
    from scarline.agents.user import exposures_of

    class Local(Strategy):
        def signals(self, data: pd.DataFrame) -> pd.DataFrame:
            close = data["close"].tz_convert("America/New_York")
            return (close > close.shift(1)).astype(float)

    class Naive(Strategy):
        def signals(self, data: pd.DataFrame) -> pd.DataFrame:
            return (data["close"] > 0).astype(float).tz_localize(None)

    data = _history(2)
    close = data["close"]["X"].to_numpy()
    expected = np.r_[0.0, (close[1:] > close[:-1]).astype(float)]
    assert exposures_of(Local(), data, ["X"])[:, 0].tolist() == expected.tolist()
    with pytest.raises(ConfigError, match=r"Naive\(\)\.signals: the index must be the data's"):
        exposures_of(Naive(), data, ["X"])


def test_a_signal_that_fails_on_a_shorter_history_says_so() -> None:
    """It answered on the whole history, so "signals failed: IndexError" alone was a puzzle."""
    from scarline.agents.strategy import Strategy
    from scarline.agents.user import check_lookahead, exposures_of

    class Needs250(Strategy):
        def signals(self, data: pd.DataFrame) -> pd.DataFrame:
            anchor = data["close"].iloc[250]
            return (data["close"] > anchor).astype(float)

    data = _history(3)
    with pytest.raises(ConfigError, match=r"IndexError.* \(on the history of bars 0\.\.59, "):
        check_lookahead(Needs250(), data, exposures_of(Needs250(), data, ["X"]))


@settings(max_examples=40, deadline=None)
@given(
    hnp.arrays(
        np.float64,
        (12, 2),
        elements=st.floats(allow_nan=True, allow_infinity=True, width=64)
        | st.sampled_from([np.nan, np.inf, -np.inf, 1e308, -0.0]),
    )
)
def test_any_numbers_become_exposures_in_range_with_nan_flat(raw: np.ndarray) -> None:
    """Whatever numbers ``signals`` returns: NaN is flat, ±inf the bound, the rest clipped;
    the caller's array is not changed."""
    from scarline.agents.strategy import Strategy
    from scarline.agents.user import exposures_of

    class Given(Strategy):
        def signals(self, data: pd.DataFrame) -> np.ndarray:
            return raw

    index = pd.date_range("2020-01-01", periods=12, freq="D", tz="UTC", name="time")
    data = pd.concat({"close": pd.DataFrame(1.0, index=index, columns=["A", "B"])}, axis=1)
    before = raw.copy()
    out = exposures_of(Given(), data, ["A", "B"])
    assert out.shape == (12, 2) and np.all((out >= -1) & (out <= 1))
    assert np.array_equal(out[np.isnan(raw)], np.zeros(np.isnan(raw).sum()))
    finite = np.isfinite(raw)
    assert np.array_equal(out[finite], np.clip(raw[finite], -1, 1))
    assert np.array_equal(out[raw == np.inf], np.ones((raw == np.inf).sum()))
    np.testing.assert_array_equal(raw, before)
