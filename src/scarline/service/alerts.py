"""Alerts: rules that watch a running session, a journaled book of what fired, and delivery.

Three parts, wired by the session (and read by the API)::

    rules = AlertRules(config.alerts, bar_seconds=...)
    book = AlertBook(run_dir / "alerts.jsonl", keep=config.alerts.keep)
    dispatcher = Dispatcher.from_config(config.alerts, os.environ)
    for alert in book.add(rules.evaluate(inputs)):   # after each step, and from a watchdog
        dispatcher.submit(alert)                      # never blocks, never raises

- :class:`AlertRules` turns one :class:`AlertInputs` into the alerts that fire now. It is a
  function of its inputs and its own memory (which rule fired for which subject, when), so
  tests drive it with made-up wall times. Conditions (drawdown, feed down, stale heartbeat,
  p99 latency) fire once when they start to hold and re-arm when they clear; events (ladder
  transitions, the kill, drift alarms) fire each time. Either way a rule that fired for a
  subject is silent for ``cooldown_seconds`` of the *inputs'* wall time, and never fires
  twice for one step, so evaluating the same inputs again never double-fires.
- ``AlertBook`` (:mod:`.alert_book`) keeps the latest alerts for ``GET /alerts``, acks them,
  and journals every alert and ack to ``RUN_DIR/alerts.jsonl``. Alerts are *not* in the WAL: they
  depend on wall-clock things (feed outages, heartbeat age, latencies), and the WAL must stay
  a replayable function of the inputs. Each journal line carries the sha256 of the line
  before it (``prev``; the first line's is 64 zeros), a small hash chain: an edited, inserted
  or deleted line breaks the chain at the next line (``verify_alerts``). A cut-off tail
  or an edit of the very last line is not caught by the chain alone: publish
  ``AlertBook.head`` elsewhere (``/status``, the heartbeat) to pin the end.
- ``Dispatcher`` (:mod:`.dispatch`) sends alerts to the sinks (:mod:`.sinks`) on one thread per
  sink, with exponential backoff, so a dead sink neither delays the trading loop nor the
  other sinks; after ``retry.attempts`` it gives up and counts a failure.
"""

from __future__ import annotations

import builtins
import hashlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import msgspec
import numpy as np
import numpy.typing as npt

from scarline.alerts_config import AlertsConfig

Severity = Literal["info", "warning", "critical"]
POPULATION = "population"
FEED = "feed"
SESSION = "session"
GENESIS = "0" * 64
"""The ``prev`` of the journal's first line."""
LEVEL_SEVERITY: dict[str, Severity] = {"WARN": "info", "THROTTLE": "warning", "HALT": "critical"}


class Alert(msgspec.Struct, frozen=True, kw_only=True):
    """One alert. ``id`` is stable: a short hash of the rule, the subject, the step it fired
    at and how many times that rule fired for that subject at that step before, so a step
    evaluated again (after a resume) gives the same id and the book skips it."""

    id: str
    rule: str
    severity: Severity
    subject: str
    message: str
    step: int
    bar_ts: int
    wall_ns: int
    value: float | None = None
    threshold: float | None = None
    acked: bool = False
    acked_by: str | None = None
    acked_wall_ns: int | None = None


def alert_id(rule: str, subject: str, step: int, nth: int = 0) -> str:
    text = f"{rule}\x1f{subject}\x1f{step}\x1f{nth}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class AlertInputs:
    """What the rules see at one evaluation. ``None`` means "not measured this time": a
    watchdog thread may pass only ``heartbeat_age_seconds``, the loop only the step's facts,
    and a rule whose input is ``None`` keeps its state.

    ``ladder`` lists this step's transitions as ``(agent row, level name)``, row -1 being the
    population's level; ``drift_rows`` the rows with a drift alarm this step; agent rows are
    named by ``agent_ids`` when given (else ``agent:<row>``).
    """

    step: int
    bar_ts: int
    wall_ns: int
    agent_ids: Sequence[str] | None = None
    agent_drawdown_pct: npt.ArrayLike | None = None
    population_drawdown_pct: float | None = None
    ladder: Sequence[tuple[int, str]] = ()
    killed_now: bool = False
    kill_reason: str = ""
    kill_source: str = ""
    drift_rows: Sequence[int] = ()
    feed_up: bool | None = None
    feed_down_seconds: float = 0.0
    heartbeat_age_seconds: float | None = None
    p99_latency_seconds: float | None = None

    def subject(self, row: int) -> str:
        if row < 0:
            return POPULATION
        if self.agent_ids is not None and row < len(self.agent_ids):
            return str(self.agent_ids[row])
        return f"agent:{row}"


