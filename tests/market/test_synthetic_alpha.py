"""The planted persistent drift: a causal edge the market really has, seen through ``alpha``."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scarline.errors import DataError
from scarline.market.checks import check_market
from scarline.market.synthetic import SynthSpec, alpha_state, generate

IC = 0.2


def _log_returns(close: np.ndarray) -> np.ndarray:
    return np.diff(np.log(close.astype(np.float64)), axis=0)


def _alpha(spec: SynthSpec) -> tuple[np.ndarray, np.ndarray]:
    market = generate(spec)
    return market.exog[:, :, market.exog_names.index("alpha")], market.close


@pytest.fixture(scope="module")
def long_market() -> tuple[np.ndarray, np.ndarray]:
    spec = SynthSpec(n_steps=20_000, n_instruments=2, seed=5, random_walk=True, drift_ic=IC)
    alpha, close = _alpha(spec)
    return alpha, _log_returns(close)


def test_alpha_has_the_requested_ic_on_the_next_return(
    long_market: tuple[np.ndarray, np.ndarray],
) -> None:
    alpha, r = long_market  # r[t] is the return from close t to close t+1
    for j in range(alpha.shape[1]):
        assert abs(np.corrcoef(alpha[:-1, j], r[:, j])[0, 1] - IC) < 0.04


def test_the_edge_persists_one_bar_later(long_market: tuple[np.ndarray, np.ndarray]) -> None:
    alpha, r = long_market
    for j in range(alpha.shape[1]):
        lag1 = np.corrcoef(alpha[:-2, j], r[1:, j])[0, 1]  # alpha_{t-1} vs r_{t+1}
        assert abs(lag1 - 0.95 * IC) < 0.04
        assert abs(np.corrcoef(alpha[1:, j], alpha[:-1, j])[0, 1] - 0.95) < 0.02
        assert abs(alpha[:, j].std() - 1.0) < 0.1


def test_alpha_on_a_regime_market_keeps_roughly_its_ic() -> None:
    alpha, close = _alpha(SynthSpec(n_steps=20_000, n_instruments=2, seed=6, drift_ic=IC))
    r = _log_returns(close)
    for j in range(2):
        assert abs(np.corrcoef(alpha[:-1, j], r[:, j])[0, 1] - IC) < 0.05


def test_alpha_is_causal_and_prefix_stable() -> None:
    """A longer market has the same alpha on the common prefix (bitwise)."""
    spec = SynthSpec(n_steps=1000, n_instruments=2, seed=9, random_walk=True, drift_ic=IC)
    short, _ = _alpha(spec)
    long, _ = _alpha(replace(spec, n_steps=1500))
    np.testing.assert_array_equal(short, long[:1000])


def test_alpha_moves_only_the_next_return() -> None:
    """log close with the drift minus log close without it is the running sum of c·s_{t-1}.

    The shocks are not prefix-stable in T (they are drawn as whole blocks), so causality of
    prices is shown this way: bar t's close depends on alpha up to t-1 only.
    """
    base = SynthSpec(n_steps=800, n_instruments=2, seed=4, start_price="10000.00", random_walk=True)
    with_drift = generate(replace(base, drift_ic=IC))
    without = generate(replace(base, drift_ic=0.0))
    np.testing.assert_array_equal(without.close, generate(base).close)
    alpha = with_drift.exog[:, :, 0]
    sigma = base.per_bar()[1][0]
    c = IC / np.sqrt(1 - IC**2) * sigma
    expected = np.vstack([np.zeros((1, 2)), np.cumsum(c * alpha[:-1], axis=0)])
    gap = np.log(with_drift.close.astype(np.float64)) - np.log(without.close.astype(np.float64))
    np.testing.assert_allclose(gap, expected, atol=1e-5)


def test_alpha_state_matches_the_plain_recursion() -> None:
    rho = 0.8
    seed_seq = np.random.SeedSequence(3)
    got = alpha_state(np.random.default_rng(seed_seq), 300, 2, rho)
    eta = np.random.default_rng(seed_seq).standard_normal((300, 2))
    expected = np.empty_like(eta)
    expected[0] = eta[0]
    for t in range(1, 300):
        expected[t] = rho * expected[t - 1] + np.sqrt(1 - rho**2) * eta[t]
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    white = alpha_state(np.random.default_rng(seed_seq), 300, 2, 0.0)
    np.testing.assert_array_equal(white, eta)


# content_hash() of these specs, computed with the generator before ``drift_ic`` existed
# (commit 8116eb9): appending the "alpha" stream must leave every old market byte-identical.
GOLDEN = [
    (
        SynthSpec(n_steps=300, seed=4),
        "28753986611c849948a2b4aa3cd8e81aa7a933e05dfdb3ec2e6f87ee35d973d0",
    ),
    (
        SynthSpec(n_steps=400, n_instruments=3, seed=7, quotes=True, planted_ic=0.1, labels=True),
        "7f5b7bcdbccec33082c05c9a220d7a13702b77088fd5ac4a1ba2aa873606c930",
    ),
    (
        SynthSpec(n_steps=500, n_instruments=2, seed=11, random_walk=True, freq="1h"),
        "b2aeba4930bcbcaccbe44ef24de7f10a2c17f841d3961fd664d88cbee4ee7b92",
    ),
    (
        SynthSpec(n_steps=250, seed=123, planted_ic=-0.2, labels=True),
        "d20052975e915e6be709f4998da4659ed7abe13caf1768f21cf6c3319f018cc2",
    ),
]


@pytest.mark.parametrize(("spec", "digest"), GOLDEN)
def test_markets_without_drift_are_unchanged(spec: SynthSpec, digest: str) -> None:
    assert generate(spec).content_hash() == digest


def test_drift_touches_nothing_but_returns_and_its_own_column() -> None:
    plain_spec = GOLDEN[1][0]
    plain = generate(plain_spec)
    rich = generate(replace(plain_spec, drift_ic=0.3, drift_persistence=0.5))
    assert rich.exog_names == ("signal", "regime", "alpha")
    np.testing.assert_array_equal(plain.volume, rich.volume)  # same shocks, same volume draws
    np.testing.assert_array_equal(plain.exog[:, :, 1], rich.exog[:, :, 1])
    assert not np.array_equal(plain.close, rich.close)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"drift_ic": 1.0}, "drift_ic must be in"),
        ({"drift_ic": -1.5}, "drift_ic must be in"),
        ({"drift_persistence": 1.0}, "drift_persistence must be in"),
        ({"drift_persistence": -0.1}, "drift_persistence must be in"),
    ],
)
def test_bad_drift_specs_are_rejected(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(DataError, match=message):
        replace(SynthSpec(), **kwargs)


@settings(max_examples=25, deadline=None)
@given(
    n_steps=st.integers(2, 200),
    extra=st.integers(1, 50),
    n_instruments=st.integers(1, 3),
    seed=st.integers(0, 2**32),
    ic=st.floats(-0.9, 0.9),
    rho=st.floats(0.0, 0.999),
    random_walk=st.booleans(),
)
def test_drift_markets_pass_g0_and_alpha_is_prefix_stable(
    n_steps: int,
    extra: int,
    n_instruments: int,
    seed: int,
    ic: float,
    rho: float,
    random_walk: bool,
) -> None:
    spec = SynthSpec(
        n_steps=n_steps,
        n_instruments=n_instruments,
        seed=seed,
        drift_ic=ic,
        drift_persistence=rho,
        random_walk=random_walk,
    )
    market = generate(spec)
    assert check_market(market).ok
    longer = generate(replace(spec, n_steps=n_steps + extra))
    np.testing.assert_array_equal(market.exog, longer.exog[:n_steps])
