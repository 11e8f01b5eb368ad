"""The risk engine: the only way from an order intent to the broker.

It owns the risk state of one run — the ladder (peaks, levels, breach counts), the order
rate window and the kill switch — and exposes the two calls of a kernel step:
:meth:`RiskEngine.update` after accounting marks at the close, :meth:`RiskEngine.check`
on the step's intents. Both return data (transitions, decisions) that the kernel journals
before acting on it; nothing here reads the clock, the filesystem (except the explicit
:class:`scarline.operator.LiveOperator`) or any global state, so a replay reproduces every verdict.
"""

from __future__ import annotations

import numpy as np

from scarline.execution.order_check import FIELDS, invalid_fields
from scarline.execution.types import OrderBatch
from scarline.risk import check_compiled
from scarline.risk.check import LadderView, Verdicts, evaluate
from scarline.risk.codes import ACTIVE, CAUSE, HALT_LEVEL, HALTED, REDUCING
from scarline.risk.config import RiskConfig
from scarline.risk.kill import KillSource, KillState
from scarline.risk.ladder import Ladder, LadderTransitions
from scarline.risk.limits import Limits, VenueMinimums
from scarline.risk.types import RiskContext, RiskDecision
from scarline.risk.window import WindowCounter

_NO_INT = np.zeros(0, np.int64)  # no venue table
CompiledInputs = tuple[tuple[np.ndarray, np.ndarray], np.ndarray, np.ndarray]


