"""Delivery of alerts to their sinks (:mod:`.sinks`) on background threads, with retries:
the trading loop only enqueues (see :class:`Dispatcher`)."""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import httpx
import structlog

from scarline.alerts_config import AlertRetryConfig, AlertsConfig
from scarline.service.alerts import Alert
from scarline.service.sinks import DeliveryError, Sink

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
