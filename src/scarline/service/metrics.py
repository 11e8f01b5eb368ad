"""Prometheus metrics of a session, all prefixed ``scarline_``, in a registry of their own.

Each app gets its own :class:`~prometheus_client.CollectorRegistry` (no process-global
state: two sessions, or two tests, never share series). Gauges are refreshed from a
:class:`~scarline.service.view.Snapshot` when scraped; the latency histogram is fed one
observation per stage per step by the session (:meth:`ServiceMetrics.observe_step`), since
quantiles alone cannot be turned back into a histogram. Per-agent series are capped to the
top ``top_k`` agents by equity plus a ``total`` series, so a population of thousands cannot
blow up the scraper's label cardinality.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from scarline.service.view import AgentRow, Snapshot

STAGES = ("ingest", "signal", "risk", "order", "ack")
"""The step's stages (as the paper session's heartbeat times them)."""
LEVELS = ("NORMAL", "WARN", "THROTTLE", "HALT")
"""Risk ladder levels, lowest first (``scarline_ladder_state`` is the index of the current)."""
LATENCY_BUCKETS = (
    *(1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 0.01, 0.025, 0.05),
    *(0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)
TOTAL = "total"

METRIC_NAMES = (
    "scarline_steps_total",
    "scarline_heartbeat_timestamp_seconds",
    "scarline_stage_latency_seconds",
    "scarline_equity",
    "scarline_pnl_realized",
    "scarline_position",
    "scarline_winrate",
    "scarline_drift_score",
    "scarline_policy_entropy",
    "scarline_guardrail_trigger_total",
    "scarline_ladder_state",
    "scarline_feed_up",
    "scarline_wal_records_total",
    "scarline_alerts_total",
)
"""Every metric name as exposed (counters with their ``_total``)."""


def _finite(x: float | None) -> float:
    return float("nan") if x is None or not math.isfinite(x) else float(x)


def _known(values: Iterable[float]) -> list[float]:
    return [v for v in values if math.isfinite(v)]


def _richest_first(row: AgentRow) -> tuple[bool, float, int]:
    """Sort key: highest equity first, unknown equity last, ties by id (stable labels)."""
    known = math.isfinite(row.equity)
    return (not known, -row.equity if known else 0.0, row.id)


class ServiceMetrics:
    """The metrics of one app; thread-safe (the session observes, scrapes update)."""

    def __init__(self, *, top_k: int = 10) -> None:
        if top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {top_k}")
        self.top_k = top_k
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self._lock = threading.Lock()
        self.steps = Counter("scarline_steps", "Kernel steps taken", registry=r)
        self.heartbeat = Gauge(
            "scarline_heartbeat_timestamp_seconds", "Wall time of the last step", registry=r
        )
        self.latency = Histogram(
            "scarline_stage_latency_seconds",
            "Latency of each stage of a step",
            ["stage"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.equity = Gauge("scarline_equity", "Equity (top agents, total)", ["agent"], registry=r)
        self.pnl = Gauge(
            "scarline_pnl_realized", "Realized PnL (top agents, total)", ["agent"], registry=r
        )
        self.position = Gauge(
            "scarline_position",
            "Position in lots (top agents, total)",
            ["agent", "instrument"],
            registry=r,
        )
        self.winrate = Gauge("scarline_winrate", "Share of winning trades", ["agent"], registry=r)
        self.drift = Gauge("scarline_drift_score", "Latest drift statistic", registry=r)
        self.entropy = Gauge(
            "scarline_policy_entropy", "Entropy of the policies' actions", registry=r
        )
        self.guardrails = Counter(
            "scarline_guardrail_trigger", "Risk rule triggers", ["rule"], registry=r
        )
        self.ladder = Gauge(
            "scarline_ladder_state",
            "Global risk ladder level (0 NORMAL, 1 WARN, 2 THROTTLE, 3 HALT)",
            registry=r,
        )
        self.feed_up = Gauge("scarline_feed_up", "1 when the live feed is up", registry=r)
        self.wal_records = Counter("scarline_wal_records", "WAL records written", registry=r)
        self.alerts = Counter("scarline_alerts", "Alerts raised", registry=r)
        for stage in STAGES:  # every stage series exists from the start (count 0)
            self.latency.labels(stage=stage)
        self._steps_seen = 0
        self._wal_seen = 0
        self._rules_seen: dict[str, int] = {}

    def observe_step(self, seconds: dict[str, float]) -> None:
        """One step's stage latencies (unknown stages are ignored); counts one step."""
        with self._lock:
            for stage, value in seconds.items():
                if stage in STAGES and math.isfinite(value):
                    self.latency.labels(stage=stage).observe(max(0.0, value))
            self.steps.inc()
            self._steps_seen += 1

    def alert(self) -> None:
        """Count one alert raised (the alerts engine's hook)."""
        self.alerts.inc()

    def update(self, snap: Snapshot) -> None:
        """Refresh every gauge from ``snap``; counters catch up with its cumulative figures."""
        with self._lock:
            steps = snap.step + 1
            if steps > self._steps_seen:
                self.steps.inc(steps - self._steps_seen)
                self._steps_seen = steps
            if snap.wal_records > self._wal_seen:
                self.wal_records.inc(snap.wal_records - self._wal_seen)
                self._wal_seen = snap.wal_records
            for rule, count in snap.guardrails.items():
                seen = self._rules_seen.get(rule, 0)
                if count > seen:
                    self.guardrails.labels(rule=rule).inc(count - seen)
                    self._rules_seen[rule] = count
            if snap.wall_ns:
                self.heartbeat.set(snap.wall_ns / 1e9)
            self.drift.set(_finite(snap.drift_score))
            self.entropy.set(_finite(snap.policy_entropy))
            level = snap.ladder.level
            self.ladder.set(LEVELS.index(level) if level in LEVELS else float("nan"))
            self.feed_up.set(1.0 if snap.feed == "up" else 0.0)
            self._agents(snap)

    def _agents(self, snap: Snapshot) -> None:
        for gauge in (self.equity, self.pnl, self.position, self.winrate):
            gauge.clear()
        top = sorted(snap.agents, key=_richest_first)
        symbols = snap.instruments
        totals = [0.0] * len(symbols)
        for row in snap.agents:
            for j, lots in enumerate(row.position[: len(symbols)]):
                totals[j] += lots
        for row in top[: self.top_k]:
            agent = str(row.id)
            self.equity.labels(agent=agent).set(_finite(row.equity))
            self.pnl.labels(agent=agent).set(_finite(row.pnl_realized))
            if row.winrate is not None:
                self.winrate.labels(agent=agent).set(_finite(row.winrate))
            for j, lots in enumerate(row.position[: len(symbols)]):
                self.position.labels(agent=agent, instrument=symbols[j]).set(_finite(lots))
        self.equity.labels(agent=TOTAL).set(math.fsum(_known(a.equity for a in snap.agents)))
        self.pnl.labels(agent=TOTAL).set(math.fsum(_known(a.pnl_realized for a in snap.agents)))
        rates = [a.winrate for a in snap.agents if a.winrate is not None]
        self.winrate.labels(agent=TOTAL).set(sum(rates) / len(rates) if rates else float("nan"))
        for j, symbol in enumerate(symbols):
            self.position.labels(agent=TOTAL, instrument=symbol).set(totals[j])

    def render(self) -> bytes:
        """The text exposition format of every metric."""
        return generate_latest(self.registry)
