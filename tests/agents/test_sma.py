import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from scarline.agents.sma import SmaCrossover, crossover_pairs, rolling_mean
from scarline.instrument import InstrumentSpec
from scarline.market.frame import MarketData


def _market(close_ticks: np.ndarray) -> MarketData:
    t_n, m_n = close_ticks.shape
    z = np.zeros((t_n, m_n), np.int64)
    return MarketData(
        name="t",
        source="test",
        frequency="1d",
        timestamps=np.arange(t_n, dtype=np.int64),
        instruments=tuple(InstrumentSpec(symbol=f"S{i}") for i in range(m_n)),
        open=close_ticks,
        high=close_ticks,
        low=close_ticks,
        close=close_ticks,
        volume=z,
        valid=np.ones((t_n, m_n), bool),
        exog=np.zeros((t_n, m_n, 0)),
    )


def test_rolling_mean_matches_a_plain_loop() -> None:
    x = np.random.default_rng(0).normal(size=(50, 2))
    got = rolling_mean(x, 7)
    for t in range(50):
        expected = x[t - 6 : t + 1].mean(axis=0) if t >= 6 else np.full(2, np.nan)
        np.testing.assert_allclose(got[t], expected, equal_nan=True)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(40, 120))
def test_decisions_are_causal(seed: int, cut: int) -> None:
    """Truncating the data after t never changes any decision up to t (no lookahead)."""
    rng = np.random.default_rng(seed)
    close = 10_000 + np.cumsum(rng.integers(-50, 51, size=(150, 2)), axis=0)
    pairs = crossover_pairs([3, 5], [8, 13])
    full = SmaCrossover(_market(close), pairs)
    short = SmaCrossover(_market(close[:cut]), pairs)
    for t in range(cut):
        np.testing.assert_array_equal(full.decide(t)[0], short.decide(t)[0])


def test_agents_are_vectorized_and_follow_the_rule() -> None:
    close = np.concatenate([np.arange(100, 140), np.arange(140, 100, -1)])[:, None].astype(np.int64)
    policy = SmaCrossover(_market(close), [(2, 5), (3, 10)], order_qty=4)
    actions, qty = policy.decide(30)  # rising: fast above slow
    assert actions.shape == (2, 1) and actions.tolist() == [[1], [1]]
    assert qty.tolist() == [[4], [4]]
    actions, _ = policy.decide(75)  # falling for a while: flat
    assert actions.tolist() == [[0], [0]]
    assert policy.decide(0)[0].tolist() == [[0], [0]]  # averages not yet full: flat