@dataclass(slots=True)
class _Fired:
    wall_ns: int
    step: int
    nth: int  # fires of this rule and subject at ``step`` so far


class AlertRules:
    """The rules of ``[alerts]`` (with the sink-only defaults applied) and their memory.

    Thread-safe: the trading loop and a watchdog may both call :meth:`evaluate`. The wall
    time is only ever ``inputs.wall_ns``; a clock stepped back only lengthens a cool-down.
    """

    def __init__(self, config: AlertsConfig, *, bar_seconds: float | None = None) -> None:
        self.config = config.effective(bar_seconds)
        self._cooldown_ns = round(self.config.cooldown_seconds * 1e9)
        self._fired: dict[tuple[str, str], _Fired] = {}
        self._active: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> builtins.list[str]:
        """The rules that can fire (after the sink-only defaults)."""
        c = self.config
        on = {
            "drawdown": c.drawdown_pct is not None,
            "ladder": bool(c.ladder_levels),
            "kill": bool(c.kill),
            "drift": bool(c.drift),
            "feed_down": c.feed_down_seconds is not None,
            "stale_heartbeat": c.stale_heartbeat_seconds is not None,
            "p99_latency": c.p99_latency_seconds is not None,
        }
        return [rule for rule, yes in on.items() if yes]

    def evaluate(self, s: AlertInputs) -> builtins.list[Alert]:
        """The alerts that fire now, in rule order (kill, ladder, drift, drawdown, feed,
        heartbeat, latency)."""
        out: list[Alert] = []
        c = self.config
        with self._lock:
            if c.kill and s.killed_now:
                source = f" ({s.kill_source})" if s.kill_source else ""
                text = f"kill switch fired{source}: {s.kill_reason or 'no reason given'}"
                self._event(out, s, "kill", "critical", POPULATION, text)
            if c.ladder_levels:
                for row, level in s.ladder:
                    if level in c.ladder_levels:
                        who = s.subject(row)
                        text = f"risk ladder of {who} went to {level}"
                        rule = f"ladder_{level.lower()}"  # a HALT is never muted by a THROTTLE
                        self._event(out, s, rule, LEVEL_SEVERITY[level], who, text)
            if c.drift:
                for row in s.drift_rows:
                    who = s.subject(int(row))
                    self._event(out, s, "drift", "warning", who, f"drift alarm on {who}")
            if c.drawdown_pct is not None:
                self._drawdowns(out, s, c.drawdown_pct)
            if c.feed_down_seconds is not None and s.feed_up is not None:
                down = s.feed_down_seconds if not s.feed_up else 0.0
                held = not s.feed_up and down >= c.feed_down_seconds
                text = f"feed down for {down:.0f} s (limit {c.feed_down_seconds:g} s)"
                self._condition(out, s, "feed_down", "critical", FEED, held, text, down,
                                c.feed_down_seconds)  # fmt: skip
            if c.stale_heartbeat_seconds is not None and s.heartbeat_age_seconds is not None:
                age, limit = s.heartbeat_age_seconds, c.stale_heartbeat_seconds
                text = f"heartbeat is {age:.0f} s old (limit {limit:g} s)"
                self._condition(out, s, "stale_heartbeat", "critical", SESSION, age > limit,
                                text, age, limit)  # fmt: skip
            if c.p99_latency_seconds is not None and s.p99_latency_seconds is not None:
                p99, limit = s.p99_latency_seconds, c.p99_latency_seconds
                text = f"step latency p99 {p99 * 1e3:.1f} ms (limit {limit * 1e3:g} ms)"
                self._condition(out, s, "p99_latency", "warning", SESSION, p99 > limit, text,
                                p99, limit)  # fmt: skip
        return out

    def _drawdowns(self, out: list[Alert], s: AlertInputs, limit: float) -> None:
        scope = self.config.drawdown_scope
        if scope != "agents" and s.population_drawdown_pct is not None:
            dd = float(s.population_drawdown_pct)
            if np.isfinite(dd):
                text = f"population drawdown {dd:.2f}% (limit {limit:g}%)"
                self._condition(out, s, "drawdown", "warning", POPULATION, dd >= limit, text,
                                dd, limit)  # fmt: skip
        if scope != "population" and s.agent_drawdown_pct is not None:
            dd_all = np.asarray(s.agent_drawdown_pct, dtype=np.float64).ravel()
            rows = set(np.flatnonzero(dd_all >= limit).tolist())  # NaN: unknown, never above
            # rows that were above: do they still hold? (a key per agent id, not per row)
            held = [who for rule, who in self._active if rule == "drawdown" and who != POPULATION]
            if held:
                names = {s.subject(r): r for r in range(len(dd_all))}
                rows.update(names[w] for w in held if w in names and np.isfinite(dd_all[names[w]]))
            for row in sorted(rows):
                dd = float(dd_all[row])
                who = s.subject(row)
                text = f"drawdown of {who} {dd:.2f}% (limit {limit:g}%)"
                self._condition(out, s, "drawdown", "warning", who, dd >= limit, text, dd,
                                limit)  # fmt: skip

    def _may_fire(self, key: tuple[str, str], s: AlertInputs) -> int | None:
        """The ``nth`` of a fire now, or None while the key cools down / fired this step."""
        last = self._fired.get(key)
        if last is None:
            return 0
        if s.wall_ns - last.wall_ns < self._cooldown_ns:
            return None
        return last.nth + 1 if s.step == last.step else 0

    def _fire(
        self,
        out: list[Alert],
        s: AlertInputs,
        rule: str,
        severity: Severity,
        subject: str,
        message: str,
        value: float | None,
        threshold: float | None,
        nth: int,
    ) -> None:
        self._fired[(rule, subject)] = _Fired(s.wall_ns, s.step, nth)
        out.append(
            Alert(
                id=alert_id(rule, subject, s.step, nth),
                rule=rule,
                severity=severity,
                subject=subject,
                message=message,
                step=s.step,
                bar_ts=s.bar_ts,
                wall_ns=s.wall_ns,
                value=value,
                threshold=threshold,
            )
        )

    def _event(
        self,
        out: list[Alert],
        s: AlertInputs,
        rule: str,
        severity: Severity,
        subject: str,
        message: str,
    ) -> None:
        key = (rule, subject)
        last = self._fired.get(key)
        if last is not None and last.step == s.step:
            return  # one event per rule, subject and step, whatever the cool-down
        nth = self._may_fire(key, s)
        if nth is not None:
            self._fire(out, s, rule, severity, subject, message, None, None, nth)

    def _condition(
        self,
        out: list[Alert],
        s: AlertInputs,
        rule: str,
        severity: Severity,
        subject: str,
        held: bool,
        message: str,
        value: float,
        threshold: float,
    ) -> None:
        """Fire when ``held`` starts (unless cooling down); re-arm when it stops. A start
        inside the cool-down counts as the same episode: it stays silent until it clears."""
        key = (rule, subject)
        if not held:
            self._active.discard(key)
            return
        if key in self._active:
            return
        self._active.add(key)
        nth = self._may_fire(key, s)
        if nth is not None:
            self._fire(out, s, rule, severity, subject, message, value, threshold, nth)
