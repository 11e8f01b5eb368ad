"""A paper session's operations service (``[service] enabled = true``): the API, metrics and
alerts of :mod:`scarline.service`, fed by the session after every step.

Nothing here changes what the kernel decides except a kill asked through the API, which the
session journals as a ``KillSwitch`` with source ``api`` at the next bar (the caller's key id,
never the token, in its reason) — so replay stays exact. Snapshots, metrics and alerts are
observability: computed from the kernel's state after the step, never journaled in the WAL
(alerts go to ``alerts.jsonl``). Serving runs on its own thread; a slow client or a failing
alert sink never holds the trading loop.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import msgspec
import numpy as np

from scarline.config import RunConfig
from scarline.events import OperatorFlag
from scarline.execution.types import CASH_SCALE
from scarline.kernel import Kernel
from scarline.ledger.store import default_ledger_dir
from scarline.risk.codes import LEVELS
from scarline.service.alert_book import AlertBook
from scarline.service.alerts import Alert, AlertInputs, AlertRules
from scarline.service.app import create_app
from scarline.service.auth import Auth
from scarline.service.dispatch import Dispatcher
from scarline.service.metrics import ServiceMetrics
from scarline.service.server import Server
from scarline.service.source import SessionSource
from scarline.service.view import AgentRow, Ladder, PolicySlot, Quantiles, SessionView, Snapshot
from scarline.service.watchdog import Watchdog, period_for
from scarline.session import SessionIds
from scarline.stats import drawdown_pct, period_return, sharpe_from_sums


class BookAlerts:
    """The alert book as the API wants it (dicts; ack → False for an unknown id)."""

    def __init__(self, book: AlertBook) -> None:
        self.book = book

    def list(self) -> list[dict[str, object]]:
        return [msgspec.to_builtins(a) for a in self.book.list()]

    def ack(self, alert_id: str, key_id: str) -> bool:
        try:
            self.book.ack(alert_id, key_id)
        except KeyError:
            return False
        return True


class LiveOps:
    """The service of one session: started when its run directory exists, fed per step."""

    def __init__(
        self,
        config: RunConfig,
        run_dir: Path,
        bar_seconds: float,
        *,
        feed_down_since: Callable[[], int | None] = lambda: None,
        now_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        """``feed_down_since``: when the feed went down (ns, on the feed's clock ``now_ns``),
        None while it is up — what the watchdog reads between steps."""
        cfg = config.service
        self.config = config
        self.bar_seconds = bar_seconds
        self.view = SessionView()
        self.metrics = ServiceMetrics(top_k=cfg.top_k)
        auth = Auth.from_config(cfg)
        live = config.live
        ledger = Path(live.ledger_dir) if live and live.ledger_dir else default_ledger_dir()
        alerts_cfg = config.alerts.effective(bar_seconds=bar_seconds)
        self.rules = AlertRules(alerts_cfg, bar_seconds=bar_seconds)
        self.book = AlertBook(run_dir / "alerts.jsonl")
        self.dispatcher = Dispatcher.from_config(alerts_cfg) if alerts_cfg.sinks else None
        app = create_app(
            SessionSource(self.view, run_dir, ledger),
            auth,
            self.metrics,
            read_only=False,
            rate_limit_per_minute=cfg.rate_limit_per_minute,
            alerts=BookAlerts(self.book),
            cors_origins=cfg.cors_origins,
            accept_flags=True,  # journaled as OperatorFlag at the next bar (take_flags)
        )
        self.server = Server(app, auth, host=cfg.host, port=cfg.port)
        self._feed_down_since, self._now_ns = feed_down_since, now_ns
        self.watchdog = Watchdog(self.check_between_steps, period_for(bar_seconds))
        self._peak: np.ndarray | None = None
        self._max_dd: np.ndarray | None = None
        self._levels: np.ndarray | None = None
        self._global = 0
        self._guards: Counter[str] = Counter()
        self._risk_seen = 0
        self._quantiles: dict[str, dict[str, float]] = {}
        self._last_equity: np.ndarray | None = None  # running sums of step returns: Sharpe
        self._sums = np.zeros(0)
        self._sums_sq = np.zeros(0)
        self._count = 0
        self._drawdown_now: np.ndarray | None = None
        self._population_drawdown: float | None = None

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> None:
        self.server.start()
        self.watchdog.start()

    def check_between_steps(self) -> None:
        """The wall-clock rules (stale heartbeat, feed down) now, step or no step: the
        watchdog's check. The heartbeat's age is on the wall clock (the snapshot's), the
        outage's length on the feed's clock."""
        snap = self.view.current()
        if snap is None:
            return
        since, now = self._feed_down_since(), self._now_ns()
        inputs = AlertInputs(
            step=snap.step,
            bar_ts=snap.bar_ts,
            wall_ns=time.time_ns(),
            feed_up=since is None,
            feed_down_seconds=0.0 if since is None else max(0.0, (now - since) / 1e9),
            heartbeat_age_seconds=max(0.0, (time.time_ns() - snap.wall_ns) / 1e9),
        )
        self._raise(self.rules.evaluate(inputs))

    def take_kill(self) -> tuple[str, str] | None:
        """A kill asked through the API since the last bar: ``(reason, key id)``."""
        return self.view.take_kill()

    def take_flags(self, ids: SessionIds, step: int) -> list[OperatorFlag]:
        """Runtime flags set through the API since the last bar, to journal at ``step``."""
        return [
            OperatorFlag(
                run_id=ids.run_id,
                session_id=ids.session_id,
                step=step,
                name=f.name,
                value=f.value,
                source="api",
                key_id=f.key_id,
            )
            for f in self.view.take_flags()
        ]

    def after_step(
        self,
        kernel: Kernel,
        t: int,
        seconds: dict[str, float],
        *,
        feed_up: bool,
        feed_down_seconds: float,
        policies: list[PolicySlot],
        wal_records: int,
    ) -> None:
        """Publish the step: snapshot, metrics, alerts (never raises into the loop)."""
        snapshot = self._snapshot(kernel, t, feed_up, policies, wal_records)
        self.view.publish(snapshot)
        self.metrics.observe_step(seconds)
        self.metrics.update(snapshot)
        transitions = self._transitions(kernel)
        p99 = snapshot.latency.get("signal")
        inputs = AlertInputs(
            step=t,
            bar_ts=snapshot.bar_ts,
            wall_ns=snapshot.wall_ns,
            agent_ids=[str(a) for a in kernel.population.agent_ids.tolist()],
            agent_drawdown_pct=self._drawdown_now,
            population_drawdown_pct=self._population_drawdown,
            ladder=transitions,
            killed_now=kernel.killed_at == t,
            kill_reason=kernel.risk.kill_state.reason,
            kill_source=kernel.risk.kill_state.source or "",
            feed_up=feed_up,
            feed_down_seconds=feed_down_seconds,
            p99_latency_seconds=None if p99 is None else p99.p99,
        )
        self._raise(self.rules.evaluate(inputs))

    def _raise(self, alerts: list[Alert]) -> None:
        """Keep the new ones (the book is thread-safe), count and send them."""
        for alert in self.book.add(alerts):
            self.metrics.alert()
            if self.dispatcher is not None:
                self.dispatcher.submit(alert)

    def close(self) -> None:
        self.watchdog.stop()
        if self.dispatcher is not None:
            self.dispatcher.close()
        self.book.close()
        self.server.stop()

    # -- the snapshot -----------------------------------------------------------------------

    def _snapshot(
        self,
        kernel: Kernel,
        t: int,
        feed_up: bool,
        policies: list[PolicySlot],
        wal_records: int,
    ) -> Snapshot:
        acc, pop, life = kernel.accounts, kernel.population, kernel.life
        equity = acc.equity
        if self._peak is None:
            self._peak = equity.copy()
            self._max_dd = np.zeros(len(equity))
        assert self._max_dd is not None
        self._peak = np.maximum(self._peak, equity)
        dd = drawdown_pct(self._peak, equity)
        self._drawdown_now = dd
        self._max_dd = np.maximum(self._max_dd, dd / 100.0)
        total_peak = float(self._peak.sum())
        self._population_drawdown = float(drawdown_pct(total_peak, float(equity.sum())))
        ratios = self._sharpes(equity)
        initial = acc.initial_cash
        rows = [
            AgentRow(
                id=int(a),
                policy=pop.labels[i],
                kind=pop.kinds[i],
                equity=float(equity[i]) / CASH_SCALE,
                position=[float(q) for q in acc.position[i].tolist()],
                ret=float(equity[i]) / initial - 1.0,
                sharpe=None if not np.isfinite(ratios[i]) else float(ratios[i]),
                max_drawdown=float(self._max_dd[i]),
                trust=float(life.trust[i]),
                scars=int(life.scars[i]),
                alive=bool(life.alive[i]),
                pnl_realized=float(acc.realized[i]) / CASH_SCALE,
            )
            for i, a in enumerate(pop.agent_ids.tolist())
        ]
        levels = kernel.risk.level
        return Snapshot(
            run_id=kernel.ids.run_id,
            profile=self.config.profile,
            step=t,
            bar_ts=int(kernel.market.timestamps[t]),
            wall_ns=time.time_ns(),
            bar_seconds=self.bar_seconds,
            ladder=Ladder(
                level=LEVELS[kernel.risk.global_level],
                agents={i: LEVELS[v] for i, v in enumerate(levels.tolist()) if v},
            ),
            killed=kernel.killed_at is not None,
            kill_reason=kernel.risk.kill_state.reason,
            feed="up" if feed_up else "down",
            policies=policies,
            agents=rows,
            latency=self._latency(),
            wal_records=wal_records,
            instruments=[s.symbol for s in kernel.market.instruments],
            guardrails=dict(self._guardrails(kernel)),
        )

    def _sharpes(self, equity: np.ndarray) -> np.ndarray:
        """Each agent's Sharpe so far, annualized 24/7 (NaN until two returns), from running
        sums of its step returns: O(agents) a step, not a pass over the whole history."""
        if self._last_equity is None:
            self._sums, self._sums_sq = np.zeros(len(equity)), np.zeros(len(equity))
        else:
            r = period_return(self._last_equity, equity, undefined=0.0)
            self._sums += r
            self._sums_sq += r * r
            self._count += 1
        self._last_equity = equity.copy()
        if self._count < 2:
            return np.full(len(equity), np.nan)
        per_bar = sharpe_from_sums(self._sums, self._sums_sq, np.full(len(equity), self._count))
        return per_bar * np.sqrt(365.0 * 86_400.0 / max(self.bar_seconds, 1e-9))

    def _latency(self) -> dict[str, Quantiles]:
        return {
            stage: Quantiles(p50=q["p50"], p99=q["p99"], p999=q["p999"])
            for stage, q in self._quantiles.items()
        }

    def latencies(self, quantiles: dict[str, dict[str, float]]) -> None:
        """The heartbeat's rolling quantiles, shown in /status."""
        self._quantiles = quantiles

    def _guardrails(self, kernel: Kernel) -> Counter[str]:
        """Cumulative risk refusals and ladder moves by rule (from the recorder's log)."""
        self._risk_seen, found = kernel.recorder.risk_since(self._risk_seen)
        self._guards.update(rule for rule, outcome in found if outcome not in ("pass", "warn"))
        return self._guards

    def _transitions(self, kernel: Kernel) -> list[tuple[int, str]]:
        """Ladder levels that changed at this step: ``(row, level)``, row -1 the population."""
        levels = kernel.risk.level
        moved: list[tuple[int, str]] = []
        if self._levels is not None:
            for row in np.flatnonzero(levels != self._levels).tolist():
                moved.append((row, LEVELS[int(levels[row])]))
        if kernel.risk.global_level != self._global:
            moved.append((-1, LEVELS[kernel.risk.global_level]))
        self._levels, self._global = levels, kernel.risk.global_level
        return moved
