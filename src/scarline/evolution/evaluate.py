"""Score policies from a run's genomes on a market, frozen: the evidence behind "it learned".

Genomes are loaded into a fresh, non-learning, non-evolving copy of their group and run
through the full kernel (costs, risk, accounting), greedy from the first bar; the score is the
per-bar Sharpe from ``from_step`` on. Used to follow the best lineage across generations
out of sample, and for ablations (the same genomes on a market with one column destroyed).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from scarline.agents.config import QNetGroup
from scarline.agents.qagents import QAgents
from scarline.assembly import kernel_for
from scarline.config import RunConfig
from scarline.engine import SessionIds
from scarline.evolution.genome import Genome
from scarline.journal import HashOnlyWal
from scarline.market.frame import MarketData
from scarline.operator import ReplayOperator
from scarline.report.metrics import sharpe_ratio


def evaluate_genomes(
    config: RunConfig,
    group: int,
    market: MarketData,
    genomes: list[Genome],
    from_step: int,
    every_instrument: bool = True,
) -> np.ndarray:
    """Per-bar Sharpe of each genome from ``from_step`` to the end, ``float64[len(genomes)]``.

    ``group`` is the index of the q-network group in ``config.agents`` the genomes came from
    (its features, network shape and actions must match them). Greedy from bar 0: learning
    and evolution are off, and the run is frozen so nobody explores. With
    ``every_instrument`` each genome trades every instrument (one copy each; agent i trades
    instrument i mod M) and scores the mean of its copies: one instrument's luck is noise.
    """
    copies = market.n_instruments if every_instrument else 1
    genomes = [g for g in genomes for _ in range(copies)]
    source = config.agents[group]
    if not isinstance(source, QNetGroup):
        raise ValueError(f"agents[{group}] is a {source.kind} group, not q-network")
    frozen = source.model_copy(
        update={
            "count": len(genomes),
            "learn": False,
            "evolution": source.evolution.model_copy(update={"enabled": False}),
        }
    )
    evaluation = config.evaluation.model_copy(update={"oos_fraction": 0.0})
    cfg = config.model_copy(update={"agents": [frozen], "evaluation": evaluation})
    ids = SessionIds("evaluate", "s")
    kernel = kernel_for(cfg, market, ids, HashOnlyWal("evaluate"), ReplayOperator([]))
    agents = kernel.population.groups[0]
    assert isinstance(agents, QAgents)
    agents.load_genomes(genomes)
    agents.freeze_at(0)
    kernel.run()
    equity = kernel.recorder.equity.astype(np.float64)
    sharpe = sharpe_ratio(equity[max(from_step - 1, 0) :], periods_per_year=1.0)
    return sharpe.reshape(-1, copies).mean(axis=1)


def without_column(market: MarketData, name: str, seed: int = 0) -> MarketData:
    """``market`` with exogenous column ``name`` permuted in time (per instrument): the same
    values and distribution, no information about the future left in it."""
    k = market.exog_names.index(name)
    rng = np.random.default_rng(seed)
    exog = market.exog.copy()
    for m in range(exog.shape[1]):
        exog[:, m, k] = exog[rng.permutation(exog.shape[0]), m, k]
    return replace(market, exog=exog)
