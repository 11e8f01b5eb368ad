"""Audit of G2's statistics against their papers' definitions, each test an independent
computation or a property the statistic must have (see docs/gates.md)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast

import numpy as np
import pytest
from arch.bootstrap import SPA

from scarline.gating import evidence, robustness
from scarline.gating.config import GatesConfig
from scarline.gating.context import GateContext
from scarline.gating.spa import (
    _hansen_spa,
    _long_run_variance,
    small_sample_factor,
    spa_pvalue,
    spa_pvalues,
)

# ---------------------------------------------------------------- Hansen's SPA


def test_spa_counts_the_same_resamples_as_arch_for_one_model():
    """One model: studentization cancels, so our count of T* >= T equals arch's count of
    T* > T (continuous data, positive mean) on the same draws; the p-value adds one to both
    sides. The long-run variance is arch's estimator."""
    reps = 200
    for seed in range(4):
        rng = np.random.default_rng(seed)
        s, b = rng.normal(0.1, 1.0, 150), rng.normal(0.0, 0.5, 150)
        ref = SPA(-b, -s, reps=reps, seed=np.random.default_rng(seed))
        ref.compute()
        count = round(float(ref.pvalues["consistent"]) * reps)
        gain, block = (s - b)[:, None], ref.block_size
        ours = _hansen_spa(gain, block, reps, np.random.default_rng(seed), small_sample=False)
        assert ours == (1 + count) / (1 + reps)
        ref_var = ref._loss_diff_var  # the private figure: the estimator, not its API
        assert np.allclose(_long_run_variance((s - b)[:, None], ref.block_size), ref_var)


def test_small_sample_factor_is_the_long_run_variance_bias_under_iid_returns():
    """E[ω̂²] / σ² over 4,000 iid normal records equals the factor derived in closed form
    (0.81 at T = 60, block 7), well outside the Monte Carlo error of ±0.01 from 1."""
    rng = np.random.default_rng(3)
    for t in (20, 60):
        block = int(np.sqrt(t))
        x = rng.standard_normal((t, 4000))
        mean = float(_long_run_variance(x, block).mean())
        assert mean == pytest.approx(small_sample_factor(t, block), abs=0.02)
    assert small_sample_factor(60, 7) < 0.85 and small_sample_factor(100_000, 316) > 0.99


def test_spa_divides_the_observed_mean_by_an_unbiased_long_run_variance():
    """On a short record the corrected statistic is smaller by √c, so its p-value is never
    below arch's on the same resamples, and above it where the edge is marginal."""
    rng = np.random.default_rng(8)
    larger = 0
    for seed in range(20):
        gain = rng.normal(0.25, 1.0, (60, 1))
        raw = _hansen_spa(gain, 7, 199, np.random.default_rng(seed), small_sample=False)
        fixed = _hansen_spa(gain, 7, 199, np.random.default_rng(seed))
        assert fixed >= raw
        larger += fixed > raw
    assert larger >= 10


def test_spa_pvalue_is_never_zero_from_a_finite_resample():
    """arch reads "no resample beat it" as p = 0; with 99 resamples the evidence is p = 1/100
    (a p of 0 became z = 7 in the Stouffer combination with the in-sample record)."""
    rng = np.random.default_rng(0)
    assert spa_pvalue(rng.normal(1.0, 1.0, 120), np.zeros(120), reps=99, seed=1) == 1 / 100


def test_spa_is_studentized_across_models():
    """Hansen's statistic divides each model's mean differential by its own standard error:
    a clear edge (t = 2.5) beside a very noisy useless model is still found. arch 8.0's
    unstudentized maximum lets the noisy model drown it (its p here: about 0.5)."""
    rng = np.random.default_rng(7)
    t = 250
    good = rng.normal(0.0, 0.5, t)
    good += 0.5 * 2.5 / np.sqrt(t) - good.mean()
    noisy = rng.normal(0.0, 20.0, t)
    assert spa_pvalue(np.column_stack([good, noisy]), np.zeros(t), reps=300, seed=1) < 0.05


