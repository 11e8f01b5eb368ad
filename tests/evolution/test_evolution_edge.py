"""Evolution on a planted-edge market: the survivors rely on the planted column (destroying
it, a time permutation with the same values, takes their out-of-sample edge away), and the
out-of-sample Sharpe rises across generations.

Genomes are scored by the gates' frozen evaluation (:mod:`scarline.gating.frozen`): loaded into
a fresh, non-learning, non-evolving copy of their group and run through the full kernel,
greedy from the first bar; the score is the per-bar Sharpe from the split on."""

import functools
from dataclasses import replace

import numpy as np
import pytest
from scipy import stats

from scarline.assembly import kernel_for
from scarline.config import RunConfig
from scarline.evolution.artifacts import best_policy
from scarline.evolution.genome import Genome, decode_genome
from scarline.evolution.lineage import ancestry
from scarline.gating.frozen import Candidate, Play, bar_returns, frozen_equity
from scarline.journal import HashOnlyWal
from scarline.market.frame import MarketData
from scarline.market.stream import normalized
from scarline.market.synthetic import SynthSpec, generate
from scarline.operator import ReplayOperator
from scarline.session import SessionIds
from scarline.stats import sharpe

pytestmark = pytest.mark.slow

COMPACT = {"return_windows": [1], "vol_windows": [20], "momentum_windows": [20]}
QNET = {"warmup_steps": 32, "train_every": 2, "gamma": 0.0, "lr": 3e-4}


def evaluate_genomes(
    config: RunConfig,
    group: int,
    market: MarketData,
    genomes: list[Genome],
    from_step: int,
    every_instrument: bool = True,
) -> np.ndarray:
    """Per-bar Sharpe of each genome from ``from_step`` to the end, ``float64[len(genomes)]``.

    ``group`` is the q-network group of ``config.agents`` the genomes came from. With
    ``every_instrument`` each genome trades every instrument (one copy each) and scores the
    mean of its copies: one instrument's luck is noise; else genome i trades instrument
    i mod M."""
    m = market.n_instruments
    copies = m if every_instrument else 1
    kind = config.agents[group].kind
    plays = [
        Play(Candidate(agent=k, kind=kind, group=group, row=k, instrument=k % m, genome=g))
        for k, g in enumerate(g for g in genomes for _ in range(copies))
    ]
    scores = sharpe(bar_returns(frozen_equity(config, market, plays), from_step))
    return scores.reshape(-1, copies).mean(axis=1)


def without_column(market: MarketData, name: str, seed: int = 0) -> MarketData:
    """``market`` with exogenous column ``name`` permuted in time (per instrument): the same
    values and distribution, no information about the future left in it."""
    k = market.exog_names.index(name)
    rng = np.random.default_rng(seed)
    exog = market.exog.copy()
    for i in range(exog.shape[1]):
        exog[:, i, k] = exog[rng.permutation(exog.shape[0]), i, k]
    return replace(market, exog=exog)


