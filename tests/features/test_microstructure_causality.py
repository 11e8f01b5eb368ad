"""Lookahead analysis of the microstructure measures: row t is the same on data[: t + 1]."""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from scarline.features.microstructure import MicrostructureTable, microstructure_table
from scarline.market.frame import MarketData, Quotes
from scarline.market.stream import normalized
from scarline.market.synthetic import SynthSpec, generate
from scarline.risk.config import MicrostructureConfig

FIELDS = ("vpin", "imbalance", "stale_bars", "quote_invalid", "spread_bps", "spread_z")
CFG = MicrostructureConfig(vpin_window=10, vol_halflife=8.0, spread_halflife=15.0, warmup=5)


def _rough(market: MarketData, seed: int, gap_rate: float, repeat_rate: float) -> MarketData:
    """Gaps, quotes that repeat (so staleness grows) and a few crossed quotes."""
    rng = np.random.default_rng(seed)
    q = market.quotes
    assert q is not None
    fields = [a.copy() for a in (q.bid, q.ask, q.bid_size, q.ask_size)]
    repeat = rng.random(market.valid.shape) < repeat_rate
    for t in range(1, market.n_steps):  # a repeated quote copies the row before it
        for a in fields:
            a[t] = np.where(repeat[t], a[t - 1], a[t])
    crossed = rng.random(market.valid.shape) < 0.01
    fields[1] = np.where(crossed, fields[0] - 1, fields[1])
    valid = market.valid & ~(rng.random(market.valid.shape) < gap_rate)
    return normalized(dataclasses.replace(market, valid=valid, quotes=Quotes(*fields)))


def _assert_prefix(table: MicrostructureTable, full: MicrostructureTable, cut: int) -> None:
    for name in FIELDS:
        got, want = getattr(table, name), getattr(full, name)
        assert (got is None) == (want is None), name
        if got is not None:
            assert got.dtype == want.dtype, name
            assert np.array_equal(got, want[:cut], equal_nan=got.dtype.kind == "f"), (name, cut)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    gap_rate=st.sampled_from([0.0, 0.05]),
    repeat_rate=st.sampled_from([0.0, 0.3]),
    quotes=st.booleans(),
    data=st.data(),
)
def test_truncated_market_gives_identical_rows(
    seed: int, gap_rate: float, repeat_rate: float, quotes: bool, data: st.DataObject
) -> None:
    market = generate(SynthSpec(n_steps=160, n_instruments=2, seed=seed % 10_000, quotes=True))
    market = _rough(market, seed, gap_rate, repeat_rate)
    if not quotes:
        market = dataclasses.replace(market, quotes=None)
    full = microstructure_table(market, CFG)
    cut = data.draw(st.integers(1, market.n_steps - 1), label="cut")
    _assert_prefix(microstructure_table(market.slice(0, cut), CFG), full, cut)


def test_the_measures_are_informative_where_truncation_is_tested() -> None:
    """The truncation test bites: every measure varies and is defined on most rows."""
    market = _rough(generate(SynthSpec(n_steps=300, n_instruments=2, seed=4, quotes=True)),
                    4, 0.05, 0.3)  # fmt: skip
    full = microstructure_table(market, CFG)
    for name in ("vpin", "imbalance", "spread_z"):
        a = getattr(full, name)
        assert np.isfinite(a).mean() > 0.7 and np.unique(a[np.isfinite(a)]).size > 100, name
    assert full.stale_bars.max() >= 2 and full.quote_invalid.any()


def test_changing_the_future_leaves_the_past_alone() -> None:
    market = generate(SynthSpec(n_steps=200, n_instruments=2, seed=9, quotes=True))
    full = microstructure_table(market, CFG)
    cut = 120
    q = market.quotes
    assert q is not None

    def swap(a: np.ndarray, scale: int = 1) -> np.ndarray:
        out = a.copy()
        out[cut:] = a[cut:][::-1] * scale
        return out

    other = dataclasses.replace(
        market,
        close=swap(market.close),
        volume=swap(market.volume, 3),
        quotes=Quotes(swap(q.bid), swap(q.ask, 2), swap(q.bid_size), swap(q.ask_size)),
    )
    changed = microstructure_table(other, CFG)
    _assert_prefix(
        dataclasses.replace(changed, **{n: getattr(changed, n)[:cut] for n in FIELDS}),
        full,
        cut,
    )
    assert not np.array_equal(changed.spread_z[cut:], full.spread_z[cut:], equal_nan=True)
