"""The kernel's fast path for a few agents that decide from the bars alone: runs of rows,
their crossovers included, in one compiled call.

N = 1 is the paper and live case and the one users compare with backtesting.py; an ordinary
step there is ~20 small engines of a microsecond or more each. Where the outcome of a step
is decided by the market alone — rule agents and vectorized user strategies, whose
decisions are functions of the bars (``decide_span``), no learner, no drift sentry, no
regime profile, no capital weighting by trust — the kernel asks this path first. One call
of :func:`~scarline.quiet_rows.quiet_rows` steps the rows ahead while nothing happens in
them that it cannot do as the ordinary step would: quiet rows (the bar passes), a row that
fills the market orders due at it, and a *crossover*, a row that decides anew, whose intents
the risk engine's compiled check passes in full and the next row fills (from schema 9). The
kernel then journals them: in a backtest one ``QuietRun`` record per run of rows, holding
the crossover's and the fills' records (:mod:`scarline.journal.quiet_run`); in a paper
session and a replay of an older schema row by row, as they were.

What ends a call is checked, never assumed: a decision whose orders do not pass in full or
are not due at the next row, an order pending that is not a market order due now, a refused
fill, an operator input (kill, feed record, swap), a regime change, a ladder move, a scar, a
death. The path reads the engines' state directly: it is the one place outside them that
does, so their bookkeeping and this file change together (``tests/test_quiet_path.py``
holds the two paths to the same records on random markets, agents and risk limits).
"""

from __future__ import annotations

from bisect import bisect_left
from typing import NamedTuple

import numpy as np

from scarline.agents.population import Population
from scarline.evolution.scars import ScarTracker
from scarline.execution.accounting import Accounts
from scarline.execution.broker import SimBroker, market_fills
from scarline.execution.intents import order_batch
from scarline.execution.types import FillBatch, OrderBatch
from scarline.market.frame import MarketData
from scarline.operator import OperatorInputs
from scarline.quiet_rows import quiet_rows
from scarline.reflect.sentry import DriftSentry
from scarline.regime.stage import MarketRegimes
from scarline.risk.check import Verdicts
from scarline.risk.engine import RiskEngine
from scarline.risk.ladder import _HAIR, _SEQUENTIAL

_CHUNK = 256  # rows of decisions computed at a time (a quiet run is usually shorter)
_NO_ROWS = np.zeros((0, 0), dtype=np.int64)
_NO_ORDERS = OrderBatch.empty()


class Crossover(NamedTuple):
    """A row of a run that decided anew: the sizer sized its ``exposure``
    into ``target`` and ``intents`` are the orders of the cells it sized. ``verdicts``, when
    the risk engine's compiled check passed them all in full (else the kernel routes them
    as :meth:`~scarline.kernel.Kernel.step` does); ``placed`` then says where they went: 1,
    to the broker (the kernel submits them), 2, filled at the next row (``fills``), the run
    going on. ``trust``: every agent's after the row, where the run went past it."""

    row: int
    exposure: np.ndarray
    target: np.ndarray
    intents: OrderBatch
    verdicts: Verdicts | None
    placed: int
    trust: np.ndarray | None
    fills: FillBatch | None


class Advance(NamedTuple):
    """What :meth:`QuietPath.advance` stepped from row ``t``: ``rows`` rows (0: step ``t``
    the ordinary way) with their ``equity`` ``int64[rows, N]``; ``fills``, row ``t``'s when
    it filled the market orders due at it; the ``crossovers`` among the rows, in order."""

    rows: int
    equity: np.ndarray
    fills: FillBatch | None = None
    crossovers: tuple[Crossover, ...] = ()


_CROSSINGS = 32  # crossovers one call may step (a 256-row chunk has a few)
_NO_PARAMS = (0.0, 0.0, 0.0, 0)  # no orders to price: any model parameters of these types
_NO_INT = np.zeros(0, dtype=np.int64)


class RiskInputs(NamedTuple):
    """What the compiled risk check reads beyond the accounts, the levels and the row."""

    arrays: tuple[np.ndarray, ...]  # quotes bid, ask [T, M]; value, limit, orders used, venue
    limits: tuple[np.ndarray, np.ndarray]  # check_compiled.limit_vectors
    scalars: tuple[bool, bool, int, float, float, bool]  # drawdown on, killed, global, rate on


