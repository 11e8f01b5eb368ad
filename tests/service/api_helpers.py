"""A tiny real run and an API over it, for the service's tests (loopback only)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import msgspec
from fastapi.testclient import TestClient

from scarline.service.app import create_app
from scarline.service.auth import Auth
from scarline.service.metrics import ServiceMetrics
from scarline.service.run_snapshot import snapshot_of_run
from scarline.service.source import RunsSource, SessionSource
from scarline.service.view import PolicySlot, Quantiles, SessionView, Snapshot

OPERATE = "operate-token-0123456789abcdef"
READ = "read-token-fedcba9876543210"
AS_OPERATOR = {"Authorization": f"Bearer {OPERATE}"}
AS_READER = {"Authorization": f"Bearer {READ}"}

_RUNS: dict[Path, Path] = {}


def tiny_run(base: Path) -> Path:
    """One 200-bar, 4-agent synthetic run under ``base`` (made once per base), with the
    ``summary.json`` a run leaves (the ``run --json`` object)."""
    if base not in _RUNS:
        from scarline.config import RunConfig
        from scarline.market.io import write_market
        from scarline.market.synthetic import SynthSpec, generate
        from scarline.runner import execute_run

        data = write_market(generate(SynthSpec(n_steps=200, seed=5)), base / "synth.csv")
        cfg = RunConfig(
            seed=5,
            data={"source": str(data)},
            report=False,
            agents=[
                {"kind": "q-network", "count": 3, "qnet": {"warmup_steps": 16}},
                {"kind": "buy-and-hold"},
            ],
        )
        summary = execute_run(cfg, run_id="tiny", out_dir=base / "runs")
        (summary.run_dir / "summary.json").write_text(json.dumps(summary.to_json()))
        _RUNS[base] = summary.run_dir
    return _RUNS[base]


def live_snapshot(run_dir: Path, **changes: object) -> Snapshot:
    """The run's snapshot as a live session would publish it (fresh heartbeat, feed up)."""
    snap = snapshot_of_run(run_dir)
    fields: dict[str, object] = {
        "wall_ns": time.time_ns(),
        "feed": "up",
        "profile": "paper",
        "bar_seconds": 60.0,
        "latency": {s: Quantiles(1e-4, 2e-4, 3e-4) for s in ("ingest", "signal", "risk")},
        "policies": [PolicySlot(0, "q-network", "ab" * 8, "Shadow")],
        "guardrails": {"max_position": 3},
    }
    return msgspec.structs.replace(snap, **(fields | changes))


def live_app(
    run_dir: Path,
    *,
    view: SessionView | None = None,
    metrics: ServiceMetrics | None = None,
    **kw: object,
) -> tuple[TestClient, SessionView]:
    """A TestClient over a live source on ``run_dir`` with a published snapshot."""
    view = view or SessionView()
    if view.current() is None:
        view.publish(live_snapshot(run_dir))
    source = SessionSource(view, run_dir, run_dir.parent / "no-ledger")
    app = create_app(
        source,
        Auth(operate=OPERATE, read=READ),
        metrics or ServiceMetrics(top_k=2),
        read_only=False,
        **kw,  # type: ignore[arg-type]
    )
    return TestClient(app, raise_server_exceptions=False), view


def runs_client(root: Path, **kw: object) -> TestClient:
    """A read-only app over the runs in ``root`` (no ledger) whose exceptions would be raised
    in the test (a TestClient default): a 500 here means the app answered it, not that it
    crashed."""
    app = create_app(
        RunsSource(root, root / "no-ledger"),
        Auth(operate=OPERATE, read=READ),
        ServiceMetrics(),
        read_only=True,
        **kw,  # type: ignore[arg-type]
    )
    return TestClient(app)
