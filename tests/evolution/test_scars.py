import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from scarline.evolution.scars import CAUSES, ScarConfig, ScarTracker

CASH = 1_000_000


def test_drawdown_scar_is_permanent_and_raises_the_floor() -> None:
    tracker = ScarTracker(2, ScarConfig(drawdown_pct=10.0, floor_step=0.1), CASH)
    no_trades = np.zeros(2, np.int64)
    ev = tracker.update(0, np.array([CASH, 890_000]), no_trades)
    assert ev.scar_agent.tolist() == [1] and CAUSES[ev.scar_cause[0]] == "drawdown"
    assert tracker.floor.tolist() == [0.0, 0.1]
    # recovering does not heal it; a further 10 % fall from the new peak scars again
    tracker.update(1, np.array([CASH, CASH]), no_trades)
    assert tracker.scars.tolist() == [0, 1] and tracker.floor[1] == 0.1
    ev = tracker.update(2, np.array([CASH, 890_000]), no_trades)
    assert ev.scar_agent.tolist() == [1] and tracker.scars[1] == 2


def test_one_losing_trade_scars() -> None:
    tracker = ScarTracker(1, ScarConfig(trade_loss_pct=5.0, drawdown_pct=50.0), CASH)
    ev = tracker.update(0, np.array([940_000]), np.array([-60_000]))
    assert CAUSES[ev.scar_cause[0]] == "trade_loss" and ev.scar_value[0] == 6.0


def test_ruin_kills_once_and_trust_goes_to_zero() -> None:
    tracker = ScarTracker(2, ScarConfig(ruin_fraction=0.5, drawdown_pct=90.0), CASH)
    ev = tracker.update(3, np.array([500_000, CASH]), np.zeros(2, np.int64))
    assert ev.death_agent.tolist() == [0] and tracker.death_step.tolist() == [3, -1]
    assert tracker.trust[0] == 0.0 and 0 < tracker.trust[1] <= 1
    ev = tracker.update(4, np.array([400_000, CASH]), np.zeros(2, np.int64))
    assert ev.death_agent.size == 0  # dies once


@given(st.lists(st.integers(1, 3 * CASH), min_size=1, max_size=60))
def test_trust_in_unit_interval_and_scars_never_decrease(path: list[int]) -> None:
    tracker = ScarTracker(1, ScarConfig(), CASH)
    scars = 0
    for t, equity in enumerate(path):
        tracker.update(t, np.array([equity]), np.zeros(1, np.int64))
        assert 0.0 <= tracker.trust[0] <= 1.0
        assert tracker.scars[0] >= scars
        scars = int(tracker.scars[0])
        assert tracker.floor[0] <= ScarConfig().floor_max


def test_scars_lower_trust() -> None:
    a = ScarTracker(2, ScarConfig(drawdown_pct=5.0), CASH)
    a.update(0, np.array([CASH, 940_000]), np.zeros(2, np.int64))
    a.update(1, np.array([CASH, CASH]), np.zeros(2, np.int64))
    assert a.trust[1] < a.trust[0]
