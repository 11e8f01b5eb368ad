"""The implausible-edge flag's IC: a leaked copy of the next return is flagged, a strong but
legitimate one-bar predictor (IC 0.15-0.20) is not."""

from __future__ import annotations

import numpy as np
import pytest

from scarline.gating.config import GatesConfig
from scarline.gating.plausibility import next_bar_ic
from scarline.market.synthetic import SynthSpec, generate

IMPLAUSIBLE_IC = GatesConfig().G2.implausible_ic


def _ic(spec: SynthSpec, oos: float = 0.3) -> np.ndarray:
    market = generate(spec)
    start = market.n_steps - int(market.n_steps * oos)
    return np.array(
        [
            next_bar_ic(market.exog[:, i], market.close[:, i], market.valid[:, i], start)
            for i in range(market.n_instruments)
        ]
    )


def test_ic_pairs_a_column_with_the_next_bars_return() -> None:
    rng = np.random.default_rng(0)
    close = np.cumprod(1 + rng.normal(0, 0.01, 500)) * 1000
    ret = np.zeros(500)
    ret[1:] = close[1:] / close[:-1] - 1
    exog = np.column_stack([np.append(ret[1:], 0.0), ret, np.ones(500)])  # next, same, const
    ic = next_bar_ic(exog, close, np.ones(500, bool), start=100)
    assert ic[0] == pytest.approx(1.0)  # column t = return of bar t + 1: a perfect leak
    assert abs(ic[1]) < 0.2  # the bar's own return says little about the next one
    assert ic[2] == 0.0  # no variation, no correlation
    valid = np.ones(500, bool)
    valid[200:210] = False  # missing bars are left out, not read as zero returns
    assert next_bar_ic(exog, close, valid, start=100)[0] == pytest.approx(1.0)


@pytest.mark.parametrize("seed", range(1, 6))
def test_a_leak_is_implausible_and_a_strong_real_predictor_is_not(seed: int) -> None:
    leak = _ic(SynthSpec(n_steps=2000, n_instruments=2, seed=seed, planted_ic=0.5))
    assert (np.abs(leak) > IMPLAUSIBLE_IC).all()
    for ic in (0.15, 0.2):
        fast = _ic(SynthSpec(n_steps=3000, n_instruments=1, seed=seed, planted_ic=ic))
        assert (np.abs(fast) < IMPLAUSIBLE_IC).all()
    drift = SynthSpec(
        n_steps=2000, n_instruments=2, seed=seed, random_walk=True, drift_ic=0.3,
        drift_persistence=0.9,
    )  # fmt: skip
    assert (np.abs(_ic(drift)) < IMPLAUSIBLE_IC).all()  # the acceptance's planted edge