class RiskEngine:
    """Pre-trade checks, the WARN → THROTTLE → HALT ladder and the kill switch for N agents."""

    def __init__(
        self,
        cfg: RiskConfig,
        n_agents: int,
        unit_values: np.ndarray,
        venue_min: VenueMinimums | None = None,
    ) -> None:
        """``venue_min``: the venue's smallest order per instrument (a live session's)."""
        if n_agents < 1:
            raise ValueError(f"n_agents must be >= 1, got {n_agents}")
        self.cfg = cfg
        self.n_agents = n_agents
        self.limits = Limits.of(cfg, unit_values, venue_min)
        # the compiled check's view of the limits (None: a limit beyond int64, reference only)
        self._limit_vectors = check_compiled.limit_vectors(self.limits)
        self.n_instruments = len(self.limits.unit_values)
        self.kill_state = KillState()
        self._ladder = Ladder(cfg, n_agents)
        self._orders = WindowCounter(n_agents, cfg.order_window_steps)
        self._step: int | None = None

    # --- state ---------------------------------------------------------------------------

    @property
    def killed(self) -> bool:
        """The kill switch fired (or the config asks for it and it fires at the next update)."""
        return self.kill_state.fired or self.cfg.kill

    @property
    def compiled_inputs(self) -> CompiledInputs | None:
        """What the compiled check reads besides a step's context, when it covers this
        engine's limits (no microstructure filter, integer limits that fit): the limit
        vectors and the venue minimums (lots, notional; empty without a table). Else None.
        ``SCARLINE_RISK_JIT=0`` does not change it: the kernel's quiet path checks with the
        compiled pass whatever the environment, because which rows it takes decides how a
        backtest's WAL is laid out (the verdicts are the reference's either way)."""
        vectors = self._limit_vectors
        if vectors is None or self.limits.micro is not None:
            return None
        venue = self.limits.venue_min
        if venue is None:
            return vectors, _NO_INT, _NO_INT
        return vectors, venue.qty, venue.notional

    def ladder_state(self) -> tuple[np.ndarray, np.ndarray, int, float, float]:
        """The ladder's values and limits per agent, the population's level, value and limit:
        what a check reads of it besides the levels (:class:`~scarline.risk.check.LadderView`)."""
        lad = self._ladder
        return lad.value, lad.limit, lad.global_level, lad.global_value, lad.global_limit

    def orders_used(self, step: int) -> np.ndarray:
        """``int64[N]`` orders each agent sent within the rate window ending at ``step``."""
        return self._orders.totals(step)

    @property
    def level(self) -> np.ndarray:
        """``int8[N]`` each agent's own ladder level (codes.LEVELS)."""
        return self._ladder.level.copy()

    @property
    def global_level(self) -> int:
        return self._ladder.global_level

    @property
    def effective_level(self) -> np.ndarray:
        """``int8[N]`` the level that acts on each agent: its own or the population's, if worse."""
        return np.maximum(self._ladder.level, self._ladder.global_level).astype(np.int8)

    @property
    def state(self) -> np.ndarray:
        """``int8[N]`` trading state (codes.STATES): HALTED after a kill, REDUCING at HALT."""
        if self.killed:
            return np.full(self.n_agents, HALTED, dtype=np.int8)
        return np.where(self.effective_level == HALT_LEVEL, REDUCING, ACTIVE).astype(np.int8)

    @property
    def global_state(self) -> int:
        if self.killed:
            return HALTED
        return REDUCING if self.global_level == HALT_LEVEL else ACTIVE

    def drawdown(self, equity: np.ndarray) -> np.ndarray:
        """``float64[N]`` drawdown % from the peak equity seen (``equity`` included)."""
        return self._ladder.drawdown(np.asarray(equity, dtype=np.int64))

    # --- the kernel's calls ----------------------------------------------------------------

    def update(self, step: int, equity: np.ndarray) -> LadderTransitions:
        """After marking at the close of ``step``: peaks, drawdowns, breaches → level changes."""
        self._advance(step)
        if not (self.cfg.kill and not self.kill_state.fired):
            return self._ladder.update(step, equity, frozen=self.kill_state.fired)
        killed = self.kill(step, "config: risk.kill = true", source="config")
        return LadderTransitions.concat([killed, self._ladder.update(step, equity, frozen=True)])

    def check(self, step: int, intents: OrderBatch, ctx: RiskContext) -> RiskDecision:
        """Approve, scale down or refuse every intent; record approved orders and breaches."""
        self._advance(step)
        ctx.validate(self.n_agents, self.n_instruments)
        self._validate(intents)
        ladder = self._ladder
        view = LadderView(
            killed=self.killed,
            level=ladder.level,
            value=ladder.value,
            limit=ladder.limit,
            global_level=ladder.global_level,
            global_value=ladder.global_value,
            global_limit=ladder.global_limit,
            drawdown=None
            if self.cfg.max_drawdown_pct is None
            else ladder.drawdown(np.asarray(ctx.equity, dtype=np.int64)),
            orders_used=self._orders.totals(step),
        )
        # the compiled check where it covers the config, else the reference: same verdicts
        v = None
        if self._limit_vectors is not None:
            v = check_compiled.try_evaluate(self.limits, intents, ctx, view, self._limit_vectors)
        if v is None:
            v = evaluate(self.limits, intents, ctx, view)
        return self.settle(step, intents, v)

    def settle(self, step: int, intents: OrderBatch, v: Verdicts) -> RiskDecision:
        """Record the verdicts ``v`` on ``intents`` at ``step`` (the order rate's window,
        the breaches) and make the decision: what :meth:`check` does once it has them. The
        kernel's quiet path calls it with the verdicts of the same compiled check, on the
        step it checked."""
        n = self.n_agents
        sent = v.approved > 0
        # a window counts nothing new on a step without approvals or breaches (the usual);
        # the order window is read by the order-rate rule only: without it, nothing to count
        if self.limits.max_orders is not None and np.count_nonzero(sent):
            self._orders.add(step, np.bincount(intents.agent[sent], minlength=n))
        if np.count_nonzero(v.breach):
            self._ladder.breaches.add(step, np.bincount(intents.agent[v.breach], minlength=n))
        if sent.all():  # the usual step: every intent goes out, no row to drop
            approved = intents.with_qty(v.approved.copy())
        else:
            approved = intents.take(sent).with_qty(v.approved[sent])
        return RiskDecision(
            intents=intents,
            approved=approved,
            outcome=v.outcome,
            rule=v.rule,
            value=v.value,
            limit=v.limit,
            requested=intents.qty.copy(),
            approved_qty=v.approved,
            flatten=self.killed,
        )

    def kill(self, step: int, reason: str, source: KillSource = "api") -> LadderTransitions:
        """Fire the kill switch: every agent and the population to HALT (idempotent)."""
        if not self.kill_state.fire(step, reason, source):
            return LadderTransitions.empty()
        return self._ladder.halt_all(CAUSE["kill"])

    def reset_agents(self, step: int, agents: np.ndarray, equity: np.ndarray) -> LadderTransitions:
        """Rows ``agents`` now hold newborn agents: fresh peak, breaches, rate and level.

        The only way down from HALT; a fired kill switch still wins (levels stay HALT).
        """
        self._advance(step)
        agents = np.asarray(agents, dtype=np.int64)
        self._orders.clear(agents)
        return self._ladder.reset(agents, equity, frozen=self.kill_state.fired)

    # --- helpers ---------------------------------------------------------------------------

    def _advance(self, step: int) -> None:
        if self._step is not None and step < self._step:
            raise ValueError(f"risk step {step} is before the last step seen ({self._step})")
        self._step = step

    def _validate(self, intents: OrderBatch) -> None:
        """Malformed intents are kernel bugs: refuse the whole batch loudly."""
        if not len(intents):
            return
        i = intents
        bad = invalid_fields(
            i.order_id, i.order_id[0] - 1, i.agent, self.n_agents, i.instrument,
            self.n_instruments, i.side, i.qty, i.order_type, i.limit_price,
        )  # fmt: skip
        if not bad:
            return
        failed = {name for k, name in enumerate(FIELDS) if bad >> k & 1}
        if "qty" in failed:
            raise ValueError("order intents must have qty > 0")
        if "side" in failed:
            raise ValueError("order intents must have side +1 or -1")
        if "agent" in failed:
            raise ValueError(f"intent agent out of range 0..{self.n_agents - 1}")
        if "instrument" in failed:
            raise ValueError(f"intent instrument out of range 0..{self.n_instruments - 1}")
