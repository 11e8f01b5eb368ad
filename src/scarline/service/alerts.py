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
- :class:`AlertBook` keeps the latest alerts for ``GET /alerts``, acknowledges them, and
  journals every alert and ack to ``RUN_DIR/alerts.jsonl``. Alerts are *not* in the WAL: they
  depend on wall-clock things (feed outages, heartbeat age, latencies), and the WAL must stay
  a replayable function of the inputs. Each journal line carries the sha256 of the line
  before it (``prev``; the first line's is 64 zeros), a small hash chain: an edited, inserted
  or deleted line breaks the chain at the next line (:func:`verify_alerts`). A cut-off tail
  or an edit of the very last line is not caught by the chain alone: publish
  :attr:`AlertBook.head` elsewhere (``/status``, the heartbeat) to pin the end.
- :class:`Dispatcher` sends alerts to the sinks (:mod:`.sinks`) on one background thread per
  sink, with exponential backoff, so a dead sink neither delays the trading loop nor the
  other sinks; after ``retry.attempts`` it gives up and counts a failure.
"""

from __future__ import annotations

import builtins
import hashlib
import os
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

import httpx
import msgspec
import numpy as np
import numpy.typing as npt
import structlog

from scarline.alerts_config import AlertRetryConfig, AlertsConfig
from scarline.service.sinks import DeliveryError, Sink

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


class AlertJournalError(ValueError):
    """``alerts.jsonl`` does not verify: a line was edited, inserted or removed."""


_encoder = msgspec.json.Encoder()


def _digest(line: bytes) -> str:
    return hashlib.sha256(line).hexdigest()


def verify_alerts(path: Path) -> builtins.list[dict[str, object]]:
    """The records of ``alerts.jsonl`` after checking its hash chain; raises
    :class:`AlertJournalError` naming the first line that does not follow. A last line
    without its newline (a write cut by a crash) is not a record and is left out."""
    data = Path(path).read_bytes() if Path(path).exists() else b""
    lines = data.split(b"\n")[:-1]  # the part after the last newline is torn or empty
    records: list[dict[str, object]] = []
    prev = GENESIS
    for number, line in enumerate(lines, start=1):
        try:
            record = msgspec.json.decode(line)
        except msgspec.DecodeError:
            raise AlertJournalError(f"{path}: line {number} is not JSON") from None
        if not isinstance(record, dict) or record.get("prev") != prev:
            raise AlertJournalError(f"{path}: line {number} does not follow line {number - 1}")
        prev = _digest(line)
        records.append(record)
    return records


class AlertBook:
    """The alerts of a run: the newest ``keep`` in memory, every one in ``alerts.jsonl``.

    Opening an existing journal verifies it, reloads its alerts and acks, cuts a torn last
    line and continues its chain (crash-only resume). ``path=None`` keeps memory only;
    ``read_only=True`` (``scarline serve`` of a finished run) loads without ever writing, and
    :meth:`add`/:meth:`ack` raise ``PermissionError``. Thread-safe.
    """

    def __init__(self, path: Path | None, *, keep: int = 1000, read_only: bool = False) -> None:
        self.path = None if path is None else Path(path)
        self.keep = keep
        self.read_only = read_only
        self._alerts: OrderedDict[str, Alert] = OrderedDict()
        self._lock = threading.Lock()
        self._prev = GENESIS
        self._file: BinaryIO | None = None
        if self.path is None:
            return
        for record in verify_alerts(self.path):
            self._replay(record)
        if self.path.exists():
            data = self.path.read_bytes()
            cut = data.rfind(b"\n") + 1
            if lines := data[:cut].split(b"\n")[:-1]:
                self._prev = _digest(lines[-1])
            if cut < len(data) and not read_only:
                with self.path.open("r+b") as torn:
                    torn.truncate(cut)
        if not read_only:
            self._file = self.path.open("ab")

    def _replay(self, record: dict[str, object]) -> None:
        if record.get("kind") == "alert":
            self._keep(msgspec.convert(record["alert"], Alert))
        elif record.get("kind") == "ack":
            alert = self._alerts.get(str(record["id"]))
            if alert is not None:
                self._alerts[alert.id] = msgspec.structs.replace(
                    alert,
                    acked=True,
                    acked_by=str(record["key_id"]),
                    acked_wall_ns=int(str(record["wall_ns"])),
                )

    def _keep(self, alert: Alert) -> None:
        self._alerts[alert.id] = alert
        while len(self._alerts) > self.keep:
            self._alerts.popitem(last=False)

    def _write(self, record: dict[str, object]) -> None:
        if self._file is None:
            return
        line = _encoder.encode({"prev": self._prev, **record})
        self._file.write(line + b"\n")
        self._file.flush()
        self._prev = _digest(line)

    def add(self, alerts: Iterable[Alert]) -> builtins.list[Alert]:
        """Journal and keep the alerts whose id is new; returns those (to dispatch)."""
        if self.read_only:
            raise PermissionError("this alert book is read-only")
        added: list[Alert] = []
        with self._lock:
            for alert in alerts:
                if alert.id in self._alerts:
                    continue
                self._write({"kind": "alert", "alert": msgspec.to_builtins(alert)})
                self._keep(alert)
                added.append(alert)
        return added

    def list(self, *, unacked: bool = False) -> builtins.list[Alert]:
        """The kept alerts, oldest first (newest last)."""
        with self._lock:
            return [a for a in self._alerts.values() if not (unacked and a.acked)]

    def get(self, alert_id: str) -> Alert:
        with self._lock:
            return self._alerts[alert_id]

    def ack(self, alert_id: str, key_id: str, *, wall_ns: int | None = None) -> Alert:
        """Acknowledge an alert as the API key ``key_id``; journaled once (acking again
        returns the first ack). ``KeyError`` for an id not (or no longer) kept: a 404."""
        if self.read_only:
            raise PermissionError("this alert book is read-only")
        with self._lock:
            alert = self._alerts[alert_id]
            if alert.acked:
                return alert
            now = time.time_ns() if wall_ns is None else wall_ns
            self._write({"kind": "ack", "id": alert_id, "key_id": key_id, "wall_ns": now})
            alert = msgspec.structs.replace(alert, acked=True, acked_by=key_id, acked_wall_ns=now)
            self._alerts[alert_id] = alert
            return alert

    @property
    def head(self) -> str:
        """The sha256 of the journal's last line (64 zeros when empty): pins its end."""
        with self._lock:
            return self._prev

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


SleepFn = Callable[[float], object]


@dataclass
class SinkStats:
    """Delivery counts of one sink (read by metrics and tests)."""

    name: str
    url_id: str
    sent: int = 0
    attempts: int = 0
    failures: int = 0
    dropped: int = 0
    last_error: str | None = None


class Dispatcher:
    """Delivers alerts to sinks in the background. :meth:`submit` only enqueues (bounded,
    ``put_nowait``; a full queue drops and counts), so the trading loop never waits on a
    chat service and never sees its errors. Each sink has its own thread and queue: a dead
    sink backs off alone. A failed attempt (connection error, time-out, 5xx, 408, 429) is
    retried after ``base_seconds × 2^k`` (at most ``max_seconds``, at least a 429's
    ``Retry-After`` up to ``max_seconds``); another 4xx gives up at once.

    ``sleep`` is injectable for tests; the default waits on an event that :meth:`close` sets
    when its time-out runs out, so closing never hangs on a backoff.
    """

    def __init__(
        self,
        sinks: Sequence[Sink],
        retry: AlertRetryConfig | None = None,
        *,
        queue_size: int = 256,
        sleep: SleepFn | None = None,
        transport: Callable[[], httpx.BaseTransport] = httpx.HTTPTransport,
    ) -> None:
        self.retry = retry or AlertRetryConfig()
        self._abort = threading.Event()
        self._sleep: SleepFn = sleep if sleep is not None else self._abort.wait
        self._transport = transport
        self._lock = threading.Lock()
        self._closed = False
        self._log = structlog.get_logger("scarline.alerts")
        self.stats = [SinkStats(sink.name, sink.url_id) for sink in sinks]
        self._queues: list[queue.Queue[Alert | None]] = []
        self._threads: list[threading.Thread] = []
        for sink, stats in zip(sinks, self.stats, strict=True):
            q: queue.Queue[Alert | None] = queue.Queue(maxsize=queue_size)
            thread = threading.Thread(
                target=self._run, args=(sink, stats, q), name=f"alerts-{sink.name}", daemon=True
            )
            self._queues.append(q)
            self._threads.append(thread)
            thread.start()

    @classmethod
    def from_config(
        cls,
        config: AlertsConfig,
        env: Mapping[str, str] | None = None,
        *,
        queue_size: int = 256,
        sleep: SleepFn | None = None,
        transport: Callable[[], httpx.BaseTransport] = httpx.HTTPTransport,
    ) -> Dispatcher:
        """Sinks of ``[alerts]`` with secrets from ``env`` (default ``os.environ``); raises
        :class:`scarline.service.sinks.SinkSetupError` at start-up, not at the first alert."""
        env = os.environ if env is None else env
        sinks = [Sink.from_config(sink, env) for sink in config.sinks]
        return cls(sinks, config.retry, queue_size=queue_size, sleep=sleep, transport=transport)

    @property
    def failures(self) -> int:
        """Alerts given up on, over all sinks."""
        with self._lock:
            return sum(s.failures for s in self.stats)

    @property
    def last_error(self) -> str | None:
        with self._lock:
            errors = [f"{s.name}: {s.last_error}" for s in self.stats if s.last_error]
        return errors[-1] if errors else None

    def submit(self, alert: Alert) -> bool:
        """Queue ``alert`` for every sink; False when a queue was full or closed. Never
        blocks, never raises."""
        ok = True
        try:
            for q, stats in zip(self._queues, self.stats, strict=True):
                if self._closed:
                    raise queue.Full
                try:
                    q.put_nowait(alert)
                except queue.Full:
                    ok = False
                    with self._lock:
                        stats.dropped += 1
        except Exception:  # the trading loop must never see a delivery problem
            return False
        return ok

    def _run(self, sink: Sink, stats: SinkStats, q: queue.Queue[Alert | None]) -> None:
        transport = self._transport()
        try:
            while (alert := q.get()) is not None:
                self._deliver(transport, sink, stats, alert)
        finally:
            transport.close()

    def _deliver(
        self, transport: httpx.BaseTransport, sink: Sink, stats: SinkStats, alert: Alert
    ) -> None:
        error = "closed before delivery"
        tries = 0
        for attempt in range(self.retry.attempts):
            if self._abort.is_set():
                break
            tries += 1
            with self._lock:
                stats.attempts += 1
            try:
                sink.send(transport, alert)
            except DeliveryError as exc:
                error, retryable, hint = str(exc), exc.retryable, exc.retry_after
            except Exception as exc:  # a bug in a sink must not end its thread
                error, retryable, hint = sink.redact(f"{type(exc).__name__}: {exc}"), False, None
            else:
                with self._lock:
                    stats.sent += 1
                return
            if not retryable or attempt + 1 == self.retry.attempts:
                break
            delay = min(self.retry.max_seconds, self.retry.base_seconds * 2.0**attempt)
            if hint is not None:
                delay = max(delay, min(hint, self.retry.max_seconds))
            self._sleep(delay)
        with self._lock:
            stats.failures += 1
            stats.last_error = error
        self._log.warning(
            "alert delivery failed",
            sink=sink.name,
            url_id=sink.url_id,
            alert=alert.id,
            attempts=tries,
            error=error,
        )

    def close(self, timeout: float = 5.0) -> bool:
        """Deliver what is queued, then stop; after ``timeout`` seconds pending retries are
        abandoned (counted as failures). True when everything queued was attempted in time."""
        self._closed = True
        deadline = time.monotonic() + timeout
        for q in self._queues:
            try:
                q.put(None, timeout=max(0.0, deadline - time.monotonic()))
            except queue.Full:
                self._abort.set()
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        drained = not any(t.is_alive() for t in self._threads) and not self._abort.is_set()
        if not drained:
            self._abort.set()
            for q, stats in zip(self._queues, self.stats, strict=True):
                lost = _drain(q)
                with self._lock:
                    stats.dropped += lost
            for thread in self._threads:
                thread.join(1.0)
        return drained


def _drain(q: queue.Queue[Alert | None]) -> int:
    """Empty a queue and leave the sentinel, so an aborted worker ends; the alerts lost."""
    lost = 0
    try:
        while True:
            lost += q.get_nowait() is not None
    except queue.Empty:
        pass
    q.put_nowait(None)
    return lost