_NO_QUOTES = np.zeros((0, 0), dtype=np.int64)
_NO_RISK = RiskInputs(  # no check: arguments of the types the compiled call takes
    (_NO_QUOTES, _NO_QUOTES, np.zeros(0), np.zeros(0), _NO_INT, _NO_INT, _NO_INT),
    (_NO_INT, np.zeros(0)), (False, False, 0, 0.0, 0.0, False),
)  # fmt: skip
_NOTHING = Advance(0, _NO_ROWS)


def quiet_path_applies(
    population: Population,
    risk: RiskEngine,
    life: ScarTracker,
    operator: OperatorInputs,
    regimes: MarketRegimes,
    sentry: DriftSentry | None,
) -> bool:
    """Whether a step's outcome is the market's alone (rule agents deciding from the bars,
    nothing acting on exposures or levels step by step) and the population's equity total
    a left-to-right sum (fewer than eight agents)."""
    pop, lc = population, risk.cfg.ladder
    rules_only = (
        not pop.watchers
        and not pop.learners
        and pop.census is None
        and all(hasattr(g, "decide_span") for g in pop.groups)
    )
    return (
        rules_only
        and pop.n_agents < _SEQUENTIAL
        and sentry is None
        and regimes.profile is None
        and life.cfg.trust_weight != "capital"
        and not risk.cfg.kill
        and lc.recover_below_pct is None
        and not risk._ladder._breach_on
        and hasattr(operator, "quiet_until")
    )


