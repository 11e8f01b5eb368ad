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
from scarline.events import EXPLORE, Decision, KillSwitch, OperatorFlag
from scarline.journal import read_records
from scarline.paper.session import PaperOptions, PaperSession
from scarline.replayer import replay_run
from scarline.rundir import RunDir
from scarline.service.auth import key_id

OPERATE, READ = "operate-token-for-tests", "read-token-for-tests"
KILL_AT = 12
READS = [
    "/status",
    "/agents",
    "/decisions",
    "/risk",
    "/regimes",
    "/lineage",
    "/ledger",
    "/alerts",
    "/metrics",
    "/equity",
    "/whoami",
    "/runs",
    "/events?limit=1",
]


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
                for path in READS:  # every read endpoint: 200 with a token, 401 without
                    with_token = client.get(path, headers={"Authorization": f"Bearer {READ}"})
                    seen[f"read {path}"] = with_token.status_code, client.get(path).status_code
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

    assert all(seen[f"read {path}"] == (200, 401) for path in READS), seen
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


def test_a_runtime_flag_set_through_the_api_is_journaled_applied_and_replayed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCARLINE_API_TOKEN", OPERATE)
    path = write_paper_config(tmp_path, bars=30)
    path.write_text(
        path.read_text(encoding="utf-8")
        + '\n[[agents]]\nkind = "q-network"\ncount = 4\n'
        + "qnet = { hidden = [8], epsilon_start = 1.0, epsilon_decay_steps = 1000 }\n",
        encoding="utf-8",
    )
    config = load_config(path).with_overrides(**{"service.enabled": True, "service.port": 0})
    answers: list[int] = []
    session: PaperSession

    def on_step(t: int) -> None:
        if t == 9:
            assert session.ops is not None
            with httpx.Client(base_url=session.ops.url, timeout=5.0) as client:
                answer = client.post(
                    "/flags",
                    json={"freeze_exploration": True},
                    headers={"Authorization": f"Bearer {OPERATE}"},
                )
                answers.append(answer.status_code)

    session = PaperSession(
        config, PaperOptions(out_dir=tmp_path / "runs", run_id="flag", on_step=on_step)
    )
    summary = session.run_session()
    assert answers == [202]
    wal = RunDir(summary.run_dir).wal
    flags = [r.data for r in read_records(wal, kinds=("OperatorFlag",))]
    assert len(flags) == 1 and isinstance(flags[0], OperatorFlag)
    assert (flags[0].step, flags[0].name, flags[0].value) == (10, "freeze_exploration", True)
    assert flags[0].source == "api" and flags[0].key_id == key_id(OPERATE)
    explored = {False: 0, True: 0}
    for rec in read_records(wal, kinds=("Decision",)):
        d = rec.data
        assert isinstance(d, Decision)
        explored[d.step >= 10] += int((d.reasons.numpy() == EXPLORE).sum())
    assert explored[False] > 0 and explored[True] == 0  # epsilon near 1 before, none after
    assert replay_run(summary.run_dir).parity
