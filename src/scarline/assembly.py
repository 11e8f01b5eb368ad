"""The one place a kernel is assembled from a config and a market — for run and replay alike,
so the two cannot drift apart."""

from __future__ import annotations

from decimal import Decimal

from scarline.agents.population import Population
from scarline.config import RunConfig, config_hash
from scarline.events import SessionStart
from scarline.evolution.census import GenomeSink
from scarline.evolution.scars import ScarTracker
from scarline.execution.accounting import Accounts
from scarline.execution.broker import SimBroker
from scarline.execution.types import CASH_SCALE, unit_values
from scarline.kernel import Kernel
from scarline.market.frame import MarketData
from scarline.recorder import Recorder
from scarline.reflect.sentry import DriftSentry
from scarline.regime.stage import market_regimes
from scarline.risk.engine import RiskEngine
from scarline.rng import SeedTree
from scarline.session import Journal, OperatorInputs, SessionIds


def session_start(config: RunConfig, market: MarketData, ids: SessionIds) -> SessionStart:
    return SessionStart(
        run_id=ids.run_id,
        session_id=ids.session_id,
        profile=config.profile,
        universe=market.name,
        instruments=list(market.instruments),
        exog_names=list(market.exog_names),
        has_ohlc=market.has_ohlc,
        has_volume=market.has_volume,
        frequency=market.frequency,
        config_hash=config_hash(config),
        seed=config.seed,
    )


def cash_units(amount: float) -> int:
    """Currency → int64 cash units, through the float's decimal text (never binary rounding)."""
    return int(Decimal(repr(amount)) * CASH_SCALE)


def kernel_for(
    config: RunConfig,
    market: MarketData,
    ids: SessionIds,
    journal: Journal,
    operator: OperatorInputs,
    *,
    keep_equity: bool = True,
    genome_sink: GenomeSink | None = None,
    island: int = 0,
) -> Kernel:
    """``island`` (of an ``evolve`` run) numbers the lineage: ids from island × 10**9."""
    seeds = SeedTree(config.seed)
    regimes = market_regimes(market, config.regime)
    labels = None if regimes.path is None else regimes.path.labels
    population = Population(
        list(config.agents),
        market,
        seeds,
        genome_sink,
        island,
        labels,
        explore=config.flags.exploration,
    )
    split = config.evaluation.split_step(market.n_steps)
    if split is not None:
        population.freeze_at(split)
    values = unit_values(
        [i.tick_size for i in market.instruments], [i.lot_size for i in market.instruments]
    )
    n = population.n_agents
    return Kernel(
        market=market,
        population=population,
        broker=SimBroker.from_config(config.execution, n, values),
        risk=RiskEngine(config.risk, n, values),
        accounts=Accounts(n, values, cash_units(config.accounts.initial_cash)),
        journal=journal,
        ids=ids,
        session_start=session_start(config, market, ids),
        operator=operator,
        recorder=Recorder(market.n_steps, n, keep_equity=keep_equity),
        life=ScarTracker(n, config.scars, cash_units(config.accounts.initial_cash)),
        regimes=regimes,
        sentry=DriftSentry(n, config.reflect.drift) if config.reflect.drift.enabled else None,
    )
