"""Edge inputs of the gates' statistics and checks: each gives a defined verdict (a fail
with a reason, or a refusal naming the input), never a crash, a NaN or an infinite figure,
and never a pass on a degenerate case."""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from statistics import NormalDist
from types import SimpleNamespace
from typing import cast

import numpy as np
import pytest
from pydantic import ValidationError

from scarline.errors import ConfigError
from scarline.gating import evidence, robustness
from scarline.gating.config import GatesConfig, load_gates_config
from scarline.gating.context import Baselines, GateContext
from scarline.gating.dsr import EULER_GAMMA, deflated_sharpe, expected_max_sharpe
from scarline.gating.spa import spa_pvalues
from scarline.gating.subject import GateInputError, chosen_in_sample, select


def test_expected_max_sharpe_stays_finite_for_huge_trial_counts() -> None:
    """1 - 1/N rounds to 1 past ~1e16 trials; SR0 must still be the formula's value, and
    V = 0 gives SR0 = 0 (not 0 x inf = NaN with a warning)."""
    inv = NormalDist().inv_cdf
    for n in (1e6, 1e17, 1e40):
        want = 0.1 * ((1 - EULER_GAMMA) * -inv(1 / n) + EULER_GAMMA * -inv(1 / (n * math.e)))
        assert expected_max_sharpe(n, 0.01) == pytest.approx(want, rel=1e-12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert expected_max_sharpe(1e20, 0.0) == 0.0
    r = 0.05 + 0.01 * np.random.default_rng(0).standard_normal(200)
    res = deflated_sharpe(r, n_trials=1e18)
    assert math.isfinite(res.sharpe0) and 0.0 <= res.dsr <= 1.0


@pytest.mark.parametrize(
    ("n_trials", "trials_var"), [(math.nan, 0.01), (math.inf, 0.01), (10, math.nan), (10, -1)]
)
def test_dsr_refuses_undefined_trial_inputs(n_trials: float, trials_var: float) -> None:
    r = 0.01 * np.random.default_rng(1).standard_normal(50)
    with pytest.raises(ValueError, match=r"n_trials|trials_var"):
        deflated_sharpe(r, n_trials, trials_var)


def test_dsr_refuses_returns_the_sharpe_guard_calls_flat() -> None:
    """A std of ~1e-16 is "no variation" for every Sharpe in the project (0, not a draw);
    DSR must not go on to divide rounding noise into a skew of 7 and a kurtosis of 50."""
    r = np.r_[np.full(49, 0.1), 0.1 + 1e-15]
    with pytest.raises(ValueError, match="zero variance"):
        deflated_sharpe(r, 10)


def test_spa_a_strategy_equal_to_its_benchmark_is_not_superior() -> None:
    """arch counts bootstrap maxima strictly above the observed one: a zero differential
    came out as p = 0, "certainly beats it" (a buy-and-hold candidate against its own
    beta-adjusted buy-and-hold)."""
    s = 0.01 * np.random.default_rng(2).standard_normal(100) + 0.002
    zeros = np.zeros_like(s)
    p_same, p_cash = spa_pvalues(s, np.column_stack([s, zeros]), reps=200)
    assert p_same == 1.0 and p_cash < 0.5
    assert spa_pvalues(zeros, zeros, reps=200) == [1.0]
    assert spa_pvalues(s - 0.001, s, reps=200) == [1.0]  # behind by a constant
    # ahead by a constant: dominance, the smallest p 200 resamples can give (never 0)
    assert spa_pvalues(s + 0.001, s, reps=200) == [1 / 201]
    # a tied model among others does not drag the search's p-value down
    two = np.column_stack([s, s - 0.01 * np.random.default_rng(3).standard_normal(100)])
    assert spa_pvalues(two, s, reps=200)[0] > 0.2


def _short_ctx(bars: int) -> GateContext:
    """Just what the evidence checks read, for one candidate with ``bars`` evaluated bars."""
    rng = np.random.default_rng(4)
    base = 0.01 * rng.standard_normal((bars, 1)) + 0.003
    market = 0.01 * rng.standard_normal(bars)
    placebos = 0.01 * rng.standard_normal((bars, 10))
    baselines = Baselines(market, placebos, np.zeros(0), np.zeros((0, 10)))
    clusters = evidence.cluster_trials(np.column_stack([base, -base]))
    ctx = SimpleNamespace(
        thresholds=GatesConfig(),
        candidates=[SimpleNamespace(group=0, agent=0)],
        base=base,
        holdout=False,
        baselines=lambda _c: baselines,
        clusters=lambda _g: clusters,
        run=SimpleNamespace(generations=lambda _g: 1),
    )
    return cast(GateContext, ctx)


@pytest.mark.parametrize("bars", [1, 2, 5, 9])
def test_a_short_evaluated_part_fails_dsr_and_spa_with_a_reason(bars: int) -> None:
    """Fewer than 10 held-out bars crashed the whole gate run (SPA's ValueError)."""
    ctx = _short_ctx(bars)
    (spa,) = evidence.superior_ability(ctx)
    assert spa["pass"] is False and spa["p_value"] == 1.0
    assert f"{bars} evaluated bars; the test needs at least 10" in str(spa["error"])
    (dsr,) = evidence.deflated(ctx)
    if bars < 3:
        assert dsr["pass"] is False and "needs at least 3" in str(dsr["error"])
    else:
        assert "error" not in dsr and math.isfinite(float(dsr["dsr"]))  # type: ignore[arg-type]


def test_regime_sliced_does_not_pass_when_no_regime_was_judged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Eight evaluated bars, every regime below ``regime_min_bars``: nothing was judged, and
    the check used to pass (the ledger took that as regime-sliced evidence)."""
    bars = 8
    labels = np.full(40, 2)
    monkeypatch.setattr(robustness, "_regime_labels", lambda _ctx: (labels, ("a", "b", "c"), "t"))
    base = 0.01 * np.random.default_rng(5).standard_normal((bars, 1))
    ctx = SimpleNamespace(thresholds=GatesConfig(), candidates=[0], base=base, start=32)
    (verdict,) = robustness.regime_sliced(cast(GateContext, ctx))
    assert verdict["pass"] is False and verdict["worst_sharpe"] is None
    assert "no regime has 20 evaluated bars" in str(verdict["error"])
    labels[:] = 0  # 8 bars are enough when the threshold says so
    ctx.thresholds = GatesConfig(G3={"regime_min_bars": 8, "regime_min_sharpe": -10.0})
    (verdict,) = robustness.regime_sliced(cast(GateContext, ctx))
    assert verdict["pass"] is True and "error" not in verdict


@pytest.mark.parametrize("blocks", [3, 15, 22])
def test_pbo_blocks_odd_or_huge_are_refused_when_read(blocks: int, tmp_path: Path) -> None:
    """An odd S crashed PBO after every re-run had finished; a huge one (C(40, 20) splits)
    never finishes. Both are refused with the file and the key."""
    with pytest.raises(ValidationError, match="pbo_blocks"):
        GatesConfig(G2={"pbo_blocks": blocks})
    path = tmp_path / "gates.toml"
    path.write_text(f"[G2]\npbo_blocks = {blocks}\n")
    with pytest.raises(ConfigError, match=rf"{path}.*G2\.pbo_blocks"):
        load_gates_config(path)


@pytest.mark.parametrize("spec", ["²", "١", "top:١", "1,²"])
def test_agent_ids_are_ascii_digits(spec: str) -> None:
    """``str.isdigit`` took '²' (``int`` then raised: an internal error, exit 1) and '١'
    (read as agent 1)."""
    with pytest.raises(GateInputError, match="neither top:K nor an agent id"):
        select(cast(object, None), [spec])  # type: ignore[arg-type]
    assert chosen_in_sample([spec]) is False


def test_a_negative_seed_is_refused_when_read(tmp_path: Path) -> None:
    """numpy refuses negative seeds: ``seed = -1`` was accepted and crashed the first placebo
    draw, after the replay (an internal error, exit 1)."""
    with pytest.raises(ValidationError, match="seed"):
        GatesConfig(seed=-1)
    path = tmp_path / "gates.toml"
    path.write_text("seed = -1\n")
    with pytest.raises(ConfigError, match=rf"{path}.*seed"):
        load_gates_config(path)
    assert GatesConfig(seed=2**63 - 1).seed == 2**63 - 1  # the largest the config takes
