"""The API over a real run and a live view: auth on every endpoint, acts reaching the
session's view with the caller's key id (never the token), metrics, live events."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import httpx
import pytest
from api_helpers import AS_OPERATOR, AS_READER, OPERATE, READ, live_app, live_snapshot, tiny_run
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from scarline.service.app import create_app
from scarline.service.auth import Auth, key_id
from scarline.service.metrics import METRIC_NAMES, STAGES, ServiceMetrics
from scarline.service.server import Server
from scarline.service.source import RunsSource, SessionSource
from scarline.service.view import SessionView

READS = [
    "/status",
    "/agents",
    "/decisions",
    "/risk",
    "/regimes",
    "/lineage",
    "/ledger",
    "/alerts",
    "/runs",
    "/metrics",
    "/events?limit=1",
    "/equity",
    "/whoami",
]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_run(tmp_path_factory.mktemp("service-run"))


@pytest.mark.parametrize("path", READS)
def test_every_read_endpoint_needs_a_token(run_dir: Path, path: str) -> None:
    client, _ = live_app(run_dir)
    assert client.get(path, headers=AS_READER).status_code == 200
    assert client.get(path, headers=AS_OPERATOR).status_code == 200
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": f"Basic {READ}"}):
        denied = client.get(path, headers=headers)
        assert denied.status_code == 401
        assert denied.headers["WWW-Authenticate"] == "Bearer"


def test_healthz_needs_no_token_and_turns_503_after_three_bars(run_dir: Path) -> None:
    now = [time.time_ns()]
    client, view = live_app(run_dir, now_ns=lambda: now[0])
    assert client.get("/healthz").status_code == 200
    snap = view.current()
    assert snap is not None
    now[0] = snap.wall_ns + int(3.5 * snap.bar_seconds * 1e9)
    stale = client.get("/healthz")
    assert stale.status_code == 503 and stale.json()["status"] == "stale"
    starting, _ = live_app(run_dir, view=_EmptyView())
    assert starting.get("/healthz").status_code == 503


class _EmptyView(SessionView):
    """A session that has not stepped yet (nothing is published into it)."""

    def publish(self, snapshot: object) -> None:  # type: ignore[override]
        pass


def test_status_and_agents_show_the_snapshot(run_dir: Path) -> None:
    client, _ = live_app(run_dir)
    status = client.get("/status", headers=AS_READER).json()
    assert status["run_id"] == "tiny" and status["step"] == 199 and status["feed"] == "up"
    assert status["ladder"]["level"] == "NORMAL" and status["killed"] is False
    assert status["policies"][0]["stage"] == "Shadow"
    assert set(status["latency"]["signal"]) == {"p50", "p99", "p999"}
    agents = client.get("/agents", headers=AS_READER).json()["agents"]
    assert sorted(a["id"] for a in agents) == [0, 1, 2, 3]
    assert {
        "equity",
        "position",
        "return",
        "sharpe",
        "max_drawdown",
        "trust",
        "scars",
        "alive",
    } <= set(agents[0])


def test_decisions_paginate_with_a_cursor(run_dir: Path) -> None:
    client, _ = live_app(run_dir)
    first = client.get("/decisions?limit=3", headers=AS_READER).json()
    assert len(first["items"]) == 3 and first["next"] is not None
    second = client.get(f"/decisions?limit=3&cursor={first['next']}", headers=AS_READER).json()
    assert second["items"][0]["seq"] == first["next"] > first["items"][-1]["seq"]
    late = client.get("/decisions?agent=1&since=150&limit=1000", headers=AS_READER).json()
    assert all(i["step"] >= 150 for i in late["items"]) and late["next"] is None
    assert {c["agent"] for i in late["items"] for c in i["cells"]} <= {1}


def test_a_read_token_cannot_act(run_dir: Path) -> None:
    client, view = live_app(run_dir)
    assert client.post("/kill", json={"reason": "drill"}, headers=AS_READER).status_code == 403
    assert (
        client.post("/flags", json={"freeze_exploration": True}, headers=AS_READER).status_code
        == 403
    )
    assert view.take_kill() is None and view.take_flags() == []


def test_kill_reaches_the_view_with_the_key_id(run_dir: Path) -> None:
    client, view = live_app(run_dir)
    answer = client.post("/kill", json={"reason": "drill"}, headers=AS_OPERATOR)
    assert answer.status_code == 202
    assert view.take_kill() == ("drill", key_id(OPERATE))
    assert view.take_kill() is None
    assert OPERATE not in answer.text


def test_flags_are_refused_until_a_session_applies_them(run_dir: Path) -> None:
    client, view = live_app(run_dir)
    refused = client.post("/flags", json={"freeze_exploration": True}, headers=AS_OPERATOR)
    assert refused.status_code == 501 and view.take_flags() == []


def test_flags_take_only_runtime_flags(run_dir: Path) -> None:
    client, view = live_app(run_dir, accept_flags=True)
    bad = client.post("/flags", json={"exploration": False}, headers=AS_OPERATOR)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "exploration"]
    ok = client.post("/flags", json={"freeze_exploration": True}, headers=AS_OPERATOR)
    assert ok.status_code == 202
    [change] = view.take_flags()
    assert (change.name, change.value, change.key_id) == (
        "freeze_exploration",
        True,
        key_id(OPERATE),
    )


def test_a_bad_kill_body_names_the_field(run_dir: Path) -> None:
    client, _ = live_app(run_dir)
    for body, field in (({"reason": ""}, "reason"), ({"reason": 3}, "reason"), ({}, "reason")):
        answer = client.post("/kill", json=body, headers=AS_OPERATOR)
        assert answer.status_code == 422
        assert answer.json()["detail"][0]["loc"][-1] == field


def test_acts_are_rate_limited_per_key(run_dir: Path) -> None:
    client, view = live_app(run_dir, rate_limit_per_minute=2, accept_flags=True)
    codes = [
        client.post("/flags", json={"freeze_exploration": True}, headers=AS_OPERATOR)
        for _ in range(3)
    ]
    assert [c.status_code for c in codes] == [202, 202, 429]
    assert int(codes[-1].headers["Retry-After"]) >= 1
    assert len(view.take_flags()) == 2


def test_finished_runs_are_read_only(run_dir: Path) -> None:
    app = create_app(
        RunsSource(run_dir.parent, run_dir.parent / "no-ledger"),
        Auth(operate=OPERATE, read=READ),
        ServiceMetrics(),
        read_only=True,
    )
    client = TestClient(app)
    assert client.post("/kill", json={"reason": "x"}, headers=AS_OPERATOR).status_code == 409
    assert client.get("/healthz").json() == {"status": "ok", "mode": "runs"}
    assert client.get("/runs", headers=AS_READER).json()["runs"][0]["run_id"] == "tiny"
    assert client.get("/status?run=tiny", headers=AS_READER).json()["step"] == 199
    assert client.get("/status?run=other", headers=AS_READER).status_code == 404
    text = client.get("/metrics", headers=AS_READER).text
    assert "scarline_steps_total 200.0" in text


def test_metrics_parse_and_count_every_step(run_dir: Path) -> None:
    metrics = ServiceMetrics(top_k=2)
    client, _ = live_app(run_dir, metrics=metrics)
    steps = 7
    for i in range(steps):
        metrics.observe_step({stage: 1e-4 * (i + 1) for stage in STAGES})
    text = client.get("/metrics", headers=AS_READER).text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    samples = {s.name for f in families.values() for s in f.samples}
    for name in METRIC_NAMES:
        assert name in samples or name in families, name
    counts = {
        s.labels["stage"]: s.value
        for s in families["scarline_stage_latency_seconds"].samples
        if s.name.endswith("_count")
    }
    assert counts == {stage: steps for stage in STAGES}
    equity = {s.labels["agent"] for s in families["scarline_equity"].samples}
    assert len(equity) == 3 and "total" in equity  # top 2 + total
    rules = {
        s.labels["rule"]: s.value
        for s in families["scarline_guardrail_trigger"].samples
        if s.name.endswith("_total")
    }
    assert rules == {"max_position": 3}


def test_events_stream_published_snapshots(run_dir: Path) -> None:
    client, _ = live_app(run_dir)
    body = client.get("/events?limit=1", headers=AS_READER).text
    assert body.startswith("event: snapshot\nid: 199\ndata: {")
    token_in_query = client.get(f"/events?limit=1&token={READ}")
    assert token_in_query.status_code == 200
    assert client.get(f"/status?token={READ}").status_code == 401  # only /events


def test_tokens_never_reach_logs_or_answers(
    run_dir: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    client, _ = live_app(run_dir)
    seen = []
    for path in READS:
        seen.append(client.get(path, headers=AS_OPERATOR).text)
    seen.append(client.get(f"/events?limit=1&token={OPERATE}").text)
    seen.append(client.post("/kill", json={"reason": "drill"}, headers=AS_OPERATOR).text)
    seen.append(client.post("/kill", json={"reason": OPERATE[:3]}, headers=AS_READER).text)
    out = capsys.readouterr()
    server_side = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    logs = "\n".join(r.getMessage() for r in server_side) + out.out + out.err  # not the client's
    assert key_id(OPERATE) in logs  # the access log names the key by its id
    for secret in (OPERATE, READ):
        assert secret not in logs
        assert all(secret not in text for text in seen)


def test_a_real_server_pushes_each_published_step(run_dir: Path) -> None:
    view = SessionView()
    view.publish(live_snapshot(run_dir))
    source = SessionSource(view, run_dir, run_dir.parent / "no-ledger")
    auth = Auth(operate=OPERATE, read=READ)
    server = Server(create_app(source, auth, ServiceMetrics(), read_only=False), auth)
    server.start()
    try:
        url = f"{server.url}/events?limit=2&token={READ}"
        with httpx.stream("GET", url, timeout=10) as response:
            lines = response.iter_lines()
            assert next(line for line in lines if line.startswith("id:")) == "id: 199"
            view.publish(live_snapshot(run_dir, step=200))
            assert next(line for line in lines if line.startswith("id:")) == "id: 200"
        assert view.subscribers == 0
    finally:
        server.stop()
