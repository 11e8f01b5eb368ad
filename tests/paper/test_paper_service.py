"""The operations service inside a paper session (replay feed, no network): the API answers
with a token and refuses without one, a read token cannot act, ``POST /kill`` halts the
session within a bar (journaled with source ``api`` and the caller's key id, replay parity),
and ``/metrics`` counts every step."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from paper_recording import write_paper_config
from prometheus_client.parser import text_string_to_metric_families

from scarline.config import load_config
from scarline.events import KillSwitch
from scarline.journal import read_records
from scarline.paper.session import PaperOptions, PaperSession
from scarline.replay import replay_run
from scarline.rundir import RunDir
from scarline.service.auth import key_id

OPERATE, READ = "operate-token-for-tests", "read-token-for-tests"
KILL_AT = 12


def test_the_api_reads_acts_and_kills_a_running_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCARLINE_API_TOKEN", OPERATE)
    monkeypatch.setenv("SCARLINE_API_READ_TOKEN", READ)
    config = load_config(write_paper_config(tmp_path, bars=40)).with_overrides(
        **{"service.enabled": True, "service.port": 0}
    )
    seen: dict[str, object] = {}
    session: PaperSession

    def on_step(t: int) -> None:
        assert session.ops is not None
        url = session.ops.url
        with httpx.Client(base_url=url, timeout=5.0) as client:
            if t == 3:
                seen["healthz"] = client.get("/healthz").status_code
                seen["anonymous"] = client.get("/status").status_code
                status = client.get("/status", headers={"Authorization": f"Bearer {READ}"})
                seen["status"] = status.status_code, status.json()
                agents = client.get("/agents", headers={"Authorization": f"Bearer {READ}"})
                seen["agents"] = agents.status_code, len(agents.json()["agents"])
                refused = client.post(
                    "/kill", json={"reason": "no"}, headers={"Authorization": f"Bearer {READ}"}
                )
                seen["read_kill"] = refused.status_code
            if t == KILL_AT:
                killed = client.post(
                    "/kill",
                    json={"reason": "drill"},
                    headers={"Authorization": f"Bearer {OPERATE}"},
                )
                seen["kill"] = killed.status_code
                metrics = client.get("/metrics", headers={"Authorization": f"Bearer {READ}"})
                seen["metrics"] = metrics.text

    session = PaperSession(
        config, PaperOptions(out_dir=tmp_path / "runs", run_id="ops", on_step=on_step)
    )
    summary = session.run_session()

    assert seen["healthz"] == 200 and seen["anonymous"] == 401
    code, status = seen["status"]  # type: ignore[misc]
    assert code == 200 and status["run_id"] == "ops" and status["step"] == 3
    assert (
        seen["agents"] == (200, 2) and seen["read_kill"] == 403 and seen["kill"] == 202
    )  # accepted: acts at the next bar
    # halted at the next bar, flattened on the one after, then stopped
    assert summary.killed_at == KILL_AT + 1 and summary.steps == KILL_AT + 3
    kills = [r.data for r in read_records(RunDir(summary.run_dir).wal, kinds=("KillSwitch",))]
    assert len(kills) == 1 and isinstance(kills[0], KillSwitch)
    assert kills[0].source == "api" and key_id(OPERATE) in kills[0].reason
    assert OPERATE not in kills[0].reason  # only the key id, never the token
    assert replay_run(summary.run_dir).parity

    families = {f.name: f for f in text_string_to_metric_families(str(seen["metrics"]))}
    assert "scarline_steps" in families or "scarline_steps_total" in families
    latency = families["scarline_stage_latency_seconds"]
    counts = [s.value for s in latency.samples if s.name.endswith("_count")]
    assert counts and all(c == KILL_AT + 1 for c in counts)  # one observation per step