class QuietPath:
    """Steps the rows of a kernel's engines ahead that the compiled loop takes, where
    :func:`quiet_path_applies`. :attr:`last_exposure` is the last decision (an ordinary
    step's, the kernel sets it, or the last crossover's); the kernel calls :meth:`advance`
    only while nothing it alone knows of (a kill, a live session's stage marks) is in
    play."""

    def __init__(
        self,
        market: MarketData,
        population: Population,
        broker: SimBroker,
        risk: RiskEngine,
        accounts: Accounts,
        life: ScarTracker,
        operator: OperatorInputs,
        regimes: MarketRegimes,
        volatility: np.ndarray,
        fill_runs: bool = True,
    ) -> None:
        """``fill_runs`` (schema 9 on): a run may start with a row that fills the market
        orders due at it, and runs are cut at rows that are multiples of :data:`_CHUNK`;
        off, the schema-8 runs: no pending order, cut a chunk after the last computed."""
        self._population, self._broker, self._risk = population, broker, risk
        self.volatility = volatility  # the kernel's causal volatility, [T, M] (slippage)
        self._fill_runs = fill_runs
        self._check_inputs = risk.compiled_inputs
        self._latency = broker.latency.params
        self._accounts, self._life, self._operator = accounts, life, operator
        self.last_exposure: np.ndarray | None = None
        self.market, self._changes = market, sorted(regimes.changes)
        self._chunk_start = 0
        self._chunk: np.ndarray | None = None  # decisions of rows [chunk_start, …)
        self._warm_up()

    def advance(self, t: int, stop: int, next_order_id: int) -> Advance:
        """Step the rows from ``t`` (before ``stop``) the compiled loop takes: quiet rows,
        and rows that decide anew whose orders pass the risk check and fill at the next row
        (see :class:`Advance`); ``next_order_id``: the kernel's."""
        life, accounts, broker = self._life, self._accounts, self._broker
        ladder = self._risk._ladder
        last, sized = self.last_exposure, self._population.sizer._exposure
        ts = int(self.market.timestamps[t])
        orders = None
        if not broker.idle and self._fill_runs:
            orders = broker.due_market_orders(t, ts)
        if (
            last is None
            or sized is None
            or (orders is None and not broker.idle)
            or not life.all_alive
            or not ladder._peaks_positive()
        ):
            return _NOTHING
        stop = min(stop, self._operator.quiet_until(t, stop), self._next_change(t, stop))
        decisions = self._decisions(t, stop)
        if decisions is None or not len(decisions) or decisions.dtype != last.dtype:
            return _NOTHING
        sizer = self._population.sizer
        assert sizer.target is not None  # an ordinary step sized the last decision
        o = orders if orders is not None else _NO_ORDERS
        check = self._check_inputs is not None and self._fill_runs
        if check and self._population.limit_entry.any():
            check = False  # limit entries: the ordinary route
        (rows, global_peak, crossings, placed), scratch = self._call(
            t, decisions, last, sized, sizer.target, o, check, self._risk_inputs(t, check)
        )
        last_close, market_value, equity, prev_equity, equity_rows, filled, price, fee, cx = scratch
        if not rows:
            return _NOTHING
        accounts.last_close, accounts.market_value = last_close, market_value
        accounts.equity = equity
        ladder._global_peak = global_peak
        self._risk._advance(t + rows - 1)
        life._last_equity = prev_equity
        life._trust = None  # trust's moments moved: computed again when read
        fills = None
        if len(o):  # row t filled them, booked but for the slippage, which numpy costs
            broker.filled_all()
            fills = self._fills(o, filled, price, fee, t)
        crossovers = self._crossovers(t, rows, decisions, crossings, placed, cx, next_order_id)
        if crossovers:
            self.last_exposure = crossovers[-1].exposure
        return Advance(rows, equity_rows[:rows], fills, crossovers)

    def _call(
        self, t: int, decisions: np.ndarray, last: np.ndarray, sized: np.ndarray,
        target: np.ndarray, o: OrderBatch, check: bool, risk_in: RiskInputs,
    ) -> tuple[tuple[int, float, int, int], tuple]:  # fmt: skip
        """:func:`~scarline.quiet_rows.quiet_rows` from row ``t`` on ``decisions``: its
        result, and the scratch arrays it filled (marks, equity rows, fills, crossovers)."""
        life, accounts, ladder, market = self._life, self._accounts, self._risk._ladder, self.market
        sizer = self._population.sizer
        n, m = target.shape
        k = 2 * n * m  # intents a row can make: a reducing and an opening order per cell
        filled, price, fee = (np.empty(max(len(o), 1), dtype=np.int64) for _ in range(3))
        c = _CROSSINGS
        cx = (
            np.empty(c, np.int64), np.empty(c, np.int64), np.empty((c, 4, k), np.int64),
            np.empty((c, k), np.bool_), np.empty((c, k), np.int8), np.empty((c, k), np.int16),
            np.empty((c, k)), np.empty((c, k)), np.empty((c, k), np.int64),
            np.empty((c, k), np.bool_), np.empty((c, n, m), np.int64), np.empty((c, n)),
            np.empty((c, n)), np.empty((c, k), np.int64), np.empty((c, k), np.int64),
            np.empty((c, k), np.int64),
        )  # fmt: skip
        params = self._broker.market_params or _NO_PARAMS
        raw = np.dtype(f"u{decisions.dtype.itemsize}")  # bits: a -0.0 after 0.0 is a change
        last_close, market_value = accounts.last_close.copy(), accounts.market_value.copy()
        equity, prev_equity = accounts.equity.copy(), life._last_equity.copy()
        equity_rows = np.empty((len(decisions), accounts.n_agents), dtype=np.int64)
        result = quiet_rows(
            decisions, decisions.view(raw), last.view(raw), sized, t,
            market.close, market.valid,
            accounts.position, accounts.unit_values, accounts.cash,
            last_close, market_value, equity,
            ladder.peak, ladder._esc_dd, ladder.level, _HAIR,
            bool(self._risk.cfg.ladder.global_drawdown),
            float(ladder._esc_global[ladder.global_level]), float(ladder._global_peak),
            prev_equity, accounts.realized, life._last_realized, life.alive, life.sensitivity,
            life._ruin, life._peak, life._mean, life._var, life._alpha,
            float(life.cfg.drawdown_pct), float(life.cfg.trade_loss_pct), equity_rows,
            o.agent, o.instrument, o.side, o.qty, market.open, market.volume,
            self.volatility, *params, self._broker.cover_uncapped, filled, price, fee,
            accounts.cost_basis, accounts._basis_total, accounts.fees, accounts.traded,
            accounts.trades,
            (sized, target, sizer.mode, sizer.fraction, sizer.lots, sizer.spread),
            check, market.timestamps, self._latency, risk_in.arrays, risk_in.limits,
            risk_in.scalars, cx,
        )  # fmt: skip
        scratch = (last_close, market_value, equity, prev_equity, equity_rows, filled, price,
                   fee, cx)  # fmt: skip
        return result, scratch

    def _warm_up(self) -> None:
        """Load the compiled loop for this population's decisions (~0.1 s a process from
        numba's cache) when the kernel is built, not on a step: a call on no rows."""
        decisions = self._population.decide_span(0, 0)
        if decisions is None or decisions.ndim != 3:
            return
        shape = decisions.shape[1:]
        none = np.zeros(shape, dtype=decisions.dtype)
        self._call(0, decisions, none, none.copy(), np.zeros(shape, np.int64), _NO_ORDERS,
                   False, _NO_RISK)  # fmt: skip

    def _crossovers(
        self, t: int, rows: int, decisions: np.ndarray, crossings: int, placed: int,
        cx: tuple[np.ndarray, ...], next_order_id: int,
    ) -> tuple[Crossover, ...]:  # fmt: skip
        """The compiled loop's crossovers (``cx``) as :class:`Crossover` records, their
        orders numbered from ``next_order_id`` on."""
        row, count, orders, reducing, *verdicts = cx[:10]
        target, mean, var, filled, price, fee = cx[10:]
        # trust as each crossing saw it, in one elementwise pass over them all (the same
        # floats as crossing by crossing); the run's last row journals its own, later
        mid = crossings
        if crossings and int(row[crossings - 1]) == t + rows - 1:
            mid -= 1
        trusts = self._life.trust_of(mean[:mid], var[:mid]) if mid else None
        out = []
        for c in range(crossings):
            r, k = int(row[c]), int(count[c])
            made = order_batch(orders[c], reducing[c], k, r, next_order_id)
            next_order_id += k
            where = placed if c == crossings - 1 else 2  # the earlier ones filled
            passed = Verdicts(*[a[c, :k] for a in verdicts]) if where else None
            fills = self._fills(made, filled[c], price[c], fee[c], r + 1) if where == 2 else None
            trust = trusts[c] if trusts is not None and c < mid else None
            out.append(Crossover(r, decisions[r - t], target[c], made, passed, where, trust, fills))
        return tuple(out)

    def _fills(
        self, orders: OrderBatch, filled: np.ndarray, price: np.ndarray, fee: np.ndarray,
        t: int,
    ) -> FillBatch:  # fmt: skip
        """The fills of ``orders`` at row ``t``, which the compiled pass booked but for the
        slippage: numpy costs it (see :func:`~scarline.execution.broker.market_fills`)."""
        k = len(orders)
        fills = market_fills(
            orders, filled[:k], price[:k], fee[:k], self.market.open[t], self._accounts.unit_values
        )  # fmt: skip
        if len(fills) == 1:  # one agent's: np.add.at's sum, without its ~5 µs
            self._accounts.slippage[fills.agent[0]] += fills.slippage[0]
        else:
            np.add.at(self._accounts.slippage, fills.agent, fills.slippage)
        return fills

    def _risk_inputs(self, t: int, check: bool) -> RiskInputs:
        """What the compiled risk check reads beyond the accounts, the levels and the row:
        the market's quotes, the ladder's state, the order rate's window at row ``t`` (its
        rule on, only row ``t`` may be checked) and the limits (placeholders of the right
        types when no check runs)."""
        if not check or self._check_inputs is None:
            return _NO_RISK
        vectors, venue_qty, venue_notional = self._check_inputs
        quotes = self.market.quotes
        bid, ask = (_NO_QUOTES, _NO_QUOTES) if quotes is None else (quotes.bid, quotes.ask)
        value, limit, g_level, g_value, g_limit = self._risk.ladder_state()
        arrays = (bid, ask, value, limit, self._risk.orders_used(t), venue_qty, venue_notional)
        cfg = self._risk.cfg
        scalars = (cfg.max_drawdown_pct is not None, False, int(g_level), float(g_value),
                   float(g_limit), cfg.max_orders_per_window is not None)  # fmt: skip
        return RiskInputs(arrays, vectors, scalars)

    def _next_change(self, t: int, stop: int) -> int:
        """The first regime change at or after ``t`` (a Decision journals the regime, and a
        change is a record of its own), or ``stop``."""
        i = bisect_left(self._changes, t)
        return self._changes[i] if i < len(self._changes) else stop

    def _decisions(self, t: int, stop: int) -> np.ndarray | None:
        """Rows ``t .. stop - 1``'s decisions (at most a chunk), from a cached chunk."""
        chunk = self._chunk
        if chunk is None or not self._chunk_start <= t < self._chunk_start + len(chunk):
            end = (t // _CHUNK + 1) * _CHUNK if self._fill_runs else t + _CHUNK
            end = min(end, self.market.n_steps)
            chunk = self._population.decide_span(t, end)
            if chunk is None:
                return None
            self._chunk, self._chunk_start = chunk, t
        lo = t - self._chunk_start
        return chunk[lo : lo + max(0, stop - t)]

    def grown(self, market: MarketData, regimes: MarketRegimes, volatility: np.ndarray) -> None:
        """(Re)start from ``market`` (a live session's grew): decisions are computed again
        from it, and the steps with a regime change (sorted) are its regimes'."""
        self.market, self._changes, self._chunk = market, sorted(regimes.changes), None
        self.volatility = volatility