def survivors_with_and_without(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-sample per-bar Sharpe of a learning, evolving population's survivors on a
    planted market (IC 0.1, no drift: an edge can only come from the signal), with the
    planted column and with it permuted away."""
    spec = SynthSpec(
        n_steps=3000, n_instruments=8, seed=seed, planted_ic=0.1, drift=(0.0, 0.0, 0.0)
    )
    market = normalized(generate(spec))
    evolution = {"enabled": True, "every": 150, "min_age": 150}
    group = {"kind": "q-network", "count": 64, "qnet": QNET, "features": COMPACT}
    cfg = RunConfig(
        seed=seed, agents=[group | {"evolution": evolution}], evaluation={"oos_fraction": 0.3}
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
    return with_signal, without


def test_survivors_rely_on_the_planted_column() -> None:
    """On two markets: each seed's survivors lose their edge without the column (a paired
    test), and over both the median edge is clear (one market's survivors are one draw of a
    chaotic process: any change of arithmetic reshuffles them)."""
    pairs = [survivors_with_and_without(seed) for seed in (3, 4)]
    for with_signal, without in pairs:
        assert np.median(with_signal) > np.median(without)
        assert stats.wilcoxon(with_signal, without, alternative="greater").pvalue < 0.01
    with_all = np.concatenate([w for w, _ in pairs])
    without_all = np.concatenate([wo for _, wo in pairs])
    assert np.median(with_all) > 0.02  # per-bar Sharpe over the last 900 bars
    assert np.median(with_all) > np.median(without_all) + 0.02


@functools.cache  # seed 3 serves both lineage tests
def evolve_without_learning(seed: int) -> tuple[RunConfig, MarketData, object, dict, object]:
    """Evolution alone (no gradient learning, greedy agents) on a planted market (IC 0.3, no
    drift): ``(config, market, census, genome store, kernel)`` after the run."""
    spec = SynthSpec(
        n_steps=3000, n_instruments=8, seed=seed, planted_ic=0.3, drift=(0.0, 0.0, 0.0)
    )
    market = normalized(generate(spec))
    evolution = {
        "enabled": True,
        "every": 100,
        "min_age": 100,
        "domain": {"founder": {"sigma": 0.05}},
    }
    group = {"kind": "q-network", "count": 64, "learn": False, "qnet": QNET, "features": COMPACT}
    cfg = RunConfig(
        seed=seed, agents=[group | {"evolution": evolution}], evaluation={"oos_fraction": 0.3}
    )
    store: dict[str, bytes] = {}

    def sink(items: list[tuple[bytes, str]]) -> None:
        store.update((h, data) for data, h in items)

    ids, wal = SessionIds("g", "s"), HashOnlyWal("g")
    kernel = kernel_for(cfg, market, ids, wal, ReplayOperator([]), genome_sink=sink)
    kernel.run()
    census = kernel.population.census
    assert census is not None
    census.finish(market.n_steps - 1, kernel.life.alive, kernel.life.scars, kernel.life.trust)
    return cfg, market, census, store, kernel


def best_lineage_sharpe(seed: int) -> np.ndarray:
    """Out-of-sample Sharpe along the best agent's lineage: founder's birth genome → … → the
    best's final genome (each on every instrument)."""
    cfg, market, census, store, kernel = evolve_without_learning(seed)
    table = census.book.table()
    lineage = table.to_pandas().set_index("agent_id")
    best_id, best_hash = best_policy(census, kernel.life.alive)
    chain = ancestry(table, best_id)[::-1]
    genomes = [decode_genome(store[lineage.loc[a].genome_hash]) for a in chain]
    genomes.append(decode_genome(store[best_hash]))
    split = cfg.evaluation.split_step(market.n_steps)
    assert split is not None and len(chain) >= 4
    return evaluate_genomes(cfg, 0, market, genomes, split)


def test_the_best_lineage_improves_out_of_sample_across_generations() -> None:
    """Random founders have no edge; generation by generation the birth genomes'
    out-of-sample Sharpe rises (seed 3)."""
    cfg, market, census, store, _ = evolve_without_learning(3)
    table = census.book.table()
    lineage = table.to_pandas().set_index("agent_id")
    split = cfg.evaluation.split_step(market.n_steps)
    assert split is not None

    # every generation with enough agents: the median out-of-sample Sharpe of birth genomes
    rng = np.random.default_rng(0)
    picks = []
    for gen, rows in lineage.groupby("generation"):
        if len(rows) >= 8:
            chosen = rng.choice(rows.index.to_numpy(), min(16, len(rows)), replace=False)
            picks.append(
                (int(gen), [decode_genome(store[lineage.loc[a].genome_hash]) for a in chosen])
            )
    scores = evaluate_genomes(cfg, 0, market, [g for _, gs in picks for g in gs], split, False)
    medians, start = [], 0
    for _, genomes in picks:
        medians.append(float(np.median(scores[start : start + len(genomes)])))
        start += len(genomes)
    gens = [gen for gen, _ in picks]
    assert gens[0] == 0 and len(gens) >= 6
    assert abs(medians[0]) < 0.02  # random founders: no edge
    assert stats.spearmanr(gens, medians).statistic > 0.5
    assert np.mean(medians[len(medians) // 2 :]) > 0.05


def test_the_best_lineage_mostly_ends_above_its_founder() -> None:
    """The best agent's lineage ends above where it started on most of three markets (one
    lineage is one path of a chaotic process: a single market can go either way)."""
    ends = [best_lineage_sharpe(seed) for seed in (3, 4, 5)]
    assert sum(chain[-1] > chain[0] for chain in ends) >= 2
    assert np.mean([chain[-1] - chain[0] for chain in ends]) > 0
