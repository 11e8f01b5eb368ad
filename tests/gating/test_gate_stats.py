"""Gate G2 statistics: deflated Sharpe, PBO by CSCV, Hansen's SPA."""

from __future__ import annotations

import itertools
import math
from statistics import NormalDist

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scarline.gating.dsr import (
    DSR_PASS,
    deflated_sharpe,
    deflated_sharpe_from_stats,
    expected_max_sharpe,
    trial_sharpes_var,
)
from scarline.gating.pbo import mean, pbo_cscv
from scarline.gating.spa import (
    market_beta,
    max_t_pvalue,
    max_t_pvalues,
    spa_pvalue,
    spa_pvalues,
)
from scarline.stats import sharpe

_N = NormalDist()


def _scalar_dsr(sr, t, skew, kurt, n, v):
    """Independent scalar implementation written from the paper's formulas."""
    g = 0.5772156649015329
    sr0 = math.sqrt(v) * ((1 - g) * _N.inv_cdf(1 - 1 / n) + g * _N.inv_cdf(1 - 1 / (n * math.e)))
    z = (sr - sr0) * math.sqrt(t - 1) / math.sqrt(1 - skew * sr + (kurt - 1) / 4 * sr * sr)
    return sr0, _N.cdf(z)


# ---------------------------------------------------------------- deflated Sharpe


def test_dsr_paper_worked_example():
    # Bailey & López de Prado (2014): annualized SR 2.5, 5 years of daily data
    # (T = 1250, 250 days/yr), skew -3, raw kurtosis 10, N = 100 trials, annualized
    # variance of trial Sharpes 0.5  ->  SR0 ≈ 0.1132 per day, DSR ≈ 0.9004.
    r = deflated_sharpe_from_stats(2.5 / math.sqrt(250), 1250, -3.0, 10.0, 100, 0.5 / 250)
    assert r.sharpe0 == pytest.approx(0.1132, abs=5e-5)
    assert r.dsr == pytest.approx(0.9004, abs=5e-4)
    sr0, dsr = _scalar_dsr(2.5 / math.sqrt(250), 1250, -3.0, 10.0, 100, 0.5 / 250)
    assert r.sharpe0 == pytest.approx(sr0, rel=1e-9)
    assert r.dsr == pytest.approx(dsr, rel=1e-9)
    assert not r.passed


def test_dsr_from_returns_matches_scalar_formula():
    rng = np.random.default_rng(1)
    x = rng.standard_t(5, 800) * 0.01 + 0.002
    r = deflated_sharpe(x, n_trials=20)
    m = x.mean()
    c = x - m
    m2 = float(np.mean(c**2))
    skew = float(np.mean(c**3)) / m2**1.5
    kurt = float(np.mean(c**4)) / m2**2
    sr = m / x.std(ddof=1)
    sr0, dsr = _scalar_dsr(sr, 800, skew, kurt, 20, 1 / 799)  # default V = 1/(T-1)
    assert (r.sharpe, r.skew, r.kurtosis, r.n_obs) == pytest.approx((sr, skew, kurt, 800))
    assert r.trials_var == pytest.approx(1 / 799)
    assert r.sharpe0 == pytest.approx(sr0, rel=1e-9)
    assert r.dsr == pytest.approx(dsr, rel=1e-9)


def test_dsr_normal_returns_raw_kurtosis_three():
    x = np.random.default_rng(2).normal(0.001, 0.01, 200_000)
    r = deflated_sharpe(x, n_trials=10)
    assert abs(r.skew) < 0.03
    assert r.kurtosis == pytest.approx(3.0, abs=0.05)  # raw, not excess


def test_dsr_decreases_with_more_trials():
    x = np.random.default_rng(3).normal(0.0005, 0.01, 1000)  # weak edge: DSR not saturated
    dsrs = [deflated_sharpe(x, n).dsr for n in (1, 2, 5, 10, 100, 1000, 10_000)]
    assert all(a > b for a, b in itertools.pairwise(dsrs))
    assert expected_max_sharpe(1, 0.01) == 0.0


def test_dsr_pass_threshold():
    rng = np.random.default_rng(4)
    strong = rng.normal(0.005, 0.01, 2000)  # per-period SR ~ 0.5
    noise = rng.normal(0.0, 0.01, 2000)
    assert DSR_PASS == 0.95
    assert deflated_sharpe(strong, 100).passed
    assert not deflated_sharpe(noise, 100).passed


def test_dsr_rejects_bad_input():
    with pytest.raises(ValueError, match="zero variance"):
        deflated_sharpe(np.ones(10), 5)
    with pytest.raises(ValueError, match="NaN"):
        deflated_sharpe(np.array([0.1, np.nan, 0.2, 0.3]), 5)
    with pytest.raises(ValueError, match="n_trials"):
        deflated_sharpe(np.random.default_rng(0).normal(size=50), 0.5)


