"""The researcher's API as a notebook uses it: a strategy written in a module, run through
``sl.backtest`` on the bundled S&P 500, gives the built-in SMA baseline's trades and final
equity and an independent loop's; the result is DataFrames; replay covers the user's code."""

from __future__ import annotations

import importlib
import json
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import scarline as sl
from scarline.config import RunConfig
from scarline.errors import ConfigError, DataError, WalError
from scarline.performance import COLUMNS
from scarline.runner import load_run_market

STRATEGY = '''
import scarline as sl


class SmaCross(sl.Strategy):
    """Long while the 10-bar mean of closes is above the 30-bar mean."""

    def signals(self, data):
        close = data["close"]
        fast = close.rolling(self.fast).mean()
        slow = close.rolling(self.slow).mean()
        return (fast > slow).astype(float).where(slow.notna())
'''
DATA = "sp500"
WINDOW = {"data": {"source": "sp500", "start": "2015-01-01", "end": "2019-12-31"}}


@pytest.fixture
def user_module(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "user_strats.py"
    path.write_text(STRATEGY, encoding="utf-8")
    sys.path.insert(0, str(tmp_path))
    try:
        yield path
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("user_strats", None)


def _loop(close: np.ndarray, open_: np.ndarray, cash: float) -> tuple[float, list[int]]:
    """The same rules, by hand: decide on bar t's close, trade all-in at bar t+1's open
    (whole units, no costs), mark at the close; returns (final equity, entry bars)."""
    position, entries = 0, []
    for t in range(len(close) - 1):
        if t + 1 < 30:
            continue
        fast, slow = close[t - 9 : t + 1].mean(), close[t - 29 : t + 1].mean()
        want = fast > slow
        equity = cash + position * close[t]
        if want and position == 0:
            position = int(np.floor(equity / close[t]))
            cash -= position * open_[t + 1]
            entries.append(t + 1)
        elif not want and position > 0:
            cash += position * open_[t + 1]
            position = 0
    return cash + position * close[-1], entries


def test_a_users_sma_matches_the_baseline_and_a_loop(user_module: Path, tmp_path: Path) -> None:
    user_strats = importlib.import_module("user_strats")
    res = sl.backtest(
        DATA,
        [user_strats.SmaCross(fast=10, slow=30)],
        config=WINDOW,
        cash=100_000,
        out_dir=tmp_path / "runs",
        run_id="notebook",
    )
    base = sl.backtest(
        DATA,
        config=WINDOW | {"agents": [{"kind": "sma-crossover", "fast": [10], "slow": [30]}]},
        cash=100_000,
        out_dir=tmp_path / "runs",
        run_id="baseline",
    )
    assert isinstance(res.equity, pd.DataFrame) and res.equity.shape == (1006, 1)
    assert list(res.stats.columns) == ["policy", "kind", *COLUMNS]
    assert res.stats.loc[0, "policy"] == "SmaCross(fast=10,slow=30)"
    keys = ["entry_step", "exit_step", "qty", "entry_price", "exit_price", "pnl", "side"]
    pd.testing.assert_frame_equal(res.trades[keys], base.trades[keys])
    final = float(res.equity.iloc[-1, 0])
    assert final == float(base.equity.iloc[-1, 0])

    market = load_run_market(RunConfig.model_validate(WINDOW))
    close, open_ = market.prices("close")[:, 0], market.prices("open")[:, 0]
    loop_final, entries = _loop(close, open_, 100_000.0)
    assert entries == res.trades["entry_step"].tolist()
    assert final == pytest.approx(loop_final, rel=1e-9)

    assert sl.replay(res.run_dir).parity
    assert sl.load_run(res.run_dir).stats.equals(res.stats)
    user_module.write_text(STRATEGY.replace("rolling(self.fast)", "rolling(self.fast + 1)"))
    with pytest.raises(WalError, match=r"user_strats\.py changed"):
        sl.replay(res.run_dir)


def test_a_grid_runs_as_one_population_and_a_frame_is_data(
    user_module: Path, tmp_path: Path
) -> None:
    user_strats = importlib.import_module("user_strats")
    index = pd.date_range("2020-01-01", periods=300, freq="D", tz="UTC")
    close = 100 * np.exp(np.cumsum(np.random.default_rng(1).normal(0, 0.01, 300)))
    frame = pd.DataFrame({"open": close, "high": close * 1.01, "low": close * 0.99,
                          "close": close, "volume": 1000.0}, index=index)  # fmt: skip
    res = sl.backtest(
        frame,
        [sl.grid(user_strats.SmaCross, fast=[3, 5, 8, 10, 12], slow=[20, 30, 40, 50, 60])],
        out_dir=tmp_path / "runs",
    )
    assert res.equity.shape == (300, 25)  # 25 agents, one kernel, one run
    assert len(res.stats) == 25 and res.stats["trades"].sum() > 0
    assert res.plot().data  # an interactive figure with traces


def test_a_rerun_gets_its_own_directory_that_replays_from_anywhere(
    user_module: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Relative paths are resolved when the run starts, and a run id taken in the same
    second gets a suffix instead of failing."""
    user_strats = importlib.import_module("user_strats")
    index = pd.date_range("2020-01-01", periods=120, freq="D", tz="UTC")
    frame = pd.DataFrame({"close": 100 + np.sin(np.arange(120) / 5)}, index=index)
    monkeypatch.chdir(tmp_path)
    strategy = user_strats.SmaCross(fast=3, slow=10)
    first = sl.backtest(frame, [strategy], out_dir="runs")
    second = sl.backtest(frame, [strategy], out_dir="runs")  # ids name the second: may clash
    assert first.run_dir != second.run_dir
    snapshot = tomllib.loads((tmp_path / second.run_dir / "config.toml").read_text())
    source = RunConfig.model_validate(snapshot).data.source
    assert Path(source).is_absolute() and Path(source).is_file()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert sl.replay(tmp_path / second.run_dir).parity


def test_api_mistakes_are_scarline_errors(user_module: Path, tmp_path: Path) -> None:
    user_strats = importlib.import_module("user_strats")
    index = pd.date_range("2020-01-01", periods=60, freq="D", tz="UTC")
    frame = pd.DataFrame({"close": np.linspace(100, 110, 60)}, index=index)

    class Nested(user_strats.SmaCross):  # made inside a function: replay cannot import it
        pass

    with pytest.raises(ConfigError, match=r"key 'nonsense'"):
        sl.backtest(frame, [user_strats.SmaCross(fast=3, slow=10)], config={"nonsense": 1})
    with pytest.raises(ConfigError, match=r"not defined at the top level"):
        sl.backtest(frame, [Nested(fast=3, slow=10)], out_dir=tmp_path)
    with pytest.raises(DataError, match=r"not Series"):
        sl.backtest(frame["close"], [user_strats.SmaCross(fast=3, slow=10)])  # type: ignore[arg-type]
    grid = sl.grid(user_strats.SmaCross, fast=range(3, 6), slow=np.array([10, 20]))
    assert grid.grid == {"fast": [3, 4, 5], "slow": [10, 20]} and grid.size == 6
    assert all(type(v) is int for v in grid.grid["slow"])
    with pytest.raises(ConfigError, match=r"grid slow: a 1-D array"):
        sl.grid(user_strats.SmaCross, slow=np.ones((2, 2)))


def test_calendar_sets_how_the_statistics_annualize(user_module: Path, tmp_path: Path) -> None:
    """Daily bars of a market that never closes: 365 bars a year, not an exchange's 252."""
    user_strats = importlib.import_module("user_strats")
    index = pd.date_range("2020-01-01", periods=200, freq="D", tz="UTC")
    close = 100 * np.exp(np.cumsum(np.random.default_rng(3).normal(0, 0.02, 200)))
    frame = pd.DataFrame({"close": close}, index=index)
    strategy = [user_strats.SmaCross(fast=3, slow=10)]
    exchange = sl.backtest(frame, strategy, out_dir=tmp_path / "a")
    crypto = sl.backtest(frame, strategy, calendar="24/7", out_dir=tmp_path / "b")
    ratio = crypto.stats["sharpe"].iloc[0] / exchange.stats["sharpe"].iloc[0]
    assert ratio == pytest.approx(np.sqrt(365 / 252), rel=1e-9)
    with pytest.raises(ConfigError, match=r"data\.calendar"):
        sl.backtest(frame, strategy, calendar="weekly", out_dir=tmp_path / "c")  # type: ignore[arg-type]


HELPED = '''
import scarline as sl
from indicators import crossing

import signal_lib.smooth as smooth


class Helped(sl.Strategy):
    """An SMA cross whose maths lives in the user's own modules."""

    def signals(self, data):
        close = smooth.mean(data["close"], self.fast)
        return crossing(close, data["close"].rolling(self.slow).mean())
'''


def test_replay_covers_the_users_modules_a_strategy_imports(tmp_path: Path) -> None:
    """Editing a helper module the strategy imports (a module or a function from it) is a
    refusal naming that file, not a replay without parity; installed packages are not
    recorded."""
    (tmp_path / "helped.py").write_text(HELPED, encoding="utf-8")
    (tmp_path / "indicators.py").write_text(
        "def crossing(a, b):\n    return (a > b).astype(float).where(b.notna())\n"
    )
    (tmp_path / "signal_lib").mkdir()
    (tmp_path / "signal_lib" / "__init__.py").write_text("")
    smooth = tmp_path / "signal_lib" / "smooth.py"
    smooth.write_text("def mean(x, n):\n    return x.rolling(n).mean()\n")
    sys.path.insert(0, str(tmp_path))
    try:
        helped = importlib.import_module("helped")
        index = pd.date_range("2020-01-01", periods=120, freq="D", tz="UTC")
        frame = pd.DataFrame({"close": 100 + np.sin(np.arange(120) / 5)}, index=index)
        res = sl.backtest(frame, [helped.Helped(fast=3, slow=10)], out_dir=tmp_path / "runs")
        recorded = json.loads((res.run_dir / "manifest.json").read_text())["strategy_sources"]
        names = sorted(Path(f).relative_to(tmp_path).as_posix() for f in recorded)
        assert names == ["helped.py", "indicators.py", "signal_lib/smooth.py"]
        assert sl.replay(res.run_dir).parity
        smooth.write_text("def mean(x, n):\n    return x.rolling(n + 1).mean()\n")
        with pytest.raises(WalError, match=r"signal_lib/smooth\.py changed since the run"):
            sl.replay(res.run_dir)
    finally:
        sys.path.remove(str(tmp_path))
        for name in ("helped", "indicators", "signal_lib", "signal_lib.smooth"):
            sys.modules.pop(name, None)


def test_one_strategy_need_not_be_in_a_list_and_out_dir_defaults_to_the_configs(
    user_module: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``backtest(frame, SmaCross(...))`` was "'SmaCross' object is not iterable"; a config's
    ``out_dir`` was ignored for ``runs`` in the working directory."""
    user_strats = importlib.import_module("user_strats")
    monkeypatch.chdir(tmp_path)
    index = pd.date_range("2020-01-01", periods=60, freq="D", tz="UTC")
    frame = pd.DataFrame({"close": 100 + np.sin(np.arange(60) / 5)}, index=index)
    res = sl.backtest(
        frame,
        user_strats.SmaCross(fast=3, slow=10),
        config={"out_dir": str(tmp_path / "mine")},
        seed=np.int64(4),  # a numpy number is a number
    )
    assert res.run_dir.parent == tmp_path / "mine" and not (tmp_path / "runs").exists()
    assert list(res.stats["policy"]) == ["SmaCross(fast=3,slow=10)"]
    two = sl.backtest(frame, sl.grid(user_strats.SmaCross, fast=[3, 4], slow=10), out_dir="x")
    assert two.equity.shape == (60, 2) and two.run_dir.parent == Path("x")


def test_backtest_arguments_of_the_wrong_kind_are_named(user_module: Path, tmp_path: Path) -> None:
    user_strats = importlib.import_module("user_strats")
    index = pd.date_range("2020-01-01", periods=60, freq="D", tz="UTC")
    frame = pd.DataFrame({"close": np.linspace(100, 110, 60)}, index=index)
    one = user_strats.SmaCross(fast=3, slow=10)
    (tmp_path / "file").write_text("")
    cases: list[tuple[dict[str, object], str]] = [
        ({"config": [1]}, r"^config: expected a TOML path, a dict or a RunConfig, not list$"),
        ({"out_dir": tmp_path / "file"}, r"^out_dir .*file: not a directory$"),
        ({"out_dir": 5}, r"^out_dir: expected a directory path, not int$"),
        ({"run_id": 5}, r"^run_id: expected text, not int$"),
        ({"strategies": [user_strats.SmaCross]}, r"^strategies\[0\]: .*got the class SmaCross$"),
        ({"strategies": "SmaCross"}, r"^strategies\[0\]: .*grid\(\.\.\.\), got str$"),
    ]
    for kwargs, match in cases:
        with pytest.raises(ConfigError, match=match):
            sl.backtest(frame, **({"strategies": [one], "out_dir": tmp_path} | kwargs))  # type: ignore[arg-type]
    assert not (tmp_path / "file").read_text()


def test_grid_refuses_what_a_config_cannot_hold_in_one_line(user_module: Path) -> None:
    user_strats = importlib.import_module("user_strats")
    with pytest.raises(ConfigError, match=r"^grid: parameter 'fast' is nan; a parameter must"):
        sl.grid(user_strats.SmaCross, fast=[3, float("nan")])
    with pytest.raises(ConfigError, match=r"^grid: expected a scarline\.Strategy subclass"):
        sl.grid(user_strats.SmaCross(fast=3), slow=[10, 20])  # type: ignore[arg-type]
    assert sl.grid(user_strats.SmaCross, fast=np.float32(0.5)).params == {"fast": 0.5}


def test_a_pyarrow_table_runs_like_a_frame_whatever_window_the_config_names(
    tmp_path: Path,
) -> None:
    index = pd.date_range("2024-01-01", periods=40, freq="D")
    frame = pd.DataFrame({"date": index, "close": np.linspace(100.0, 120.0, 40).round(2)})
    config = {**WINDOW, "agents": [{"kind": "buy-and-hold"}], "report": False}
    # the config's 2015-2019 window is its sp500's: a frame's own dates replace it
    res = sl.backtest(pa.Table.from_pandas(frame), config=config, out_dir=tmp_path)
    assert len(res.equity) == 40
