"""The default arena (``make run``) shows learners that trade out of sample.

The full arena takes about a minute; this runs the same config with 40 of its 256 learners
(two per stock), which keeps every other setting, data and cost of ``configs/arena.toml``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from scarline.assembly import kernel_for
from scarline.config import load_config
from scarline.journal import HashOnlyWal
from scarline.operator import ReplayOperator
from scarline.runner import load_run_market
from scarline.session import SessionIds

ARENA = Path(__file__).resolve().parents[1] / "configs" / "arena.toml"


@pytest.mark.slow
def test_default_arena_learners_trade_out_of_sample() -> None:
    cfg = load_config(ARENA)
    learners = cfg.agents[0].model_copy(update={"count": 40})
    cfg = cfg.model_copy(update={"agents": [learners, *cfg.agents[1:]], "report": False})
    market = load_run_market(cfg)
    kernel = kernel_for(
        cfg, market, SessionIds("arena", "s"), HashOnlyWal("arena"), ReplayOperator([])
    )
    kernel.run()
    split = cfg.evaluation.split_step(market.n_steps)
    assert split is not None
    trades = kernel.recorder.trades()
    late = trades["step"] >= split
    fills = np.bincount(trades["agent"][late], minlength=kernel.population.n_agents)[:40]
    assert np.median(fills) > 0, fills
    equity = kernel.recorder.equity[split - 1 :, :40].astype(np.float64)
    moved = (np.abs(np.diff(equity, axis=0)) > 0).any(axis=0)
    assert moved.mean() > 0.5  # most learners hold positions out of sample, not cash
