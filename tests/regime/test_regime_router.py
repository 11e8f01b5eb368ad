"""Bucket router: causal buckets, first matching rule, config checks, the sizing band."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from scarline.market.stream import normalized
from scarline.market.synthetic import SynthSpec, generate
from scarline.regime.router import (
    Buckets,
    RouterConfig,
    RouteRule,
    apply_band,
    buckets,
    route,
)

MARKET = normalized(generate(SynthSpec(n_steps=400, n_instruments=3, seed=2)))


@settings(max_examples=15, deadline=None)
@given(cut=st.integers(30, 399))
def test_buckets_at_t_use_bars_up_to_t_only(cut: int) -> None:
    cfg = RouterConfig(enabled=True, vol_window=10, trend_window=10, liquidity_window=5)
    full = buckets(MARKET, cfg)
    head = buckets(MARKET.slice(0, cut), cfg)
    for name in ("vol", "trend", "liquidity"):
        assert np.array_equal(getattr(head, name), getattr(full, name)[:cut]), name


def test_every_bucket_occurs_on_a_regime_switching_market() -> None:
    b = buckets(MARKET, RouterConfig(enabled=True))
    assert set(np.unique(b.vol)) == {0, 1}
    assert set(np.unique(b.trend)) == {0, 1, 2}
    assert set(np.unique(b.liquidity)) <= {0, 1}


def test_the_first_matching_rule_wins_and_regime_rules_need_the_hmm() -> None:
    cfg = RouterConfig(
        enabled=True,
        rules=[
            RouteRule(regime="chaos", profile="defensive"),
            RouteRule(vol="high", trend="up", profile="cautious"),
            RouteRule(trend="up", profile="trend"),
            RouteRule(profile="normal"),
        ],
    )
    names = list(cfg.profiles)
    b = Buckets(
        vol=np.array([[1, 1, 0, 0]], dtype=np.int8),
        trend=np.array([[2, 1, 2, 0]], dtype=np.int8),
        liquidity=np.ones((1, 4), dtype=np.int8),
    )
    got = [names[p] for p in route(b, cfg)[0]]
    assert got == ["cautious", "normal", "trend", "normal"]
    # the macro regime of the bar overrides every bucket when a rule names it
    assert [names[p] for p in route(b, cfg, np.array([2]))[0]] == ["defensive"] * 4
    assert [names[p] for p in route(b, cfg, np.array([0]))[0]] == got


def test_config_errors_name_the_field() -> None:
    with pytest.raises(ValidationError, match="last rule must match anything"):
        RouterConfig(rules=[RouteRule(vol="high", profile="normal")])
    with pytest.raises(ValidationError, match=r"rules\[0\].profile: 'bold' is not one of"):
        RouterConfig(rules=[RouteRule(profile="bold")])
    with pytest.raises(ValidationError, match="sizing_band must be 0 <= low <= high"):
        RouterConfig(profiles={"x": {"sizing_band": [0.5, 0.2]}}, rules=[{"profile": "x"}])


@settings(max_examples=50, deadline=None)
@given(
    x=st.lists(st.floats(-2, 2), min_size=4, max_size=4),
    lo=st.floats(0, 1),
    width=st.floats(0, 1),
)
def test_band_drops_small_and_clips_large_exposures(
    x: list[float], lo: float, width: float
) -> None:
    hi = lo + width
    exposure = np.array([x], dtype=np.float32)
    low, high = np.full(4, lo), np.full(4, hi)  # float64 edges, as the kernel passes them
    out = apply_band(exposure, low, high)
    assert out.dtype == np.float32
    assert np.all(np.abs(out) <= np.float32(hi) + 1e-6)
    assert np.all((out == 0) | (np.sign(out) == np.sign(exposure)))
    small = np.abs(exposure) < low
    assert np.all(out[small] == 0)
    inside = ~small & (np.abs(exposure) <= high)
    assert np.array_equal(out[inside], exposure[inside])


def test_band_of_integer_states_gives_fractions() -> None:
    """Rule baselines decide in int8 states; a band of 0.25 must not truncate them to 0."""
    out = apply_band(np.array([[1, 0, -1]], dtype=np.int8), np.zeros(3), np.full(3, 0.25))
    assert out.dtype == np.float32 and out.tolist() == [[0.25, 0.0, -0.25]]
