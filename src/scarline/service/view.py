"""The read model the API serves: a session's state at its last step, and the operator's
requests going the other way.

The service never touches kernel state. The session publishes an immutable :class:`Snapshot`
at each step boundary and, once per bar, takes what operators asked for (a kill, runtime
flags) to journal and apply itself, like the kill flag file. :class:`SessionView` is the one
object both sides share, so it is the only place that needs a lock. Nothing here imports
FastAPI: the session can build snapshots without the web stack loaded.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Literal

import msgspec
import numpy as np

from scarline.operator import RUNTIME_FLAGS
from scarline.service.equity import EquityHistory

FeedState = Literal["up", "down", "none"]


class UnknownFlag(ValueError):
    """A flag outside :data:`RUNTIME_FLAGS`; ``str(err)`` names it."""


class PolicySlot(msgspec.Struct, frozen=True):
    """The policy a slot (learning group) trades, and its ledger stage."""

    slot: int
    policy: str
    policy_hash: str
    stage: str


class AgentRow(msgspec.Struct, frozen=True, kw_only=True):
    """One agent at the last step; ``position`` is lots per instrument (the snapshot's
    ``instruments`` order)."""

    id: int
    policy: str
    kind: str = ""
    equity: float
    position: list[float] = []
    ret: float = msgspec.field(default=0.0, name="return")
    sharpe: float | None = None
    max_drawdown: float | None = None
    trust: float | None = None
    scars: int = 0
    alive: bool = True
    pnl_realized: float = 0.0
    winrate: float | None = None


class Ladder(msgspec.Struct, frozen=True):
    """The risk ladder: the population's level and each agent's (by agent id)."""

    level: str = "NORMAL"
    agents: dict[int, str] = {}


class Quantiles(msgspec.Struct, frozen=True):
    p50: float
    p99: float
    p999: float


class Snapshot(msgspec.Struct, frozen=True, kw_only=True):
    """A session (or a finished run) at its last step.

    ``step`` is the last step's index (-1 before the first); ``bar_ts`` its bar time and
    ``wall_ns`` the wall clock when it was taken (ns since the epoch); ``bar_seconds`` the
    bar length (0: unknown), which ``/healthz`` uses to call a heartbeat stale.
    ``guardrails`` counts risk-rule triggers by rule since the start (cumulative);
    ``drift_score`` and ``policy_entropy`` are the session's latest figures.
    """

    run_id: str
    profile: str = ""
    step: int = -1
    bar_ts: int = 0
    wall_ns: int = 0
    bar_seconds: float = 0.0
    ladder: Ladder = Ladder()
    killed: bool = False
    kill_reason: str = ""
    feed: FeedState = "none"
    policies: list[PolicySlot] = []
    agents: list[AgentRow] = []
    latency: dict[str, Quantiles] = {}
    wal_records: int = 0
    instruments: list[str] = []
    guardrails: dict[str, int] = {}
    drift_score: float = 0.0
    policy_entropy: float = 0.0

    def to_json(self) -> dict[str, object]:
        """Plain JSON types (what the API returns)."""
        out: dict[str, object] = msgspec.to_builtins(self)
        return out


class FlagChange(msgspec.Struct, frozen=True):
    """An operator's request to set a runtime flag; ``key_id`` names the caller's key."""

    name: str
    value: bool
    key_id: str


class Subscription:
    """One live-event client's queue of snapshots, fed from any thread.

    Bounded: when the client reads slower than the session steps, the oldest snapshots are
    dropped (``dropped`` counts them) — a dashboard wants the latest state, not a backlog,
    and a stuck client must never hold memory or slow the session.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, maxsize: int) -> None:
        self._loop = loop
        self._queue: asyncio.Queue[Snapshot] = asyncio.Queue(maxsize)
        self.dropped = 0

    def offer(self, snapshot: Snapshot) -> bool:
        """Hand ``snapshot`` to the client's loop; False when that loop is gone."""
        try:
            self._loop.call_soon_threadsafe(self._put, snapshot)
        except RuntimeError:  # the loop is closed
            return False
        return True

    def _put(self, snapshot: Snapshot) -> None:
        while self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(snapshot)

    async def get(self) -> Snapshot:
        return await self._queue.get()


class SessionView:
    """The latest snapshot and the operator's pending requests, behind one lock.

    The session calls :meth:`publish` after each step and :meth:`take_kill` /
    :meth:`take_flags` once per bar; the API calls the rest. Every method is short and never
    blocks on I/O, so the session's step is never held up by a client.
    """

    def __init__(self, *, queue_size: int = 16, history_points: int = 2000) -> None:
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._history = EquityHistory(history_points)
        self._kill: tuple[str, str] | None = None
        self._flags: list[FlagChange] = []
        self._subscribers: set[Subscription] = set()
        self._queue_size = queue_size

    def publish(self, snapshot: Snapshot) -> None:
        """Make ``snapshot`` current, add it to the equity history and push it to every
        live-event client."""
        ids = tuple(a.id for a in snapshot.agents)
        equity = np.array([a.equity for a in snapshot.agents], dtype=np.float64)
        with self._lock:
            self._snapshot = snapshot
            self._history.append(snapshot.bar_ts, ids, equity)
            subscribers = list(self._subscribers)
        gone = [s for s in subscribers if not s.offer(snapshot)]
        if gone:
            with self._lock:
                self._subscribers.difference_update(gone)

    def current(self) -> Snapshot | None:
        with self._lock:
            return self._snapshot

    def equity_history(self) -> tuple[np.ndarray, tuple[int, ...], np.ndarray]:
        """``(ts, agent ids, equity[P, N])`` of the steps published so far (thinned, see
        :class:`~scarline.service.equity.EquityHistory`)."""
        with self._lock:
            return self._history.curves()

    def request_kill(self, reason: str, key_id: str) -> None:
        """Ask the session to fire the kill switch; the first request wins until taken (a
        second kill while one is pending changes nothing)."""
        with self._lock:
            if self._kill is None:
                self._kill = (reason, key_id)

    def take_kill(self) -> tuple[str, str] | None:
        """``(reason, key_id)`` of a pending kill request, once; None when there is none."""
        with self._lock:
            kill, self._kill = self._kill, None
            return kill

    def set_flag(self, name: str, value: bool, key_id: str = "") -> None:
        """Queue a runtime flag change; :class:`UnknownFlag` outside :data:`RUNTIME_FLAGS`."""
        if name not in RUNTIME_FLAGS:
            raise UnknownFlag(
                f"unknown runtime flag {name!r} (allowed: {', '.join(RUNTIME_FLAGS)})"
            )
        with self._lock:
            self._flags.append(FlagChange(name, bool(value), key_id))

    def take_flags(self) -> list[FlagChange]:
        """The flag changes queued since the last call, in request order."""
        with self._lock:
            flags, self._flags = self._flags, []
            return flags

    def subscribe(self) -> Subscription:
        """A queue of the snapshots published from now on, for a client on the running
        event loop (call from a coroutine); :meth:`unsubscribe` it when the client leaves."""
        sub = Subscription(asyncio.get_running_loop(), self._queue_size)
        with self._lock:
            self._subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock, contextlib.suppress(KeyError):
            self._subscribers.remove(sub)

    @property
    def subscribers(self) -> int:
        with self._lock:
            return len(self._subscribers)