def test_trial_sharpes_var():
    indep = np.random.default_rng(5).normal(size=(5000, 10))
    assert trial_sharpes_var(indep) == pytest.approx(1 / 4999, rel=0.8)
    flat = np.column_stack([indep[:, :3], np.zeros(5000)])  # a flat trial counts as Sharpe 0
    sr = np.append(indep[:, :3].mean(0) / indep[:, :3].std(0, ddof=1), 0.0)
    assert trial_sharpes_var(flat) == pytest.approx(np.var(sr, ddof=1))


# ---------------------------------------------------------------- PBO by CSCV


def test_pbo_noise_near_half():
    pbos = []
    for seed in range(6):
        x = np.random.default_rng(seed).normal(0, 0.01, (1000, 20))
        r = pbo_cscv(x)
        assert r.n_splits == 12870 == r.logits.size
        pbos.append(r.pbo)
    assert 0.3 <= float(np.mean(pbos)) <= 0.7
    assert sum(0.3 <= p <= 0.7 for p in pbos) >= 4


def test_pbo_planted_edge_near_zero():
    x = np.random.default_rng(7).normal(0, 0.01, (1000, 20))
    x[:, 11] += 0.003
    r = pbo_cscv(x)
    assert r.pbo <= 0.02
    assert np.all(r.logits > 0)


def test_pbo_vectorized_equals_loop():
    # uneven blocks; a large offset checks the sum-of-squares variance stays accurate
    x = np.random.default_rng(8).normal(0, 0.01, (203, 7)) + np.linspace(0, 1e3, 7)
    for fast in (sharpe, mean):
        slow = (lambda f: lambda a: f(a))(fast)  # not `is` the built-in -> looped path
        a, b = pbo_cscv(x, 8, fast), pbo_cscv(x, 8, slow)
        assert a.pbo == b.pbo
        np.testing.assert_allclose(a.logits, b.logits)
    slow_sharpe = lambda a: sharpe(a)  # noqa: E731
    ins = np.random.default_rng(8).normal(0, 0.01, (203, 7)) + 5.0
    a, b = pbo_cscv(ins, 8), pbo_cscv(ins, 8, slow_sharpe)
    np.testing.assert_allclose(a.logits, b.logits)


def test_pbo_at_full_size_k100_t2000():
    """The full CSCV (C(16, 8) splits) on a realistic size; its time is in bench/gates.py."""
    x = np.random.default_rng(9).normal(0, 0.01, (2000, 100))
    r = pbo_cscv(x, n_blocks=16)
    assert r.n_splits == 12870 and r.logits.shape == (12870,)
    assert np.isfinite(r.logits).all() and 0.0 <= r.pbo <= 1.0


