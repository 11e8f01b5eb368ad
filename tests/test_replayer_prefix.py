"""A sealed prefix finds the session it was cut from, even when its last step is torn."""

from dataclasses import replace

from scarline.config import RunConfig
from scarline.market.frame import MarketData
from scarline.replayer import session_steps
from scarline.runner import load_run_market


def _config() -> RunConfig:
    raw = {
        "data": {"source": "sp500-20", "start": "2022-06-01"},
        "agents": [{"kind": "buy-and-hold"}],
        "evaluation": {"oos_fraction": 0.3},
        "report": False,
    }
    return RunConfig.model_validate(raw)


def _without_bars(market: MarketData, step: int, instruments: slice) -> MarketData:
    """``market`` as the WAL rebuilds it when those bars of ``step`` were never journaled."""
    valid = market.valid.copy()
    valid[step, instruments] = False
    close = market.close.copy()
    close[step, instruments] = 0
    return replace(market, valid=valid, close=close)


def test_a_prefix_whose_last_step_lost_some_bars_still_finds_its_session() -> None:
    config = _config()
    full = load_run_market(config)
    prefix = full.slice(0, 100)
    assert session_steps(config, prefix) == full.n_steps
    # kill -9 between two bars of step 99: the split was taken from 100 steps (70), so
    # replay froze evolution before migrations the island had journaled
    assert session_steps(config, _without_bars(prefix, 99, slice(1, None))) == full.n_steps
    # a bar missing before the last step is another market
    assert session_steps(config, _without_bars(prefix, 50, slice(1, None))) is None