def test_spa_strategy_behind_the_benchmark_gets_p_one():
    """T = max(0, max t) = 0 when the mean differential is negative, and every resample
    reaches 0: p = 1, as for an exact tie (arch's unfloored statistic gave about 0.5)."""
    rng = np.random.default_rng(3)
    s = rng.normal(-0.2, 1.0, 200)
    assert spa_pvalues(s, np.column_stack([np.zeros(200), s]), reps=100, seed=1) == [1.0, 1.0]


def test_spa_pvalues_under_the_null_are_valid():
    """Zero-mean strategy against cash: p is never below 1/(1 + reps), and it is not small
    much more often than its level says (150 draws: a loose band, not a size study)."""
    rng = np.random.default_rng(11)
    ps = np.array(
        [spa_pvalue(rng.normal(0.0, 1.0, 300), np.zeros(300), reps=99, seed=i) for i in range(150)]
    )
    assert ps.min() >= 1 / 100
    assert (ps <= 0.1).mean() <= 0.18
    assert (ps <= 0.5).mean() >= 0.35  # not stuck at 1 either


# ---------------------------------------------------------------- PBO over distinct strategies


def _pbo_ctx(equity: np.ndarray, groups: list[slice]) -> GateContext:
    """What :func:`evidence.overfit_probability` reads: rule groups only (no clustering)."""
    ctx = SimpleNamespace(
        thresholds=GatesConfig(G2={"pbo_blocks": 4}),
        candidates=[SimpleNamespace(group=0, agent=0)],
        run=SimpleNamespace(equity=equity, groups=lambda: [(rows, None) for rows in groups]),
        tick=lambda _note: None,
    )
    return cast(GateContext, ctx)


def test_pbo_counts_identical_strategies_once():
    """Three rule agents with one return series are one strategy: nothing was selected, so
    PBO is n/a (it was 1.0, a veto: every split's winner tied with its copies out of sample).
    Beside a different strategy, the copies count once too."""
    rng = np.random.default_rng(5)
    path = np.cumprod(1.0 + 0.01 * rng.standard_normal(81))
    (same,) = evidence.overfit_probability(_pbo_ctx(np.column_stack([path] * 3), [slice(0, 3)]))
    assert same["strategies"] == 1 and same["pass"] is True
    assert str(same["pbo"]).startswith("n/a")
    other = np.cumprod(1.0 + 0.01 * rng.standard_normal(81))
    equity = np.column_stack([path, path, other, path])
    performance, counts = evidence.distinct_strategies(_pbo_ctx(equity, [slice(0, 2), slice(2, 4)]))
    assert performance.shape == (80, 2) and counts == {"agents[0]": 1, "agents[1]": 1}


# ---------------------------------------------------------------- G3 cost stress


def test_slippage_sweep_that_judges_nothing_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """``slippage_bps = [10]`` with ``slippage_pass_bps = 5`` (or a pass level of 0) judged
    no point of the sweep, and ``all([])`` passed a candidate that loses at every point."""
    losing = np.full((50, 1), -0.001)
    monkeypatch.setattr(robustness, "cost_jobs", lambda _ctx: {})
    th = GatesConfig(G3={"slippage_bps": [10.0], "slippage_pass_bps": 5.0})
    ctx = SimpleNamespace(
        thresholds=th,
        candidates=[0],
        frozen_returns=lambda _jobs, _note: {"slippage:10.0": losing},
    )
    (verdict,) = robustness.slippage(cast(GateContext, ctx))
    assert verdict["pass"] is False and "nothing was judged" in str(verdict["error"])
    ctx.thresholds = GatesConfig(G3={"slippage_bps": [10.0], "slippage_pass_bps": 10.0})
    (verdict,) = robustness.slippage(cast(GateContext, ctx))
    assert verdict["pass"] is False and "error" not in verdict  # judged, and it loses
    ctx.frozen_returns = lambda _jobs, _note: {"slippage:10.0": -losing}
    (verdict,) = robustness.slippage(cast(GateContext, ctx))
    assert verdict["pass"] is True
