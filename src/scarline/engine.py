"""The kernel: one step of the pipeline for N agents, and the loop over steps.

A run and its replay both call :meth:`Kernel.run`; the only differences are where the
market comes from (a dataset vs the WAL) and where records go (files vs a hash-only
sink). Per step: the bars of row t are journaled, the policy decides on data up to t,
and the batch Decision is journaled and folded into the decision trace. (Broker, risk
and accounting join this step with the execution-core issue.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from scarline.agents.policy import Policy
from scarline.clock import SimClock
from scarline.events import Array, Decision, Event, SessionEnd, SessionStart
from scarline.market.frame import MarketData
from scarline.market.stream import BarEmitter
from scarline.trace import DecisionTrace


class Journal(Protocol):
    """Where the kernel appends records: a WAL on disk or a hash-only sink for replay."""

    def append(self, event: Event, ts: int) -> int: ...

    @property
    def head(self) -> str: ...


@dataclass(frozen=True)
class SessionIds:
    run_id: str
    session_id: str


@dataclass(frozen=True)
class KernelResult:
    steps: int
    decision_trace_hash: str
    wal_head: str


class Kernel:
    def __init__(
        self,
        *,
        market: MarketData,
        policy: Policy,
        journal: Journal,
        ids: SessionIds,
        session_start: SessionStart,
    ) -> None:
        self.market = market
        self.policy = policy
        self.journal = journal
        self.ids = ids
        self.clock = SimClock(int(market.timestamps[0]) if market.n_steps else 0)
        self.trace = DecisionTrace()
        self._start = session_start
        self._emitter = BarEmitter(market, ids.run_id, ids.session_id)
        self._timestamps = market.timestamps.tolist()

    def step(self, t: int) -> None:
        ts = self._timestamps[t]
        self.clock.advance_to(ts)
        journal = self.journal
        for bar in self._emitter.bars(t):
            journal.append(bar, ts)
        for quote in self._emitter.quotes(t):
            journal.append(quote, ts)
        actions, target_qty = self.policy.decide(t)
        agents = self.policy.agent_ids
        journal.append(
            Decision(
                run_id=self.ids.run_id,
                session_id=self.ids.session_id,
                decision_id=f"d{t}",
                step=t,
                policy=self.policy.name,
                agents=Array.of(agents),
                actions=Array.of(actions),
                target_qty=Array.of(target_qty),
            ),
            ts,
        )
        self.trace.update(t, agents, np.asarray(actions), np.asarray(target_qty))

    def run(self, on_step: Callable[[int], None] | None = None) -> KernelResult:
        """Journal the session start, step through every row, journal the session end."""
        self.journal.append(self._start, self.clock.now())
        for t in range(self.market.n_steps):
            self.step(t)
            if on_step is not None:
                on_step(t)
        digest = self.trace.hexdigest()
        self.journal.append(
            SessionEnd(
                run_id=self.ids.run_id,
                session_id=self.ids.session_id,
                steps=self.market.n_steps,
                decision_trace_hash=digest,
            ),
            self.clock.now(),
        )
        return KernelResult(self.market.n_steps, digest, self.journal.head)
