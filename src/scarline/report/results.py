"""What a finished run hands to the report: plain arrays, no kernel objects.

The report depends on nothing but this module's types, so it can be built from a live
kernel, from a replay or from a test fixture alike. Everything is struct-of-arrays (one
row per agent, per step or per event) so that N = 4096 agents cost array maths, not loops.
Constructors coerce dtypes and check shapes, raising ``ValueError`` naming the field.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

OUTCOMES: tuple[str, ...] = ("pass", "warn", "throttle", "reject", "halt", "kill")
"""Risk check outcomes, mildest first; ``RiskLog.outcome`` holds indices into this tuple."""

GLOBAL_AGENT = -1
"""``RiskLog.agent`` of events that concern the whole run, not one agent."""


def _array(name: str, value: object, dtype: type, ndim: int) -> np.ndarray:
    out: np.ndarray = np.asarray(value, dtype=dtype)
    if out.ndim != ndim:
        raise ValueError(f"{name}: expected {ndim}-d array, got shape {out.shape}")
    return out


def _same_length(owner: str, arrays: dict[str, np.ndarray]) -> int:
    lengths = {name: a.shape[0] for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"{owner}: arrays differ in length {lengths}")
    return next(iter(lengths.values()))


@dataclass(frozen=True, eq=False)
class TradeLog:
    """F fills, one row each (so ``len`` is the number of fills).

    ``agent`` is the agent's *column* in ``RunResults.equity`` (0..N-1), not its id;
    ``price`` is the execution price in the units of ``RunResults.close``; ``qty`` is in
    lots (> 0, direction in ``side``: +1 buy, -1 sell); ``fee`` is in currency.
    """

    step: np.ndarray  # int64[F]
    agent: np.ndarray  # int64[F]
    instrument: np.ndarray  # int64[F]
    side: np.ndarray  # int8[F]
    qty: np.ndarray  # int64[F]
    price: np.ndarray  # float64[F]
    fee: np.ndarray  # float64[F]

    def __post_init__(self) -> None:
        dtypes = {
            "step": np.int64,
            "agent": np.int64,
            "instrument": np.int64,
            "side": np.int8,
            "qty": np.int64,
            "price": np.float64,
            "fee": np.float64,
        }
        arrays = {k: _array(f"TradeLog.{k}", getattr(self, k), t, 1) for k, t in dtypes.items()}
        for name, value in arrays.items():
            object.__setattr__(self, name, value)
        _same_length("TradeLog", arrays)
        if not np.isin(self.side, (1, -1)).all():
            raise ValueError("TradeLog.side: every entry must be +1 (buy) or -1 (sell)")

    def __len__(self) -> int:
        return int(self.step.shape[0])

    @staticmethod
    def empty() -> TradeLog:
        return TradeLog(*([np.zeros(0)] * 7))


@dataclass(frozen=True, eq=False)
class RiskLog:
    """E risk check outcomes, stored as codes so millions of events stay cheap.

    ``rule`` indexes ``rule_names``; ``outcome`` indexes :data:`OUTCOMES`; ``agent`` is the
    agent's column (0..N-1) or :data:`GLOBAL_AGENT`. Build from text with :meth:`from_labels`.
    """

    step: np.ndarray  # int64[E]
    agent: np.ndarray  # int64[E]
    rule: np.ndarray  # int64[E], index into rule_names
    outcome: np.ndarray  # int8[E], index into OUTCOMES
    rule_names: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        dtypes = {"step": np.int64, "agent": np.int64, "rule": np.int64, "outcome": np.int8}
        arrays = {k: _array(f"RiskLog.{k}", getattr(self, k), t, 1) for k, t in dtypes.items()}
        for name, value in arrays.items():
            object.__setattr__(self, name, value)
        object.__setattr__(self, "rule_names", tuple(str(r) for r in self.rule_names))
        if _same_length("RiskLog", arrays) == 0:
            return
        if self.rule.min() < 0 or self.rule.max() >= len(self.rule_names):
            raise ValueError(f"RiskLog.rule: codes must index rule_names {self.rule_names}")
        if self.outcome.min() < 0 or self.outcome.max() >= len(OUTCOMES):
            raise ValueError(f"RiskLog.outcome: codes must index {OUTCOMES}")

    def __len__(self) -> int:
        return int(self.step.shape[0])

    @staticmethod
    def empty() -> RiskLog:
        none = np.zeros(0)
        return RiskLog(none, none, none, none)

    @staticmethod
    def from_labels(
        step: Sequence[int] | np.ndarray,
        agent: Sequence[int] | np.ndarray,
        rules: Sequence[str],
        outcomes: Sequence[str],
    ) -> RiskLog:
        """Encode text labels; rule names are sorted so the codes do not depend on order."""
        names, rule_codes = np.unique(np.asarray(rules, dtype=str), return_inverse=True)
        lookup = {name: i for i, name in enumerate(OUTCOMES)}
        unknown = sorted(set(outcomes) - set(lookup))
        if unknown:
            raise ValueError(f"RiskLog.outcome: unknown {unknown}, expected one of {OUTCOMES}")
        codes = np.array([lookup[o] for o in outcomes], dtype=np.int8)
        return RiskLog(
            np.asarray(step), np.asarray(agent), rule_codes, codes, tuple(str(n) for n in names)
        )


@dataclass(frozen=True, eq=False)
class RunResults:
    """Everything the report shows about one run: T steps, M instruments, N agents.

    Money is in currency (floats), not in the kernel's integer cash units. ``equity[t]`` is
    marked at step t's close; ``equity[0]`` is expected to equal ``initial_cash`` (orders
    decided at a close fill at the next bar). NaN in ``equity`` means "agent not alive".
    """

    run_id: str
    timestamps: np.ndarray  # int64[T], ns UTC
    symbols: list[str]  # [M]
    close: np.ndarray  # float64[T, M], NaN where no bar
    agent_ids: np.ndarray  # int64[N]
    policies: list[str]  # [N], e.g. "sma-crossover(10,30)", "buy-and-hold"
    equity: np.ndarray  # float64[T, N], currency
    initial_cash: float
    fees: np.ndarray  # float64[N], total, currency
    slippage: np.ndarray  # float64[N], total, currency
    turnover: np.ndarray  # float64[N], traded notional / mean equity
    trades: TradeLog
    risk_events: RiskLog
    periods_per_year: float
    split_step: int | None = None
    meta: dict[str, str] = field(default_factory=dict)
    scars: np.ndarray | None = None  # int64[N] permanent loss events (None: zeros)
    died_at: np.ndarray | None = None  # int64[N] step of ruin, -1 alive (None: all alive)
    kinds: list[str] | None = None  # [N] strategy kind, e.g. "q-network" (None: the policies)
    trust: np.ndarray | None = None  # float64[N] trust at the end, 0 dead (None: not recorded)

    def __post_init__(self) -> None:
        setv = object.__setattr__
        setv(self, "timestamps", _array("timestamps", self.timestamps, np.int64, 1))
        setv(self, "close", _array("close", self.close, np.float64, 2))
        setv(self, "agent_ids", _array("agent_ids", self.agent_ids, np.int64, 1))
        setv(self, "equity", _array("equity", self.equity, np.float64, 2))
        for name in ("fees", "slippage", "turnover"):
            setv(self, name, _array(name, getattr(self, name), np.float64, 1))
        n_agents = int(np.shape(self.agent_ids)[0])
        scars = np.zeros(n_agents, np.int64) if self.scars is None else self.scars
        died = np.full(n_agents, -1, np.int64) if self.died_at is None else self.died_at
        setv(self, "scars", _array("scars", scars, np.int64, 1))
        setv(self, "died_at", _array("died_at", died, np.int64, 1))
        trust = np.full(n_agents, np.nan) if self.trust is None else self.trust
        setv(self, "trust", _array("trust", trust, np.float64, 1))
        setv(self, "symbols", [str(s) for s in self.symbols])
        setv(self, "policies", [str(p) for p in self.policies])
        setv(self, "kinds", [str(k) for k in (self.kinds or self.policies)])
        setv(self, "meta", {str(k): str(v) for k, v in self.meta.items()})
        t_n, n = self.n_steps, self.n_agents
        if t_n == 0:
            raise ValueError("timestamps: a run has at least one step")
        expect: dict[str, tuple[int, ...]] = {
            "close": (t_n, len(self.symbols)),
            "equity": (t_n, n),
        }
        expect |= {
            k: (n,)
            for k in (
                "policies",
                "kinds",
                "fees",
                "slippage",
                "turnover",
                "scars",
                "died_at",
                "trust",
            )
        }
        for name, shape in expect.items():
            got = np.shape(getattr(self, name))
            if got != shape:
                raise ValueError(f"{name}: expected shape {shape}, got {got}")
        if not self.initial_cash > 0:
            raise ValueError(f"initial_cash: must be > 0, got {self.initial_cash}")
        if not self.periods_per_year > 0:
            raise ValueError(f"periods_per_year: must be > 0, got {self.periods_per_year}")
        if self.split_step is not None and not 0 <= self.split_step < t_n:
            raise ValueError(f"split_step: {self.split_step} is outside 0..{t_n - 1}")
        for log, name in ((self.trades, "trades"), (self.risk_events, "risk_events")):
            if len(log) and (log.step.min() < 0 or log.step.max() >= t_n):
                raise ValueError(f"{name}.step: steps must lie in 0..{t_n - 1}")
        if len(self.trades) and (self.trades.agent.min() < 0 or self.trades.agent.max() >= n):
            raise ValueError(f"trades.agent: columns must lie in 0..{n - 1}")
        if len(self.risk_events) and self.risk_events.agent.max() >= n:
            raise ValueError(f"risk_events.agent: columns must lie in -1..{n - 1}")

    @property
    def n_steps(self) -> int:
        return int(self.timestamps.shape[0])

    @property
    def n_agents(self) -> int:
        return int(self.agent_ids.shape[0])
