"""The one place a kernel is assembled from a config and a market — for run and replay alike,
so the two cannot drift apart."""

from __future__ import annotations

from decimal import Decimal

from scarline.agents.memory import check_memory
from scarline.agents.population import Population
from scarline.config import RunConfig, config_hash
from scarline.events import (
    COMPILED_ACTING_SCHEMA,
    COMPILED_UPDATE_SCHEMA,
    COVER_UNCAPPED_SCHEMA,
    FILL_RUN_SCHEMA,
    QUIET_RUN_SCHEMA,
    SCHEMA_VERSION,
    SPAN_RUN_SCHEMA,
    DataWarnings,
    SessionStart,
)
from scarline.evolution.census import GenomeSink
from scarline.evolution.scars import ScarTracker
from scarline.execution.accounting import Accounts
from scarline.execution.broker import SimBroker
from scarline.execution.types import CASH_SCALE, unit_values
from scarline.kernel import Kernel
from scarline.market.frame import MarketData
from scarline.operator import OperatorInputs
from scarline.recorder import Recorder
from scarline.reflect.sentry import DriftSentry
from scarline.regime.stage import market_regimes
from scarline.risk.engine import RiskEngine
from scarline.risk.limits import VenueMinimums
from scarline.rng import SeedTree
from scarline.session import Journal, SessionIds


def session_start(
    config: RunConfig,
    market: MarketData,
    ids: SessionIds,
    schema_version: int = SCHEMA_VERSION,
    recorded_config_hash: str | None = None,
) -> SessionStart:
    """``schema_version``: the schema a replayed run was written with (see
    ``events.REPLAYABLE_SCHEMAS``); a new run writes the current one. A replay also passes
    the config hash the run recorded: today's canonical form of the same config differs once
    the config model grew fields (whose defaults keep the old behaviour), and the replay
    re-executes the recorded run, not a new one (whether the snapshot is that config is
    :func:`scarline.config.snapshot_matches`' question)."""
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
        config_hash=recorded_config_hash or config_hash(config),
        seed=config.seed,
        schema_version=schema_version,
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
    data_warnings: DataWarnings | None = None,
    schema_version: int = SCHEMA_VERSION,
    recorded_config_hash: str | None = None,
    session_steps: int | None = None,
) -> Kernel:
    """``island`` (of an ``evolve`` run) numbers the lineage: ids from island × 10**9;
    ``data_warnings`` are journaled after the session start; ``schema_version`` is the
    SessionStart's (a replay passes the recorded one, and ``recorded_config_hash``). A
    backtest (profile ``sim``) of schema 8 on journals each run of quiet rows as one
    ``QuietRun``; a paper session steps bar by bar and writes rows, as older schemas did.
    From schema 15 the broker does not hold the lots of a buy that cover a short to cash.
    The population's memory is checked against what the machine has before anything is
    allocated. ``session_steps``: the length of the session ``market`` is a prefix of (a
    replay of a run sealed mid-run), whose out-of-sample split the run used."""
    check_memory(config.agents, market, keep_equity=keep_equity)
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
        compiled_acting=schema_version >= COMPILED_ACTING_SCHEMA,
        compiled_update=schema_version >= COMPILED_UPDATE_SCHEMA,
    )
    split = config.evaluation.split_step(session_steps or market.n_steps)
    split = None if split is not None and split >= market.n_steps else split
    if split is not None:
        population.freeze_at(split)
    values = unit_values(
        [i.tick_size for i in market.instruments], [i.lot_size for i in market.instruments]
    )
    n = population.n_agents
    return Kernel(
        market=market,
        population=population,
        broker=SimBroker.from_config(
            config.execution, n, values, cover_uncapped=schema_version >= COVER_UNCAPPED_SCHEMA
        ),
        risk=RiskEngine(config.risk, n, values, VenueMinimums.of(market.instruments)),
        accounts=Accounts(n, values, cash_units(config.accounts.initial_cash)),
        journal=journal,
        ids=ids,
        session_start=session_start(config, market, ids, schema_version, recorded_config_hash),
        operator=operator,
        recorder=Recorder(market.n_steps, n, keep_equity=keep_equity),
        life=ScarTracker(n, config.scars, cash_units(config.accounts.initial_cash)),
        regimes=regimes,
        sentry=DriftSentry(n, config.reflect.drift) if config.reflect.drift.enabled else None,
        data_warnings=data_warnings,
        quiet_runs=config.profile == "sim" and schema_version >= QUIET_RUN_SCHEMA,
        fill_runs=schema_version >= FILL_RUN_SCHEMA,
        span_runs=schema_version >= SPAN_RUN_SCHEMA,
    )
