"""Inputs nobody meant to send: run directories with odd files, bodies with odd values, token
files with odd bytes. Each answer is a 4xx or a degraded 200, never a 500 or a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from api_helpers import AS_OPERATOR, AS_READER, live_app, runs_client

RUN_READS = ["/status", "/agents", "/metrics", "/equity", "/events", "/decisions", "/runs"]


def _fake_run(root: Path, name: str = "r1", **files: str) -> Path:
    """A run directory with an empty WAL and the given JSON files (name -> text)."""
    run = root / name
    (run / "wal").mkdir(parents=True)
    for filename, text in files.items():
        (run / filename.replace("_", ".")).write_text(text)
    return run


@pytest.mark.parametrize(
    "files",
    [
        {"summary_json": '{"agents": 5}'},
        {"summary_json": '{"agents": ["a", 1, null]}'},
        {"summary_json": '{"agents": [{"id": 1, "position": 3}]}'},
        {"summary_json": '{"agents": [{"id": 1, "position": {"a": 1}}]}'},
        {"session_json": '{"instruments": 7}'},
        {"session_json": '{"instruments": {"a": 1}}'},
    ],
)
def test_a_malformed_run_file_degrades_the_snapshot(tmp_path: Path, files: dict[str, str]) -> None:
    _fake_run(tmp_path, **files)
    client = runs_client(tmp_path)
    for path in RUN_READS:
        assert client.get(path, headers=AS_READER).status_code == 200, path


def test_an_unexpected_error_is_a_json_500_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fake_run(tmp_path)

    def broken(_: Path) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("scarline.service.app.snapshot_of_run", broken)
    client = runs_client(tmp_path)  # raise_server_exceptions: nothing may escape the app
    answer = client.get("/status", headers=AS_READER)
    assert answer.status_code == 500
    assert answer.json() == {"detail": "internal error (RuntimeError); the server log has more"}
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    assert "a bug" in captured.out + captured.err  # the log line says what happened


def test_a_run_removed_while_listed_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_run(tmp_path, "kept")
    gone = _fake_run(tmp_path, "gone")
    real_stat = Path.stat
    seen: list[Path] = []

    def stat(self: Path, **kw: bool) -> object:
        seen.append(self)
        if self == gone and seen.count(gone) > 1:  # listed, then removed before its stat
            raise FileNotFoundError(2, "No such file or directory", str(self))
        return real_stat(self, **kw)

    monkeypatch.setattr(Path, "stat", stat)
    listed = runs_client(tmp_path).get("/runs", headers=AS_READER)
    assert listed.status_code == 200
    assert [r["run_id"] for r in listed.json()["runs"]] == ["kept"]


def test_a_null_flag_is_refused_not_read_as_false(tmp_path: Path) -> None:
    run = _fake_run(tmp_path, summary_json='{"agents": []}')
    client, view = live_app(run, accept_flags=True)
    answer = client.post("/flags", json={"freeze_exploration": None}, headers=AS_OPERATOR)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "freeze_exploration"]
    assert view.take_flags() == []


@pytest.mark.parametrize("reason", ["   ", "\t", "stop\nnow", "nul\x00", "\u202egnirts"])
def test_a_kill_reason_must_be_legible(tmp_path: Path, reason: str) -> None:
    run = _fake_run(tmp_path, summary_json='{"agents": []}')
    client, view = live_app(run)
    answer = client.post("/kill", json={"reason": reason}, headers=AS_OPERATOR)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "reason"]
    assert view.take_kill() is None
    kept = client.post("/kill", json={"reason": "drawdown: stop — ok ✓"}, headers=AS_OPERATOR)
    assert kept.status_code == 202


def test_serve_shows_a_finished_runs_journaled_alerts(tmp_path: Path) -> None:
    from scarline.service.alert_book import AlertBook
    from scarline.service.alerts import Alert

    run = _fake_run(tmp_path, "alerted")
    _fake_run(tmp_path, "quiet")
    book = AlertBook(run / "alerts.jsonl")
    made = [
        Alert(
            id=f"a{k}",
            rule="kill",
            severity="critical",
            subject="population",
            message="kill switch fired",
            step=k,
            bar_ts=0,
            wall_ns=k,
        )
        for k in range(2)
    ]
    book.add(made)
    book.ack("a0", "key0")
    book.close()
    client = runs_client(tmp_path)
    shown = client.get("/alerts?run=alerted", headers=AS_READER).json()["alerts"]
    assert [(a["id"], a["acked"], a["acked_by"]) for a in shown] == [
        ("a0", True, "key0"),
        ("a1", False, None),
    ]
    assert client.get("/alerts?run=quiet", headers=AS_READER).json() == {"alerts": []}
    assert client.get("/alerts?run=nope", headers=AS_READER).status_code == 404
    lines = (run / "alerts.jsonl").read_bytes().split(b"\n")
    (run / "alerts.jsonl").write_bytes(b"\n".join([lines[1], lines[0], *lines[2:]]))
    tampered = client.get("/alerts?run=alerted", headers=AS_READER)
    assert tampered.status_code == 503 and "does not follow" in tampered.json()["detail"]
    assert client.post("/alerts/a1/ack", headers=AS_OPERATOR).status_code == 409  # read-only


def test_runs_pointing_at_one_run_serves_that_run(tmp_path: Path) -> None:
    run = _fake_run(tmp_path, "only", summary_json='{"agents": [{"id": 7}]}')
    client = runs_client(run)
    assert [r["run_id"] for r in client.get("/runs", headers=AS_READER).json()["runs"]] == ["only"]
    agents = client.get("/agents?run=only", headers=AS_READER).json()["agents"]
    assert [a["id"] for a in agents] == [7]


def test_the_snapshot_cache_is_bounded(tmp_path: Path) -> None:
    from scarline.service.app import SNAPSHOTS_KEPT

    for k in range(SNAPSHOTS_KEPT + 5):
        _fake_run(tmp_path, f"run{k:02d}")
    client = runs_client(tmp_path)
    for k in range(SNAPSHOTS_KEPT + 5):
        assert client.get(f"/status?run=run{k:02d}", headers=AS_READER).status_code == 200
    cache = client.app.state.snapshots  # type: ignore[attr-defined]
    assert len(cache) == SNAPSHOTS_KEPT
    assert tmp_path / f"run{SNAPSHOTS_KEPT + 4:02d}" in cache  # the newest read is kept


def test_cors_is_off_unless_origins_are_listed(tmp_path: Path) -> None:
    _fake_run(tmp_path)
    preflight = {"Origin": "https://ops.example", "Access-Control-Request-Method": "POST"}
    off = runs_client(tmp_path)
    assert "access-control-allow-origin" not in off.options("/kill", headers=preflight).headers
    answer = off.get("/status", headers={**AS_READER, "Origin": "https://ops.example"})
    assert "access-control-allow-origin" not in answer.headers
    on = runs_client(tmp_path, cors_origins=["https://ops.example"])
    allowed = on.options("/kill", headers=preflight)
    assert allowed.headers["access-control-allow-origin"] == "https://ops.example"
    other = on.options("/kill", headers={**preflight, "Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
