"""A kernel whose market grows a row at a time (a live session) journals exactly what a
kernel built once on the whole market does: every table derived from the market is causal
and prefix-invariant, so ``Kernel.extend`` then ``step`` equals ``step`` on the full market.
Every agent kind is in the population, learning and exploring Q-networks included."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from list_journal import ListJournal

from scarline.assembly import kernel_for
from scarline.config import RunConfig
from scarline.market.stream import normalized
from scarline.market.synthetic import SynthSpec, generate
from scarline.operator import ReplayOperator
from scarline.session import SessionIds

AGENTS = [
    {"kind": "buy-and-hold"},
    {"kind": "sma-crossover", "fast": [2, 3], "slow": [5, 8], "allow_short": True},
    {"kind": "momentum", "lookbacks": [3, 7]},
    {"kind": "mean-reversion", "windows": [4, 9]},
    {"kind": "random-entry", "count": 3, "p_entry": 0.3, "p_exit": 0.3},
    {
        "kind": "q-network",
        "count": 4,
        "qnet": {"hidden": [6], "warmup_steps": 8, "epsilon_decay_steps": 30},
        "features": {"return_windows": [1, 3], "vol_windows": [5], "momentum_windows": [4]},
    },
]


@settings(max_examples=6, deadline=None)
@given(seed=st.integers(0, 2**16), steps=st.integers(12, 60), m=st.integers(1, 3))
def test_growing_the_market_a_row_at_a_time_journals_the_same_records(
    seed: int, steps: int, m: int
) -> None:
    market = normalized(generate(SynthSpec(n_steps=steps, n_instruments=m, seed=seed)))
    cfg = RunConfig(seed=seed, agents=AGENTS, report=False)
    ids = SessionIds("extend", "s")

    whole_journal = ListJournal()
    whole = kernel_for(cfg, market, ids, whole_journal, ReplayOperator([]))
    whole.run()

    grown_journal = ListJournal()
    grown = kernel_for(cfg, market.slice(0, 1), ids, grown_journal, ReplayOperator([]))
    grown.begin()
    for t in range(market.n_steps):
        if t:
            grown.extend(market.slice(0, t + 1))
        grown.step(t)
    grown.end()

    assert grown_journal.events == whole_journal.events
    assert grown_journal.head == whole_journal.head  # the same bytes, record by record
    assert grown.trace.hexdigest() == whole.trace.hexdigest()
    assert grown.recorder.equity is not None and whole.recorder.equity is not None
    assert np.array_equal(grown.recorder.equity, whole.recorder.equity)
