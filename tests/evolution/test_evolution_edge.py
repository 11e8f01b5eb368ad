"""Evolved survivors on a planted-edge market rely on the planted column: destroying it (a
time permutation, same values) takes their out-of-sample edge away."""

import numpy as np
import pytest
from scipy import stats

from scarline.assembly import kernel_for
from scarline.config import RunConfig
from scarline.engine import SessionIds
from scarline.evolution.evaluate import evaluate_genomes, without_column
from scarline.journal import HashOnlyWal
from scarline.market.stream import normalized
from scarline.market.synthetic import SynthSpec, generate
from scarline.operator import ReplayOperator

pytestmark = pytest.mark.slow

COMPACT = {"return_windows": [1], "vol_windows": [20], "momentum_windows": [20]}
QNET = {"warmup_steps": 32, "train_every": 2, "gamma": 0.0, "lr": 3e-4}


def test_survivors_rely_on_the_planted_column() -> None:
    # no drift: an edge can only come from the signal, not from being long
    spec = SynthSpec(n_steps=3000, n_instruments=8, seed=3, planted_ic=0.1, drift=(0.0, 0.0, 0.0))
    market = normalized(generate(spec))
    evolution = {"enabled": True, "every": 150, "min_age": 150}
    group = {"kind": "q-network", "count": 64, "qnet": QNET, "features": COMPACT}
    cfg = RunConfig(
        seed=3, agents=[group | {"evolution": evolution}], evaluation={"oos_fraction": 0.3}
    )
    kernel = kernel_for(cfg, market, SessionIds("e", "s"), HashOnlyWal("e"), ReplayOperator([]))
    kernel.run()
    agents = kernel.population.groups[0]
    survivors = [agents.genome(int(i)) for i in np.flatnonzero(kernel.life.alive)]
    split = cfg.evaluation.split_step(market.n_steps)
    assert split is not None and len(survivors) >= 32
    with_signal = evaluate_genomes(cfg, 0, market, survivors, split, every_instrument=False)
    ablated = without_column(market, "signal")
    without = evaluate_genomes(cfg, 0, ablated, survivors, split, every_instrument=False)
    assert np.median(with_signal) > 0.02  # per-bar Sharpe over the last 900 bars
    assert np.median(with_signal) > np.median(without) + 0.02
    assert stats.wilcoxon(with_signal, without, alternative="greater").pvalue < 0.01