@settings(max_examples=30, deadline=None)
@given(
    s=st.sampled_from([2, 4, 6, 8]),
    k=st.integers(2, 8),
    extra=st.integers(0, 30),
    seed=st.integers(0, 2**32 - 1),
    ties=st.booleans(),
)
def test_pbo_invariants(s, k, extra, seed, ties):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2 * s + extra, k))
    if ties:
        x = np.round(x)  # many equal metrics, zero-variance columns possible
    r = pbo_cscv(x, n_blocks=s)
    assert 0.0 <= r.pbo <= 1.0
    assert r.n_splits == math.comb(s, s // 2) == r.logits.size
    assert np.all(np.isfinite(r.logits))
    assert r.pbo == pytest.approx(np.mean(r.logits <= 0))


def test_pbo_rejects_bad_input():
    x = np.zeros((100, 3))
    with pytest.raises(ValueError, match="even"):
        pbo_cscv(x, n_blocks=5)
    with pytest.raises(ValueError, match="rows per block"):
        pbo_cscv(x[:10], n_blocks=16)
    with pytest.raises(ValueError, match="2 strategies"):
        pbo_cscv(x[:, :1])


# ---------------------------------------------------------------- Hansen's SPA


def test_spa_planted_edge_small_p():
    rng = np.random.default_rng(10)
    base = rng.normal(0, 0.01, (1000, 5))
    strat = rng.normal(0.002, 0.01, 1000)
    assert spa_pvalue(strat, base, reps=500, seed=1) < 0.05
    assert spa_pvalue(strat, base[:, 0], reps=500, seed=1) < 0.05  # 1-D baseline


def test_spa_noise_large_p():
    # Under the null a single draw can be anything in (0, 1]; over 20 seeds the
    # p-values of a noise strategy vs noise baselines must be large and never < 0.05.
    ps = []
    for seed in range(20):
        rng = np.random.default_rng(100 + seed)
        strat, base = rng.normal(0, 0.01, 1000), rng.normal(0, 0.01, (1000, 3))
        ps.append(spa_pvalue(strat, base, reps=300, seed=1))
    assert min(ps) > 0.05
    assert float(np.median(ps)) > 0.4


def test_spa_orientation_baseline_beating_strategy_is_not_significant():
    # The reverse case must not pass: a baseline with a planted edge over a noise
    # strategy (wrong orientation would give a small p here).
    rng = np.random.default_rng(12)
    strat = rng.normal(0.0, 0.01, 1000)
    base = rng.normal(0.002, 0.01, (1000, 1))
    assert spa_pvalue(strat, base, reps=500, seed=1) > 0.5
    # beating one baseline but not another is not enough (largest p over baselines)
    good = rng.normal(0.002, 0.01, 1000)
    both = np.column_stack([rng.normal(0, 0.01, 1000), good + rng.normal(0, 0.001, 1000)])
    assert spa_pvalue(good, both[:, :1], reps=500, seed=1) < 0.05
    assert spa_pvalue(good, both, reps=500, seed=1) > 0.2


def test_spa_deterministic_with_seed_and_checks_shapes():
    rng = np.random.default_rng(13)
    s, b = rng.normal(0.001, 0.01, 300), rng.normal(0, 0.01, (300, 2))
    assert spa_pvalue(s, b, reps=200, seed=5) == spa_pvalue(s, b, reps=200, seed=5)
    with pytest.raises(ValueError, match="length mismatch"):
        spa_pvalue(s, b[:-1], reps=10)


def test_spa_pvalues_per_baseline_and_the_largest():
    rng = np.random.default_rng(14)
    good = rng.normal(0.002, 0.01, 1000)
    base = np.column_stack([rng.normal(0, 0.01, 1000), good + rng.normal(0, 0.001, 1000)])
    ps = spa_pvalues(good, base, reps=300, seed=2)
    assert len(ps) == 2 and ps[0] < 0.05 < ps[1]
    assert spa_pvalue(good, base, reps=300, seed=2) == max(ps)


def test_beta_adjusted_benchmark_judges_alpha_not_a_lucky_market():
    """A candidate that is half in a rallying market plus a small real alpha loses to raw
    buy-and-hold, but beats buy-and-hold scaled to its own beta (its Jensen's alpha)."""
    rng = np.random.default_rng(15)
    market = rng.normal(0.003, 0.01, 1500)  # a strong bull sample
    cand = 0.5 * market + rng.normal(0.0008, 0.004, 1500)
    beta = market_beta(cand, market)
    assert beta == pytest.approx(0.5, abs=0.05)
    assert market_beta(cand, np.zeros(1500)) == 0.0
    assert spa_pvalue(cand, market, reps=300, seed=3) > 0.5
    assert spa_pvalue(cand, beta * market, reps=300, seed=3) < 0.05


def test_max_t_holds_its_level_for_the_best_of_many_noise_columns():
    # The top column of 30 noise strategies: a plain t-test would reject often (its
    # p-value is the smallest of 30); the max-t p-value is uniform-or-larger.
    ps = []
    for seed in range(200):
        x = np.random.default_rng(300 + seed).normal(0, 0.01, (250, 30))
        ps.append(max_t_pvalue(x, int(np.argmax(x.sum(axis=0))), reps=200, seed=seed))
    assert np.mean(np.array(ps) <= 0.05) <= 0.08  # 5 % + 2 binomial sd at n = 200
    assert float(np.median(ps)) > 0.3


def test_max_t_finds_a_planted_edge_and_counts_correlated_columns_as_few():
    # the same edged strategy (t about 3) among 39 near-copies of itself without the edge, or
    # among 39 independent strategies: the copies are one trial, the independent ones 39
    rng = np.random.default_rng(15)
    edged = rng.normal(0.0008, 0.01, 1000)
    copies = edged[:, None] - 0.0008 + rng.normal(0, 0.001, (1000, 39))
    independent = rng.normal(0, 0.01, (1000, 39))
    p_copies = max_t_pvalue(np.column_stack([edged, copies]), 0, reps=300, seed=1)
    p_independent = max_t_pvalue(np.column_stack([edged, independent]), 0, reps=300, seed=1)
    assert p_copies < 0.01 and p_independent < 0.05
    assert p_independent > 3 * p_copies
    flat = np.column_stack([edged, np.zeros(1000)])
    assert max_t_pvalue(flat, 1, reps=50) == 1.0  # a strategy that never traded
    assert max_t_pvalue(flat, 0, reps=100, seed=3) == max_t_pvalue(flat, 0, reps=100, seed=3)


def test_max_t_of_several_columns_is_each_columns_own():
    # one bootstrap of the maximum serves several candidates of one pool: the same p each
    rng = np.random.default_rng(8)
    x = rng.normal(0.0003, 0.01, (400, 12))
    x[:, 5] = 0.0  # a flat column keeps p = 1
    columns = [0, 3, 5, 11]
    together = max_t_pvalues(x, columns, reps=200, seed=4)
    assert together == [max_t_pvalue(x, c, reps=200, seed=4) for c in columns]
    assert together[2] == 1.0
