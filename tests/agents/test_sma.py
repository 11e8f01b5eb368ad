import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from scarline.agents.sma import SmaCrossover, crossover_pairs, rolling_sum_ticks
from scarline.instrument import InstrumentSpec
from scarline.market.frame import MarketData


def market_of(close_ticks: np.ndarray, valid: np.ndarray | None = None) -> MarketData:
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
        valid=np.ones((t_n, m_n), bool) if valid is None else valid,
        exog=np.zeros((t_n, m_n, 0)),
    )


def test_rolling_sum_matches_a_plain_loop_and_skips_gaps() -> None:
    x = np.random.default_rng(0).integers(1, 1000, size=(50, 2))
    valid = np.ones_like(x, bool)
    valid[20, 1] = False
    got = rolling_sum_ticks(x, valid, 7)
    for t in range(50):
        for m in range(2):
            window = range(t - 6, t + 1)
            ok = t >= 6 and all(valid[k, m] for k in window)
            assert got[t, m] == (sum(int(x[k, m]) for k in window) if ok else -1)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(40, 120))
def test_decisions_are_causal(seed: int, cut: int) -> None:
    """Truncating the data after t never changes any decision up to t (no lookahead)."""
    rng = np.random.default_rng(seed)
    close = 10_000 + np.cumsum(rng.integers(-50, 51, size=(150, 2)), axis=0)
    pairs = crossover_pairs([3, 5], [8, 13])
    full = SmaCrossover(market_of(close), pairs)
    short = SmaCrossover(market_of(close[:cut]), pairs)
    for t in range(cut):
        np.testing.assert_array_equal(full.decide(t), short.decide(t))


def test_agents_are_vectorized_and_follow_the_rule() -> None:
    close = np.concatenate([np.arange(100, 140), np.arange(140, 100, -1)])[:, None].astype(np.int64)
    policy = SmaCrossover(market_of(close), [(2, 5), (3, 10)], allow_short=True)
    assert policy.decide(30).tolist() == [[1], [1]]  # rising: fast above slow
    assert policy.decide(75).tolist() == [[-1], [-1]]  # falling: short
    assert policy.decide(0).tolist() == [[0], [0]]  # averages not yet full: flat
    flat = np.full((40, 1), 500, np.int64)
    assert SmaCrossover(market_of(flat), [(2, 5)]).decide(39).tolist() == [[0]]  # exact tie


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.booleans())
def test_the_compiled_crossover_equals_the_numpy_rule(seed: int, allow_short: bool) -> None:
    """Random walks with ties (flat stretches) and missing bars, three instruments."""
    rng = np.random.default_rng(seed)
    close = 10_000 + np.cumsum(rng.integers(-3, 4, size=(80, 3)), axis=0)
    valid = rng.random((80, 3)) > 0.03
    policy = SmaCrossover(
        market_of(close, valid), crossover_pairs([1, 2, 3, 5], [4, 8, 13]), allow_short
    )
    for t in range(80):
        got, want = policy.decide(t), policy._decide_numpy(t)
        assert got.dtype == want.dtype and np.array_equal(got, want), t
