"""Operator inputs: what the kernel polls besides the bars — the kill switch, a live feed's
records, policy swaps.

In a run, the switch is read from the config and from flag files (``RUN_DIR/KILL`` or
``<runs root>/KILL``, written by ``scarline kill``); whatever fires is journaled as a
:class:`~scarline.events.KillSwitch` event at the step it was seen. In a replay, the same
events are read back from the WAL and fire at the same steps — so a kill replays exactly.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from scarline.events import FeedInput, KillSwitch, PolicySwap
from scarline.evolution.genome import Genome
from scarline.risk.kill import kill_file, kill_reason
from scarline.session import SessionIds

__all__ = [
    "RUNTIME_FLAGS",
    "FeedQueue",
    "LiveOperator",
    "OperatorInputs",
    "ReplayOperator",
    "Swap",
]

RUNTIME_FLAGS: tuple[str, ...] = ("freeze_exploration",)
"""Flags an operator may change while a session runs, each journaled as an
:class:`~scarline.events.OperatorFlag` at the step it acts from.

``freeze_exploration``: true stops exploratory actions (the epsilon draws of learning agents)
from that step on; false resumes them (where ``flags.exploration`` and the drift sentry allow).
It only narrows what agents may do, never loosens a risk limit: safe to change at run time.
"""

Swap = tuple[PolicySwap, Genome | None]
"""A policy swap and the genome it installs (None: the rows go flat), already verified."""


class OperatorInputs(Protocol):
    """Inputs that are not bars, polled once per step: the kill switch, what a live
    session's feed reported (faulted bars, gaps, outages) and the policy swaps it follows
    from the ledger (none in a backtest)."""

    def poll(self, step: int) -> KillSwitch | None: ...

    def feed_inputs(self, step: int) -> Sequence[FeedInput]:
        """Feed records to journal at the start of ``step`` (``step`` = the step count: at
        the session's end)."""
        ...

    def policy_swaps(self, step: int) -> Sequence[Swap]:
        """Swaps to journal and apply at the start of ``step``, before anyone decides."""
        ...

    def quiet_until(self, step: int, stop: int) -> int:
        """The first step in ``step .. stop - 1`` at which any of the three may return
        something (``stop``: none): the steps before it may be stepped as a quiet run."""
        ...


class FeedQueue:
    """What a live session saw between two steps — its feed's records (faulted bars, gaps,
    outages) and the policy swaps it read from the ledger — waiting to be journaled at the
    start of the step each names."""

    def __init__(self) -> None:
        self._records: list[FeedInput] = []
        self._swaps: list[Swap] = []
        self._kill: tuple[str, str] | None = None

    def request_kill(self, reason: str, key_id: str) -> None:
        """A kill asked through the operations API: journaled at the next step with source
        ``api`` and the caller's key id (first request wins)."""
        self._kill = self._kill or (reason, key_id)

    def take_kill(self) -> tuple[str, str] | None:
        kill, self._kill = self._kill, None
        return kill

    def add(self, record: FeedInput) -> None:
        self._records.append(record)

    def add_swap(self, swap: Swap) -> None:
        self._swaps.append(swap)

    def take(self, step: int) -> list[FeedInput]:
        """The records of ``step``, in the order they were added (removed from the queue)."""
        due = [r for r in self._records if r.step == step]
        self._records = [r for r in self._records if r.step != step]
        return due

    def take_swaps(self, step: int) -> list[Swap]:
        due = [s for s in self._swaps if s[0].step == step]
        self._swaps = [s for s in self._swaps if s[0].step != step]
        return due


class LiveOperator:
    """Kill from config at step 0, or from a flag file, polled every ``every`` steps (a
    paper session: every step, so a kill acts within one bar); ``feed``: a live session's
    feed records."""

    def __init__(
        self,
        ids: SessionIds,
        *,
        config_kill: bool,
        run_dir: Path,
        runs_root: Path | None,
        every: int = 64,
        feed: FeedQueue | None = None,
    ) -> None:
        self._ids = ids
        self._config_kill = config_kill
        self._run_dir, self._runs_root = run_dir, runs_root
        self._every = every
        self._feed = feed

    def poll(self, step: int) -> KillSwitch | None:
        ids = self._ids
        api = None if self._feed is None else self._feed.take_kill()
        if api is not None:
            reason, key_id = api
            return KillSwitch(
                run_id=ids.run_id,
                session_id=ids.session_id,
                step=step,
                reason=f"{reason} (API key {key_id})",
                source="api",
            )
        if self._config_kill:
            return KillSwitch(
                run_id=ids.run_id,
                session_id=ids.session_id,
                step=step,
                reason="risk.kill = true in config",
                source="config",
            )
        if step % self._every == 0:
            path = kill_file(self._run_dir, self._runs_root)
            if path is not None:
                reason = kill_reason(path)  # a flag that cannot be read still kills
                return KillSwitch(
                    run_id=ids.run_id,
                    session_id=ids.session_id,
                    step=step,
                    reason=reason,
                    source="flag-file",
                )
        return None

    def feed_inputs(self, step: int) -> Sequence[FeedInput]:
        """The live feed's records of ``step`` (a backtest has no feed: none)."""
        return () if self._feed is None else self._feed.take(step)

    def policy_swaps(self, step: int) -> Sequence[Swap]:
        return () if self._feed is None else self._feed.take_swaps(step)

    def quiet_until(self, step: int, stop: int) -> int:
        """A live feed or a kill from config may speak at any step. Else the flag file
        decides, looked at once, now (a quiet run takes microseconds): while there is none,
        no poll in the run would find one, so nothing stops it — and a replay, which has no
        flag file, cuts the same runs; when there is one, the next poll journals the kill."""
        if self._feed is not None or self._config_kill:
            return step
        if kill_file(self._run_dir, self._runs_root) is None:
            return stop
        return min(stop, -(-step // self._every) * self._every)


class ReplayOperator:
    """Fires the KillSwitch events recorded in the WAL at their steps, and gives back the
    feed records and policy swaps a live session journaled, at the steps they were
    journaled at (the swaps' genomes loaded from the run's vault)."""

    def __init__(
        self,
        kills: list[KillSwitch],
        feed: Sequence[FeedInput] = (),
        swaps: Sequence[Swap] = (),
    ) -> None:
        self._by_step = {k.step: k for k in kills}
        self._feed: dict[int, list[FeedInput]] = {}
        for record in feed:
            self._feed.setdefault(record.step, []).append(record)
        self._swaps: dict[int, list[Swap]] = {}
        for swap in swaps:
            self._swaps.setdefault(swap[0].step, []).append(swap)
        self._steps = sorted({*self._by_step, *self._feed, *self._swaps})

    def poll(self, step: int) -> KillSwitch | None:
        return self._by_step.get(step)

    def feed_inputs(self, step: int) -> Sequence[FeedInput]:
        return self._feed.get(step, ())

    def policy_swaps(self, step: int) -> Sequence[Swap]:
        return self._swaps.get(step, ())

    def quiet_until(self, step: int, stop: int) -> int:
        i = bisect_left(self._steps, step)
        return min(stop, self._steps[i]) if i < len(self._steps) else stop
