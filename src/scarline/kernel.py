"""The kernel: one step of the pipeline for N agents × M instruments, and the loop over steps.

Per step t (DESIGN.md, "One step of the kernel"):

1. the bars of row t are journaled (and any operator input, e.g. the kill switch);
2. the broker executes the orders due at t against bar t; fills are journaled, then booked;
3. accounts are marked at the close of t; the risk ladder updates from drawdown; losses
   leave scars, trust follows returns and scars, and ruin kills (the dead go flat);
4. the population decides on data up to t (trust may weigh the exposure, see
   :mod:`scarline.evolution.trust`); the sizer turns exposures into target lots;
5. targets become order intents; the risk engine approves, scales or rejects each;
6. the Decision, the RiskChecks and the approved Orders are journaled, then the orders go to
   the broker — due no earlier than t + 1, so nothing trades on the bar that decided it.

Everything is journaled *before* it takes effect. A run and its replay differ only in where
the market and operator inputs come from and where records go.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from scarline.agents.population import Population
from scarline.agents.qagents import AgentView
from scarline.clock import SimClock
from scarline.decisions import ChangeTracker
from scarline.events import (
    FORCED_FLAT,
    GROSS_PENDING_SCHEMA,
    Array,
    DataWarnings,
    Decision,
    KillSwitch,
    OperatorFlag,
    SessionEnd,
    SessionStart,
)
from scarline.evolution.census import BirthRecord
from scarline.evolution.events import births_event, deaths_event, mutation_events, scars_event
from scarline.evolution.scars import LifeEvents, ScarTracker
from scarline.evolution.trust import capital_weight, relative_trust, weigh
from scarline.execution.accounting import Accounts
from scarline.execution.broker import SimBroker
from scarline.execution.events import fills_event, orders_event, rejects_event
from scarline.execution.intents import (
    intents_from_targets,
    limit_entries,
    profile_entries,
)
from scarline.execution.intents import warm_up as warm_up_intents
from scarline.execution.types import BarSlice, FillBatch, OrderBatch
from scarline.execution.volatility import causal_volatility
from scarline.features.microstructure import microstructure_table
from scarline.journal.quiet_run import RowEvent, features_hash, quiet_cells, quiet_run
from scarline.market.frame import MarketData
from scarline.market.stream import BarEmitter
from scarline.operator import OperatorInputs
from scarline.quiet_path import Crossover, QuietPath, quiet_path_applies
from scarline.recorder import Recorder
from scarline.reflect.events import drift_alarms_event
from scarline.reflect.sentry import Alarms, DriftSentry
from scarline.reflect.theory import StepSeqs, TheoryPacket, packets_from_alarms
from scarline.regime.events import regime_change_event
from scarline.regime.stage import MarketRegimes
from scarline.risk.engine import RiskContext, RiskEngine
from scarline.risk.events import notable_verdicts, risk_checks_event, state_change_event
from scarline.risk.types import RiskDecision
from scarline.session import Journal, KernelResult, SeqJournal, SessionIds, StageMarks
from scarline.settled_heap import settled_heap
from scarline.stats import log_return
from scarline.trace import DecisionTrace

_NO_REASONS = np.zeros(0, np.uint8)


class Kernel:
    def __init__(
        self,
        *,
        market: MarketData,
        population: Population,
        broker: SimBroker,
        risk: RiskEngine,
        accounts: Accounts,
        journal: Journal,
        ids: SessionIds,
        session_start: SessionStart,
        operator: OperatorInputs,
        recorder: Recorder,
        life: ScarTracker,
        regimes: MarketRegimes | None = None,
        sentry: DriftSentry | None = None,
        data_warnings: DataWarnings | None = None,
        quiet_runs: bool = False,
        fill_runs: bool = True,
        span_runs: bool = True,
    ) -> None:
        self.market = market
        self.population = population
        self.broker = broker
        self.risk = risk
        self.accounts = accounts
        self.journal = SeqJournal(journal)
        # a journal that drops every record (a gate's re-run) is not handed the per-step
        # records: building them was ~20 % of a small frozen run's step (see session.py)
        self._detail = not getattr(journal, "discards_records", False)
        self.ids = ids
        self.operator = operator
        self.recorder = recorder
        self.life = life
        self.clock = SimClock(int(market.timestamps[0]) if market.n_steps else 0)
        self.trace = DecisionTrace()
        self._changes = ChangeTracker(population.agent_ids)
        self.killed_at: int | None = None
        self._start = session_start
        self.schema_version = session_start.schema_version  # the rules this kernel runs
        # working orders count by side in the risk check from schema 14 (a replay of an
        # older run nets them, as it was recorded)
        self._by_side = session_start.schema_version >= GROSS_PENDING_SCHEMA
        self._data_warnings = data_warnings  # journaled right after the session start
        self._emitter = BarEmitter(market, ids)
        self._timestamps = market.timestamps.tolist()
        self._volatility = causal_volatility(market.prices("close"))
        micro = risk.cfg.microstructure
        self._micro = microstructure_table(market, micro) if micro.enabled else None
        self._next_order_id = 0
        warm_up_intents()
        self.regimes = regimes or MarketRegimes(None, {}, None, None)
        self.sentry = sentry
        self.step_seqs = StepSeqs()
        self.theory: list[TheoryPacket] = []  # the drift sentry's, written at the run's end
        self._equity_before: np.ndarray | None = None
        self._closes = market.close  # what every policy saw, hashed into each Decision
        self.stages: StageMarks | None = None  # a live session's step latencies
        # a few rule agents: runs of quiet steps go through one compiled call (quiet_path.py)
        # journal a quiet run as one QuietRun record (schema 8 backtests), not row by row;
        # a run may start with a row that fills orders (schema 9: fill_runs), and go on past
        # rows that decided anew (schema 10: span_runs)
        self._quiet_runs = quiet_runs
        self._span_runs = span_runs
        self.quiet = None
        if quiet_path_applies(population, risk, life, operator, self.regimes, sentry):
            self.quiet = QuietPath(
                market, population, broker, risk, accounts, life, operator, self.regimes,
                self._volatility, fill_runs,
            )  # fmt: skip

    # -- one step ---------------------------------------------------------------------------

    def step(self, t: int) -> None:
        ts = self._timestamps[t]
        self.clock.advance_to(ts)
        ids = self.ids
        journal, market, accounts = self.journal, self.market, self.accounts
        first_seq = journal.last_seq + 1
        for fed in self.operator.feed_inputs(t):  # a feed's faults, gaps, outages; flags
            journal.append(fed, ts)
            if isinstance(fed, OperatorFlag):
                self._set_flag(fed)
        for swap, genome in self.operator.policy_swaps(t):  # the ledger moved a policy
            journal.append(swap, ts)
            self.population.install(swap.group, swap.rows, genome)
        if self._detail:
            for bar_event in self._emitter.bars(t):
                journal.append(bar_event, ts)
            for quote in self._emitter.quotes(t):
                journal.append(quote, ts)
        kill = self.operator.poll(t) if self.killed_at is None else None
        if kill is not None:
            journal.append(kill, ts)
        stages = self.stages

        # 2. execute what is due at this bar (most steps of a few agents have nothing pending)
        if not self.broker.idle:
            self._execute(t, ts)

        # 3. mark, then let the ladder react to the new equity
        equity = accounts.mark(market.close[t], market.valid[t])
        transitions = self.risk.update(t, equity)
        if len(transitions):
            journal.append(state_change_event(ids, t, transitions), ts)
            self.recorder.on_transitions(t, transitions)
        if kill is not None:
            self._fire_kill(t, ts, kill)
        life = self.life.update(t, equity, accounts.realized)
        census = self.population.census
        if not life.empty:
            self._journal_life(t, ts, life)
            if census is not None and life.death_agent.size:
                census.ruined(t, life.death_agent, self.life.scars, life.death_trust)
        trust_use = self.life.cfg.trust_weight
        if trust_use == "selection":  # before observe: life cycles run inside it
            self.population.prefer(relative_trust(self.life.trust))
        if self.population.watchers:
            self.population.observe(
                t,
                AgentView(
                    equity,
                    accounts.cash,
                    accounts.position,
                    accounts.unrealized(),
                    self.life.scars,
                    self.life.floor,
                    self.life.alive,
                    accounts.last_close * accounts.unit_values,
                ),
            )
            if census is not None:
                for record in census.take_births(self.life.scars, self.life.trust):
                    self._birth(t, ts, record, equity)
        alarms = self._watch_drift(t, ts, equity)
        change = self.regimes.changes.get(t)
        if change is not None:
            journal.append(regime_change_event(ids, change), ts)

        # 4. decide (the regime's profile bands it, drift alarms shrink it) and size
        exposure = self.regimes.shape(t, self.population.decide(t))
        if self.sentry is not None and self.sentry.size_scale.min() < 1.0:
            exposure = exposure * self.sentry.size_scale[:, None].astype(exposure.dtype)
        if trust_use == "capital":
            exposure = weigh(exposure, capital_weight(self.life.trust, self.life.cfg.trust_levels))
        if stages is not None:
            stages.mark("signal")
        if self.quiet is not None:
            self.quiet.last_exposure = exposure
        pending = self.broker.pending_qty()
        target, cells = self._targets(t, exposure, equity, kill is not None, life)
        decision_id = f"d{t}"
        if self._detail:
            self._journal_decision(t, ts, decision_id, exposure, target)

        # 5. intents → risk → broker
        if cells[0].size:
            intents = intents_from_targets(
                target, accounts.position, pending, t, self._next_order_id, cells=cells
            )
            self._send(t, ts, decision_id, intents, pending)
        self.recorder.on_step(t, equity)
        if not self._detail:  # no records to point at: the alarms acted, nothing to cite
            return
        self.step_seqs.record(t, first_seq, journal.last_seq)
        if alarms is not None:
            actions = self.sentry.cfg.actions if self.sentry is not None else []
            self.theory += packets_from_alarms(
                alarms, self.population.agent_ids, self.step_seqs, actions
            )

    def _execute(self, t: int, ts: int) -> None:
        """The broker executes the orders due at bar ``t``; fills are journaled, then booked."""
        market, accounts = self.market, self.accounts
        bar = BarSlice(
            t,
            ts,
            market.open[t],
            market.high[t],
            market.low[t],
            market.close[t],
            market.volume[t],
            market.valid[t],
            self._volatility[t],
        )
        fills, rejects = self.broker.execute(bar, accounts.cash, accounts.position)
        if len(fills):
            if self._detail:
                self.journal.append(fills_event(self.ids, t, fills), ts)
            accounts.apply(fills)
            self.recorder.on_fills(t, fills)
        if len(rejects) and self._detail:
            self.journal.append(rejects_event(self.ids, t, rejects), ts)

    def _set_flag(self, flag: OperatorFlag) -> None:
        """Apply an operator's runtime flag (journaled just before, so replay applies it at the
        same step)."""
        if flag.name != "freeze_exploration":  # the one flag of operator.RUNTIME_FLAGS
            raise ValueError(f"step {flag.step}: unknown runtime flag {flag.name!r}")
        self.population.hold_exploration(flag.value)

    def _watch_drift(self, t: int, ts: int, equity: np.ndarray) -> Alarms | None:
        """Each living agent's step return to the drift sentry; alarms are journaled and act
        at once (exploration frozen, size cut) — the theory packets follow at step end."""
        if self.sentry is None:
            return None
        before, self._equity_before = self._equity_before, equity.copy()
        if before is None:
            return None
        returns = log_return(before, equity)
        # only steps that moved the agent's equity: a flat agent's zeros say nothing of its
        # edge (and a warm-up of zeros would make its first trade look like a drift)
        alarms = self.sentry.update(t, returns, self.life.alive & (returns != 0))
        if alarms.empty:
            return None
        if "freeze_exploration" in self.sentry.cfg.actions:
            self.population.freeze_exploration(alarms.rows)
        self.journal.append(drift_alarms_event(self.ids, alarms, self.sentry), ts)
        return alarms

    def _targets(
        self, t: int, exposure: np.ndarray, equity: np.ndarray, kill_now: bool, life: LifeEvents
    ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
        """Target lots and the cells (rows, instruments; row-major) that may need orders:
        those whose target the sizer changed, all of a newly dead agent, all at a kill."""
        accounts, sizer = self.accounts, self.population.sizer
        target = sizer.targets(
            exposure,
            accounts.cash,
            equity,
            accounts.last_close,
            accounts.unit_values,
            self.market.valid[t],
        )
        cells = sizer.changed_cells
        n, m = target.shape
        if self.killed_at is not None:  # killed: everything goes flat, nothing opens again
            target = np.zeros_like(target)
            if kill_now:
                cells = np.divmod(np.arange(n * m), m)
        elif not self.life.all_alive:  # the dead trade no more: flat from their death on
            # zeroed in the sizer's own targets (rows only, not a dense copy): a dead row's
            # unchanged cells then stay 0, as the override had them, and nobody comes back
            target[~self.life.alive] = 0
            if life.death_agent.size:  # their every cell, merged in as a mask (no sort)
                hit = np.zeros((n, m), dtype=bool)
                hit[cells] = True
                hit[life.death_agent] = True
                cells = np.divmod(np.flatnonzero(hit), m)
        return target, cells

    def _journal_decision(
        self,
        t: int,
        ts: int,
        decision_id: str,
        exposure: np.ndarray,
        target: np.ndarray,
        trust: np.ndarray | None = None,
        out: list[RowEvent] | None = None,
    ) -> None:
        """Journal and trace only the cells that changed: a dense step is ~1 MB at N = 4096.
        ``trust``: every agent's at step ``t``, when the tracker has moved past it; ``out``:
        where the record goes instead of the journal (a QuietRun's events)."""
        c = self._changes.update(exposure, target)
        cells: tuple[Array, ...]
        if c.agent.size:
            cells = (
                Array.of(c.agent),
                Array.of(c.actions),
                Array.of(c.target_qty),
                Array.of(c.instrument),
                Array.of(self._reasons(c.agent)),
                Array.of(self.life.trust_at(c.agent) if trust is None else trust[c.agent]),
            )
        else:  # the usual step: nothing changed, the same empty arrays every time
            cells = quiet_cells(c.actions.dtype)
        self._put(self._decision(t, decision_id, cells), ts, out)
        if c.agent.size:
            self.trace.update(t, c.agent, c.instrument, c.actions, c.target_qty)
        else:
            self.trace.quiet(t)

    def _decision(self, t: int, decision_id: str, cells: tuple[Array, ...]) -> Decision:
        """Step ``t``'s Decision record with its changed ``cells`` (agents, actions, target
        lots, instruments, reasons, trust)."""
        agents, actions, target_qty, instrument, reasons, trust = cells
        profile = self.regimes.profile
        return Decision(
            run_id=self.ids.run_id,
            session_id=self.ids.session_id,
            decision_id=decision_id,
            step=t,
            policy=self.population.name,
            agents=agents,
            actions=actions,
            target_qty=target_qty,
            instrument=instrument,
            reasons=reasons,
            regime=self.regimes.regime(t),
            profiles=None if profile is None else Array.of(profile[t]),
            features_hash=self._features_hash(t),
            trust=trust,
        )

    def _reasons(self, agents: np.ndarray) -> np.ndarray:
        """``uint8`` reason codes of ``agents`` (those with a changed cell): the dead, and
        everyone after a kill, are forced flat."""
        if not agents.size:  # the usual step: no group's reasons to gather
            return _NO_REASONS
        reasons = self.population.reasons()[agents]
        forced = ~self.life.alive[agents] if self.killed_at is None else np.ones_like(reasons)
        reasons[forced.astype(bool)] = FORCED_FLAT
        return reasons

    def _features_hash(self, t: int) -> str:
        """BLAKE2b-128 of the inputs of step ``t``'s decisions: the closes of bar t and every
        learning group's feature row t (rules read the closes; features are causal)."""
        rows = (group.feature_row(t) for _, group in self.population.learners)
        return features_hash(self._closes[t], *rows)

    def _send(
        self, t: int, ts: int, decision_id: str, intents: OrderBatch, pending: np.ndarray
    ) -> None:
        """Intents become limit orders where an agent's genes or the router's profile say
        so, then go through risk to the broker."""
        if not len(intents):
            return
        last_close = self.accounts.last_close
        limit_entries(intents, self.population.limit_entry, last_close)
        entries = self.regimes.entries(t)
        if entries is not None:
            profile_entries(intents, *entries, last_close)
        self._route(t, ts, decision_id, intents, pending)

    def _route(
        self, t: int, ts: int, decision_id: str, intents: OrderBatch, pending: np.ndarray
    ) -> None:
        self._next_order_id += len(intents)
        accounts, market = self.accounts, self.market
        quotes = {}
        if market.quotes is not None:  # L1 quotes of this bar: spread and quote-age rules
            q = market.quotes
            quotes = {
                "bid": q.bid[t],
                "ask": q.ask[t],
                "quote_ts": np.where(market.valid[t], ts, 0).astype(np.int64),
            }
        if self._micro is not None:  # microstructure measures of bar t (filters on)
            quotes |= self._micro.row(t)
        ctx = RiskContext(
            position=accounts.position,
            pending=pending,
            pending_sells=self.broker.pending_sells() if self._by_side else None,
            cash=accounts.cash,
            equity=accounts.equity,
            last_price=accounts.last_close,
            now_ts=ts,
            **quotes,
        )
        decision = self.risk.check(t, intents, ctx)
        if self.stages is not None:
            self.stages.mark("risk")
        self._routed(t, ts, decision_id, intents, decision)

    def _routed(
        self,
        t: int,
        ts: int,
        decision_id: str,
        intents: OrderBatch,
        decision: RiskDecision,
        filled_next: bool = False,
        out: list[RowEvent] | None = None,
    ) -> None:
        """Journal the risk verdicts and the approved orders (into ``out`` instead, when
        given), and hand them to the broker; ``filled_next``: the quiet path filled them in
        full at the next bar already."""
        if self._detail:
            event, shown = risk_checks_event(self.ids, decision_id, t, intents, decision)
            self._put(event, ts, out)
        else:
            shown = notable_verdicts(intents, decision)
        self.recorder.on_risk(t, *shown)
        approved = decision.approved
        if len(approved):
            if self._detail:
                self._put(orders_event(self.ids, decision_id, t, approved), ts, out)
            if filled_next:
                self.broker.passed_through(approved)
            else:
                self.broker.submit(approved, t, ts, self.market.volume[t])

    def _put(self, event: RowEvent, ts: int, out: list[RowEvent] | None) -> None:
        """Journal ``event``, or collect it in ``out`` (a QuietRun's events)."""
        if out is None:
            self.journal.append(event, ts)
        else:
            out.append(event)

    def _fire_kill(self, t: int, ts: int, kill: KillSwitch) -> None:
        """Kill switch: cancel everything pending, halt all agents; flattening follows as
        reducing market orders from the zero targets of this very step."""
        self.killed_at = t
        halted = self.risk.kill(t, kill.reason, source=kill.source)
        if len(halted):
            self.journal.append(state_change_event(self.ids, t, halted), ts)
        cancelled = self.broker.cancel(np.ones(self.accounts.n_agents, dtype=bool))
        if len(cancelled):
            self.journal.append(rejects_event(self.ids, t, cancelled), ts)

    def _journal_life(self, t: int, ts: int, life: LifeEvents) -> None:
        if life.scar_agent.size:
            self.journal.append(scars_event(self.ids, t, life, self.life.scars), ts)
        if life.death_agent.size:
            self.journal.append(deaths_event(self.ids, t, life), ts)

    def _birth(self, t: int, ts: int, record: BirthRecord, equity: np.ndarray) -> None:
        """Newborns take their slots: no scars, a fresh risk state, their genes' traits;
        journaled as Births and one Mutations event per operator that changed someone."""
        slots = record.slots
        self.population.express()
        if self.sentry is not None:  # a newborn's returns are its own: fresh detectors
            self.sentry.reset_rows(slots)
            self.population.freeze_exploration(slots, frozen=False)
        self.life.sensitivity[:] = self.population.scar_sensitivity
        self.life.reborn(slots, equity)
        reset = self.risk.reset_agents(t, slots, equity[slots])
        if len(reset):
            self.journal.append(state_change_event(self.ids, t, reset), ts)
            self.recorder.on_transitions(t, reset)
        self.journal.append(births_event(self.ids, t, record), ts)
        for event in mutation_events(self.ids, t, record):
            self.journal.append(event, ts)

    def extend(self, market: MarketData) -> None:
        """A live session's market grew by rows: every table derived from it is rebuilt, all
        state carries on. The tables are causal and prefix-invariant, so a replay building
        them once from the whole market sees the same values (tests/test_kernel_extend.py);
        regimes too (the gates grow one prefix into many markets, gating/prefix.py)."""
        if market.instruments != self.market.instruments:
            raise ValueError("a market may grow by rows only, not change its instruments")
        self.market = market
        self._emitter.extend(market)
        self._timestamps.extend(market.timestamps[len(self._timestamps) :].tolist())
        self._volatility = causal_volatility(market.prices("close"))
        if self._micro is not None:
            self._micro = microstructure_table(market, self.risk.cfg.microstructure)
        self._closes = market.close
        self.regimes = regimes = self.regimes.extend(market)
        self.population.extend(market, None if regimes.path is None else regimes.path.labels)
        self.recorder.grow(market.n_steps)
        if self.quiet is not None:
            self.quiet.grown(market, regimes, self._volatility)

    # -- the loop ---------------------------------------------------------------------------

    def begin(self) -> None:
        """Journal the session start and the input's G0 warnings (before the first
        :meth:`run_steps`)."""
        self.journal.append(self._start, self.clock.now())
        if self._data_warnings is not None:
            self.journal.append(self._data_warnings, self.clock.now())

    def run_steps(
        self, start: int, stop: int, on_step: Callable[[int], None] | None = None
    ) -> None:
        """Step rows ``start .. stop - 1``: a run in segments (islands migrate between them).
        Quiet rows of a few rule agents go through :attr:`quiet` in runs, with the same
        records and state as one by one. Full garbage collections skip the objects the run
        stands on meanwhile (:mod:`scarline.settled_heap`)."""
        t = start
        with settled_heap():
            while t < stop:
                quiet = self.quiet is not None and self.killed_at is None and self.stages is None
                rows = self._quiet_rows(t, stop) if quiet else 0
                if not rows:
                    self.step(t)
                    rows = 1
                if on_step is not None:
                    for done in range(t, t + rows):
                        on_step(done)
                t += rows

    def _quiet_rows(self, t: int, stop: int) -> int:
        """Step the rows from ``t`` the quiet path takes, and journal them as :meth:`step`
        would: in a backtest of schema 8 or later, each run of rows as one ``QuietRun``
        record, which from schema 9 on holds its rows' fills and the decision, risk checks
        and orders of a row that decided anew and whose orders passed the risk check in full
        (schema 9: only its first row; since schema 10: any); else row by row. How many."""
        assert self.quiet is not None
        adv = self.quiet.advance(t, stop, self._next_order_id)
        rows = adv.rows
        if not rows:
            return 0
        if self.recorder.equity is not None:
            self.recorder.equity[t : t + rows] = adv.equity
        first, events = t, self._filled(t, adv.fills)  # the run being gathered
        traced = t  # the first of its rows the trace has not had
        for cross in adv.crossovers:
            row = cross.row
            self.clock.advance_to(self._timestamps[row])
            if self._quiet_runs and cross.placed and self._detail:  # its records ride in a run
                if self._span_runs:  # this one (schema 10)
                    self.trace.quiet_span(traced, row)
                else:  # the next, which it begins (schema 9)
                    self._journal_run(first, row, [e for e in events if e.step < row], traced)
                    first, events = row, [e for e in events if e.step == row]
                self._decided(cross, events, into=events)
            else:
                self._journal_run(first, row, [e for e in events if e.step < row], traced)
                self._decided(cross, [e for e in events if e.step == row])
                first, events = row + 1, []
            traced = row + 1
            events += self._filled(row + 1, cross.fills)
        self._journal_run(first, t + rows, events, traced)
        self.clock.advance_to(self._timestamps[t + rows - 1])
        return rows

    def _filled(self, t: int, fills: FillBatch | None) -> list[RowEvent]:
        """Row ``t`` filled ``fills`` on the quiet path: recorded, and their record."""
        if fills is None:
            return []
        self.recorder.on_fills(t, fills)
        return [fills_event(self.ids, t, fills)] if self._detail else []

    def _journal_run(self, first: int, stop: int, events: list[RowEvent], traced: int) -> None:
        """Trace and journal rows ``first .. stop - 1``, whose records beyond their bars,
        quotes and quiet decisions are ``events`` (fills; the decisions, risk checks and
        orders of rows that decided anew, already traced, as are the rows before
        ``traced``)."""
        if not self._detail or first >= stop:  # as step: a gate's re-run has no records
            return
        self.trace.quiet_span(max(first, traced), stop)
        journal, stamps = self.journal, self._timestamps
        assert self.quiet is not None and self.quiet.last_exposure is not None
        dtype = self.quiet.last_exposure.dtype  # advance stepped rows: a step decided it
        if self._quiet_runs:  # one record for the run: what its rows' records hold
            labels = None if self.regimes.path is None else self.regimes.path.labels
            run = quiet_run(self.ids, self.market, first, stop, self.population.name, dtype,
                            labels, events)  # fmt: skip
            seq = journal.append(run, stamps[stop - 1])
            self.step_seqs.record(first, seq, seq)
            return
        cells = quiet_cells(dtype)
        for r in range(first, stop):  # a paper session's or an older schema's records: rows
            ts, first_seq = stamps[r], journal.last_seq + 1
            for bar_event in self._emitter.bars(r):
                journal.append(bar_event, ts)
            for quote in self._emitter.quotes(r):
                journal.append(quote, ts)
            for e in events:  # fills (only a backtest's runs hold decisions)
                if e.step == r:
                    journal.append(e, ts)
            journal.append(self._decision(r, f"d{r}", cells), ts)
            self.step_seqs.record(r, first_seq, journal.last_seq)

    def _decided(
        self, cross: Crossover, fills: list[RowEvent], into: list[RowEvent] | None = None
    ) -> None:
        """A row that settled on the quiet path and decided anew, its changed cells sized
        into intents, maybe checked, after it filled the last decision's orders (``fills``,
        their record): its records and orders, as :meth:`step` makes them; its records
        beyond its bars, quotes and fills go ``into`` a run's events, when given."""
        t = cross.row
        journal, ts = self.journal, self._timestamps[t]
        first_seq = journal.last_seq + 1
        decision_id = f"d{t}"
        if self._detail:
            if into is None:
                for bar_event in self._emitter.bars(t):
                    journal.append(bar_event, ts)
                for quote in self._emitter.quotes(t):
                    journal.append(quote, ts)
                for e in fills:
                    journal.append(e, ts)
            self._journal_decision(
                t, ts, decision_id, cross.exposure, cross.target, cross.trust, into
            )
        intents = cross.intents
        if cross.verdicts is None:  # not checked yet: the ordinary route
            assert into is None
            self._send(t, ts, decision_id, intents, self.broker.pending_qty())
        else:  # the compiled check passed them all in full
            self._next_order_id += len(intents)
            decision = self.risk.settle(t, intents, cross.verdicts)
            self._routed(t, ts, decision_id, intents, decision, cross.placed == 2, into)
        if self._detail and into is None:
            self.step_seqs.record(t, first_seq, journal.last_seq)

    def end(self) -> KernelResult:
        """Journal the session end with the decision trace hash."""
        digest = self.trace.hexdigest()
        for fed in self.operator.feed_inputs(self.market.n_steps):
            self.journal.append(fed, self.clock.now())
        self.recorder.trim(self.market.n_steps)
        self.journal.append(
            SessionEnd(
                run_id=self.ids.run_id,
                session_id=self.ids.session_id,
                steps=self.market.n_steps,
                decision_trace_hash=digest,
                reason="killed" if self.killed_at is not None else "completed",
            ),
            self.clock.now(),
        )
        return KernelResult(self.market.n_steps, digest, self.journal.head, self.killed_at)

    def run(self, on_step: Callable[[int], None] | None = None) -> KernelResult:
        """Journal the session start, step through every row, journal the session end."""
        self.begin()
        self.run_steps(0, self.market.n_steps, on_step)
        return self.end()
