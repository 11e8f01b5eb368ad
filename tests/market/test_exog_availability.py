"""``[data] exog_available_after``: a column is seen only when it is known, in run and replay.

The planted column ``signal`` is a noisy copy of the *next* bar's return (a look-ahead). Used
as published it earns an edge no real trader could have; declared as known one bar late, the
same rule earns nothing, because the kernel then sees at bar t the value stamped at t − 1.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from list_journal import ListJournal

from scarline.assembly import kernel_for
from scarline.config import RunConfig
from scarline.errors import ConfigError
from scarline.events import Bar
from scarline.features.config import FeatureConfig
from scarline.features.market import market_features
from scarline.market.asof import available_after
from scarline.market.frame import MarketData
from scarline.market.io import write_market
from scarline.market.synthetic import SynthSpec, generate
from scarline.operator import ReplayOperator
from scarline.replayer import replay, replay_run
from scarline.runner import execute_run, load_run_market
from scarline.session import SessionIds

SPEC = SynthSpec(n_steps=600, n_instruments=1, seed=7, planted_ic=0.5)
EXOG_ONLY = FeatureConfig(
    return_windows=[], vol_windows=[], momentum_windows=[], rsi_windows=[], normalize="none"
)


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_market(generate(SPEC), tmp_path_factory.mktemp("data") / "planted.csv")


BUY_AND_HOLD = {"kind": "buy-and-hold", "sizing": {"mode": "fraction", "fraction": 1.0}}


def _config(source: Path, lag: int | None = None, agents: list | None = None) -> RunConfig:
    """Validated like a config file (errors are ConfigErrors naming the key)."""
    overrides: dict[str, object] = {
        "data.source": str(source),
        "agents": agents or [BUY_AND_HOLD],
        "report": False,
    }
    if lag is not None:
        overrides["data.exog_available_after"] = {"signal": lag}
    return RunConfig().with_overrides(**overrides)


class SignalRule:
    """Long when the ``signal`` column the kernel shows is positive, short when negative."""

    name = "sign(signal)"
    n_agents = 1

    def __init__(self, market: MarketData) -> None:
        self.labels = ["sign(signal)"]
        signal = market.exog[:, :, market.exog_names.index("signal")]
        self._side = np.sign(signal).astype(np.int8)

    def decide(self, t: int) -> np.ndarray:
        return self._side[t][None, :]


def _rule_return(cfg: RunConfig) -> tuple[float, ListJournal]:
    """Final return of the rule traded by the kernel on the run's market (orders at t + 1)."""
    journal = ListJournal()
    market = load_run_market(cfg)
    kernel = kernel_for(cfg, market, SessionIds("t", "s"), journal, ReplayOperator([]))
    kernel.population.groups[0] = SignalRule(kernel.market)
    kernel.run()
    equity = kernel.recorder.equity
    assert equity is not None
    return float(equity[-1, 0] / equity[0, 0] - 1.0), journal


def test_default_is_every_column_known_at_its_close(source: Path) -> None:
    cfg = _config(source)
    assert cfg.data.exog_available_after == {}
    raw = generate(SPEC)
    assert np.allclose(load_run_market(cfg).exog, raw.exog)


def test_features_at_t_are_the_raw_column_at_t_minus_lag(source: Path) -> None:
    raw = load_run_market(_config(source)).exog[:, 0, 0]
    for lag in (1, 3):
        market = load_run_market(_config(source, lag))
        table = market_features(market, EXOG_ONLY)
        assert table.names == ["exog:signal"]
        seen = table.values[:, 0, 0]
        assert np.array_equal(seen[lag:], np.clip(raw[:-lag], -5, 5).astype(np.float32))
        assert not seen[:lag].any()  # not known yet: missing, as a missing cell is


def test_a_lookahead_column_earns_undeclared_and_nothing_once_declared(source: Path) -> None:
    leaked, _ = _rule_return(_config(source))
    honest, journal = _rule_return(_config(source, 1))
    assert leaked > 5.0  # +500 % and more from knowing the next bar's move
    close = load_run_market(_config(source)).prices("close")[:, 0]
    chance = 2 * np.diff(np.log(close)).std() * np.sqrt(close.size)  # 2 sigma of a coin
    assert abs(honest) < chance < 1.0
    # the WAL's bars carry what the kernel saw: the value stamped one bar earlier
    raw = load_run_market(_config(source)).exog[:, 0, 0]
    bars = journal.of(Bar)
    assert bars[0].exog == [0.0] and bars[10].exog == [raw[9]]


def test_replay_reproduces_a_run_with_the_option_on(source: Path, tmp_path: Path) -> None:
    q = {"kind": "q-network", "count": 4, "qnet": {"hidden": [8], "warmup_steps": 16}}
    cfg = _config(source, 2, agents=[q, BUY_AND_HOLD])
    summary = execute_run(cfg, run_id="asof", out_dir=tmp_path)
    result = replay_run(summary.run_dir)
    assert result.parity and result.wal_head_replayed == summary.wal_head
    rebuilt = replay(summary.run_dir).market  # from the WAL alone
    assert np.array_equal(rebuilt.exog, load_run_market(cfg).exog)
    assert rebuilt.content_hash() == summary.data_hash


def test_unknown_column_names_the_key_and_lists_the_columns(source: Path) -> None:
    cfg = _config(source).with_overrides(**{"data.exog_available_after": {"signl": 1}})
    with pytest.raises(ConfigError) as err:
        load_run_market(cfg)
    message = str(err.value)
    assert "data.exog_available_after.signl" in message and "signal" in message


def test_lag_bounds_are_checked(source: Path) -> None:
    with pytest.raises(ConfigError, match=r"data\.exog_available_after\.signal"):
        _config(source, -1)
    with pytest.raises(ConfigError, match="less than or equal"):
        _config(source, 10**6)
    with pytest.raises(ConfigError, match="below the market's 600 rows"):
        available_after(generate(SPEC), {"signal": 600})
