"""Placebo-market transformations: block permutation of returns, lagged exog, truncation."""

from __future__ import annotations

from dataclasses import replace
from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scarline.gating.transforms import block_permuted, lagged_exog, truncated
from scarline.market.frame import MarketData
from scarline.market.stream import normalized
from scarline.market.synthetic import SynthSpec, generate

PRICE_FIELDS = ("open", "high", "low", "close", "volume")
QUOTE_FIELDS = ("bid", "ask", "bid_size", "ask_size")


@cache
def _market(seed: int, quotes: bool, n_steps: int = 160, n_instruments: int = 3) -> MarketData:
    spec = SynthSpec(
        n_steps=n_steps, n_instruments=n_instruments, seed=seed, planted_ic=0.3, quotes=quotes
    )
    return generate(spec)


@cache
def _gappy(seed: int) -> MarketData:
    """A market with missing bars (zeroed like the loaders store them), incl. a leading gap."""
    market = _market(seed, True)
    valid = np.random.default_rng(seed).random(market.valid.shape) > 0.15
    valid[:7, 0] = False
    valid[-1] = True
    return normalized(replace(market, valid=valid))


def _arrays(market: MarketData) -> dict[str, np.ndarray]:
    out = {f: getattr(market, f) for f in (*PRICE_FIELDS, "valid", "exog", "timestamps")}
    if market.quotes is not None:
        out |= {f: getattr(market.quotes, f) for f in QUOTE_FIELDS}
    return out


def _assert_consistent(market: MarketData) -> None:
    v = market.valid
    o, h, lo, c = (getattr(market, f)[v] for f in ("open", "high", "low", "close"))
    for a in (o, h, lo, c, market.volume):
        assert a.dtype == np.int64
    assert (lo >= 1).all()
    assert (lo <= np.minimum(o, c)).all()
    assert (h >= np.maximum(o, c)).all()
    if market.quotes is not None:
        q = market.quotes
        assert (q.bid[v] >= 1).all()
        assert (q.ask[v] >= q.bid[v]).all()


def _log_returns(close: np.ndarray, start: int, anchor: np.ndarray) -> np.ndarray:
    """Log returns of rows ``start:`` from the anchor close (the original row start-1, or row 0
    for start 0: bar 0 has a zero return)."""
    logc = np.log(close[start:].astype(np.float64))
    return np.diff(logc, axis=0, prepend=np.log(anchor.astype(np.float64))[None, :])


seeds = st.integers(0, 2**32 - 1)
markets = st.sampled_from([(0, False), (1, True), (2, True)])


@settings(max_examples=60, deadline=None)
@given(which=markets, seed=seeds, block=st.integers(1, 40), start=st.integers(0, 159))
def test_block_permuted_invariants(which, seed, block, start):
    market = _market(*which)
    out = block_permuted(market, block, np.random.default_rng(seed), start)
    before, after = _arrays(market), _arrays(out)
    assert before.keys() == after.keys()
    for name, a in before.items():
        b = after[name]
        assert b.dtype == a.dtype and b.shape == a.shape
        np.testing.assert_array_equal(b[:start], a[:start], err_msg=name)
    for name in ("valid", "exog", "timestamps"):
        np.testing.assert_array_equal(after[name], before[name])
    assert out.exog_names == market.exog_names
    _assert_consistent(out)

    # the moved log returns are the original ones reordered, up to one tick of rounding
    anchor = market.close[max(start - 1, 0)]
    r0, r1 = (_log_returns(m.close, start, anchor) for m in (market, out))
    tol = 1.0 / (min(market.close.min(), out.close.min()) - 0.5)
    np.testing.assert_allclose(np.sort(r1, axis=0), np.sort(r0, axis=0), rtol=0, atol=tol)
    # the total move is kept: the path ends where it ended
    assert np.abs(out.close[-1] - market.close[-1]).max() <= 1
    # volumes are moved, not changed
    np.testing.assert_array_equal(np.sort(out.volume, axis=0), np.sort(market.volume, axis=0))

    again = block_permuted(market, block, np.random.default_rng(seed), start)
    for name, a in _arrays(again).items():
        np.testing.assert_array_equal(a, after[name])


