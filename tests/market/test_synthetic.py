"""The synthetic generator: deterministic, internally consistent, and with known truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scarline.errors import DataError
from scarline.market.checks import check_market, check_market_source
from scarline.market.io import load_market, write_csv
from scarline.market.synthetic import (
    SynthSpec,
    generate,
    generate_with_truth,
    linear_recurrence,
    regime_path,
)


def _log_returns(close: np.ndarray) -> np.ndarray:
    return np.diff(np.log(close.astype(np.float64)), axis=0)


def test_same_seed_same_market_other_seed_other_market() -> None:
    spec = SynthSpec(n_steps=400, n_instruments=3, seed=7, quotes=True, planted_ic=0.1, labels=True)
    a, b = generate(spec), generate(spec)
    assert a.content_hash() == b.content_hash()
    for name in ("open", "high", "low", "close", "volume", "exog", "timestamps"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    other = generate(SynthSpec(n_steps=400, n_instruments=3, seed=8, quotes=True))
    assert not np.array_equal(a.close, other.close)


def test_optional_columns_do_not_move_prices() -> None:
    plain = generate(SynthSpec(n_steps=300, seed=4))
    rich = generate(SynthSpec(n_steps=300, seed=4, quotes=True, planted_ic=0.2, labels=True))
    np.testing.assert_array_equal(plain.close, rich.close)
    np.testing.assert_array_equal(plain.volume, rich.volume)
    assert rich.exog_names == ("signal", "regime") and plain.exog.shape[2] == 0


@pytest.mark.parametrize("ic", [0.05, 0.1, -0.15])
def test_planted_signal_has_the_requested_ic_on_the_next_return_only(ic: float) -> None:
    market = generate(SynthSpec(n_steps=20_000, n_instruments=2, seed=11, planted_ic=ic))
    r = _log_returns(market.close)
    signal = market.exog[:, :, 0]
    for j in range(2):
        realised = np.corrcoef(signal[:-1, j], r[:, j])[0, 1]
        assert abs(realised - ic) < 0.03
        same_bar = np.corrcoef(signal[1:, j], r[:, j])[0, 1]  # signal_t vs r_t: not planted
        assert abs(same_bar) < 0.03


def test_bars_are_consistent_and_opens_are_the_previous_close() -> None:
    market = generate(SynthSpec(n_steps=2000, n_instruments=2, seed=2, quotes=True))
    o, h, lo, c = market.open, market.high, market.low, market.close
    np.testing.assert_array_equal(o[1:], c[:-1])
    assert (lo <= np.minimum(o, c)).all() and (h >= np.maximum(o, c)).all() and (lo >= 1).all()
    assert market.volume.dtype == np.int64 and (market.volume >= 1).all()
    q = market.quotes
    assert q is not None and (q.bid < q.ask).all() and (q.bid >= 1).all()
    assert (q.bid_size >= 1).all() and (q.ask_size >= 1).all()


def test_spread_widens_in_chaos_and_labels_are_the_truth() -> None:
    market, regimes = generate_with_truth(SynthSpec(n_steps=5000, seed=9, quotes=True, labels=True))
    np.testing.assert_array_equal(market.exog[:, 0, 0], regimes)
    assert set(np.unique(regimes)) == {0, 1, 2}
    spread = (market.quotes.ask - market.quotes.bid)[:, 0]  # type: ignore[union-attr]
    assert spread[regimes == 2].mean() > 2 * spread[regimes == 0].mean()


def test_regimes_are_sticky_and_volatility_clusters() -> None:
    market, regimes = generate_with_truth(SynthSpec(n_steps=20_000, seed=1))
    switches = np.count_nonzero(np.diff(regimes))
    assert 100 < switches < 1000  # mean stay of 10-100 bars under the default matrix
    r = _log_returns(market.close)[:, 0]
    sq = (r - r.mean()) ** 2
    assert np.corrcoef(sq[1:], sq[:-1])[0, 1] > 0.1
    vol = [r[regimes[1:] == k].std() for k in range(3)]
    assert vol[0] < vol[1] < vol[2]


def test_random_walk_is_the_no_edge_control() -> None:
    market, regimes = generate_with_truth(SynthSpec(n_steps=20_000, seed=3, random_walk=True))
    r = _log_returns(market.close)[:, 0]
    assert abs(r.mean()) < 4 * r.std() / np.sqrt(r.size)
    assert not regimes.any()
    sq = (r - r.mean()) ** 2
    assert abs(np.corrcoef(sq[1:], sq[:-1])[0, 1]) < 0.05


def test_minute_bars_and_bad_specs() -> None:
    market = generate(SynthSpec(n_steps=10, freq="1min", start="2024-05-01T09:30:00"))
    assert market.frequency == "1min" and set(np.diff(market.timestamps)) == {60 * 10**9}
    with pytest.raises(DataError, match="planted_ic must be in"):
        SynthSpec(planted_ic=1.5)
    with pytest.raises(DataError, match="unknown frequency"):
        SynthSpec(freq="1fortnight")
    with pytest.raises(DataError, match="rows summing to 1"):
        SynthSpec(transition=((0.5, 0.5, 0.5), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0)))


def test_block_recurrence_matches_the_plain_loop() -> None:
    rng = np.random.default_rng(np.random.SeedSequence(0))
    a = 0.9 + 0.2 * rng.random((300, 2))
    b = rng.random((300, 2))
    expected = np.empty_like(b)
    expected[0] = 1.0
    for t in range(1, 300):
        expected[t] = a[t] * expected[t - 1] + b[t]
    np.testing.assert_allclose(linear_recurrence(a, b, np.ones(2), block=7), expected, rtol=1e-10)


def test_regime_path_starts_calm_and_has_the_right_length() -> None:
    trans = np.array([[0.9, 0.1, 0.0], [0.0, 0.9, 0.1], [0.1, 0.0, 0.9]])
    path = regime_path(trans, 1000, np.random.default_rng(np.random.SeedSequence(2)))
    assert path.shape == (1000,) and path[0] == 0
    jumps = set(zip(path[:-1][np.diff(path) != 0], path[1:][np.diff(path) != 0], strict=True))
    assert jumps <= {(0, 1), (1, 2), (2, 0)}  # only the allowed transitions


specs = st.builds(
    SynthSpec,
    n_steps=st.integers(2, 300),
    n_instruments=st.integers(1, 3),
    seed=st.integers(0, 2**32),
    freq=st.sampled_from(["1d", "1h", "1min"]),
    start_price=st.sampled_from(["0.05", "1.00", "100.00", "25000.00"]),
    quotes=st.booleans(),
    planted_ic=st.none() | st.floats(-0.5, 0.5),
    random_walk=st.booleans(),
    labels=st.booleans(),
)


@settings(max_examples=40, deadline=None)
@given(spec=specs)
def test_generated_data_always_passes_g0(spec: SynthSpec) -> None:
    report = check_market(generate(spec))
    assert report.ok, report.errors[:3]


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(spec=specs)
def test_generated_files_pass_g0_and_reload_identically(spec: SynthSpec, tmp_path: Path) -> None:
    market = generate(spec)
    path = write_csv(market, tmp_path / "synth.csv")
    assert check_market_source(path).ok
    assert load_market(path).content_hash() == market.content_hash()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"start": "2262-04-01", "n_steps": 100}, r"100 bars of 1d from 2262-04-01 run past"),
        ({"start": "3000-01-01"}, r"start '3000-01-01' is not a date or time within"),
        ({"start": "garbage"}, r"start 'garbage' is not a date"),
        ({"start": ""}, r"start '' is not a date"),
        ({"tick_size": "0"}, r"tick size '0' is not a positive decimal"),
        ({"tick_size": "0.000000001"}, r"tick size '0.000000001' is finer than one cash unit"),
        ({"start_price": "1e20"}, r"start_price 1e20 is more than 1e\+15 ticks"),
    ],
)
def test_a_spec_the_market_could_not_hold_is_one_named_problem(
    fields: dict[str, object], message: str
) -> None:
    # once: timestamps wrapped around to 1677, or a DivisionByZero / OutOfBounds traceback
    with pytest.raises(DataError, match=r"^synthetic spec: " + message):
        SynthSpec(**fields)  # type: ignore[arg-type]
