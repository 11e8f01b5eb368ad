"""Metrics: own registry per instance, per-agent series capped at top K plus a total."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from scarline.service.metrics import ServiceMetrics
from scarline.service.view import AgentRow, Ladder, Snapshot


def _snapshot(n: int) -> Snapshot:
    agents = [AgentRow(id=i, policy="q", equity=float(i), position=[1.0, -2.0]) for i in range(n)]
    return Snapshot(
        run_id="r", step=9, agents=agents, instruments=["A", "B"], ladder=Ladder("HALT"), feed="up"
    )


def test_top_k_by_equity_plus_total() -> None:
    metrics = ServiceMetrics(top_k=3)
    metrics.update(_snapshot(50))
    families = {f.name: f for f in text_string_to_metric_families(metrics.render().decode())}
    equity = {s.labels["agent"]: s.value for s in families["scarline_equity"].samples}
    assert equity == {"49": 49.0, "48": 48.0, "47": 47.0, "total": float(sum(range(50)))}
    totals = {
        s.labels["instrument"]: s.value
        for s in families["scarline_position"].samples
        if s.labels["agent"] == "total"
    }
    assert totals == {"A": 50.0, "B": -100.0}
    assert families["scarline_ladder_state"].samples[0].value == 3.0
    assert families["scarline_feed_up"].samples[0].value == 1.0


def test_registries_are_independent_and_counters_catch_up() -> None:
    a, b = ServiceMetrics(), ServiceMetrics()
    a.update(_snapshot(2))
    a.update(_snapshot(2))  # the same step twice counts once
    assert "scarline_steps_total 10.0" in a.render().decode()
    assert "scarline_steps_total 0.0" in b.render().decode()