@settings(max_examples=40, deadline=None)
@given(
    market_seed=st.integers(0, 2), seed=seeds, block=st.integers(1, 30), start=st.integers(0, 159)
)
def test_block_permuted_with_missing_bars(market_seed, seed, block, start):
    market = _gappy(market_seed)
    start %= market.n_steps  # normalizing drops rows no instrument traded (seed 1: 159 left)
    out = block_permuted(market, block, np.random.default_rng(seed), start)
    np.testing.assert_array_equal(out.valid, market.valid)
    np.testing.assert_array_equal(out.exog, market.exog)
    for name, a in _arrays(market).items():
        np.testing.assert_array_equal(_arrays(out)[name][:start], a[:start])
    _assert_consistent(out)
    # missing rows are zeroed as the loaders store them
    missing = ~market.valid
    for name in (*PRICE_FIELDS, *QUOTE_FIELDS):
        arr = getattr(out, name) if name in PRICE_FIELDS else getattr(out.quotes, name)
        assert (arr[missing] == 0).all(), name
    # returns of missing bars are 0 and span the gap on the next valid bar: the total move is
    # kept, so the last (valid) row's close is unchanged
    assert np.abs(out.close[-1] - market.close[-1]).max() <= 1


@pytest.mark.parametrize("quotes", [False, True])
def test_one_block_is_identity(quotes):
    market = _market(3, quotes)
    out = block_permuted(market, 10_000, np.random.default_rng(0), start=17)
    for name, a in _arrays(market).items():
        np.testing.assert_array_equal(_arrays(out)[name], a, err_msg=name)


def test_blocks_are_contiguous_and_shared_across_instruments():
    market = _market(4, False)
    out = block_permuted(market, 8, np.random.default_rng(5), start=0)
    # volume is moved as is: recover each new row's source row from instrument 0's volumes
    # and check the other instruments (and the block structure) agree
    vol = market.volume
    src = np.array([np.flatnonzero((vol == row).all(axis=1))[0] for row in out.volume])
    assert sorted(src.tolist()) == list(range(market.n_steps))
    starts = src[::8]
    assert (starts % 8 == 0).all()
    np.testing.assert_array_equal(src, (starts[:, None] + np.arange(8)).ravel()[: src.size])
    assert not (src == np.arange(src.size)).all()


def _ic(market: MarketData) -> np.ndarray:
    """Per-instrument corr(signal_t, r_{t+1})."""
    k = market.exog_names.index("signal")
    r = np.diff(np.log(market.close.astype(np.float64)), axis=0)
    s = market.exog[:-1, :, k]
    return np.array([np.corrcoef(s[:, j], r[:, j])[0, 1] for j in range(r.shape[1])])


def test_placebo_destroys_the_planted_signal():
    market = _market(11, False, n_steps=5000, n_instruments=3)
    before = _ic(market)
    assert np.all(np.abs(before - 0.3) < 0.05), before
    after = _ic(block_permuted(market, 5, np.random.default_rng(12)))
    assert np.all(np.abs(after) < 0.08), after


def test_block_permuted_bad_arguments():
    market = _market(0, False)
    rng = np.random.default_rng(0)
    for block, start in [(0, 0), (-1, 0), (5, -1), (5, market.n_steps)]:
        with pytest.raises(ValueError):
            block_permuted(market, block, rng, start)


@pytest.mark.parametrize("lag", [0, 1, 3, 200])
def test_lagged_exog_shifts(lag):
    market = _market(1, True)
    out = lagged_exog(market, lag)
    t = market.n_steps
    for s in range(t):
        np.testing.assert_array_equal(out.exog[s], market.exog[max(s - lag, 0)])
    for name, a in _arrays(market).items():
        if name != "exog":
            assert _arrays(out)[name] is a, name
    assert out.exog_names == market.exog_names
    if lag == 0:
        assert out.content_hash() == market.content_hash()
        assert out.exog is not market.exog


def test_lagged_exog_negative_lag():
    with pytest.raises(ValueError):
        lagged_exog(_market(0, False), -1)


def test_truncated():
    market = _market(2, True)
    out = truncated(market, 50)
    assert out.n_steps == 50
    assert out.content_hash() == market.slice(0, 50).content_hash()
    assert truncated(market, market.n_steps).content_hash() == market.content_hash()
    for stop in (-1, 0, 1, market.n_steps + 1):
        with pytest.raises(ValueError):
            truncated(market, stop)
