"""``scarline serve`` keeps what it derived from a run's files between requests: a poll of an
unchanged run reads no file again, and any change — records appended to a live run's WAL,
a rewritten summary, runs added, removed or replaced — is in the next answer, which is
always the answer a fresh read gives."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from api_helpers import AS_READER, runs_client, tiny_run
from fastapi.testclient import TestClient
from wal_helpers import age, append, decision, kill, ladder, reads_under, refusal, regime

from scarline.service import runs
from scarline.service.run_cache import RUNS_KEPT
from scarline.service.run_snapshot import snapshot_of_run

POLLED = [
    "/runs",
    "/status?run=tiny",
    "/agents?run=tiny",
    "/risk?run=tiny&limit=50",
    "/regimes?run=tiny",
    "/decisions?run=tiny&limit=5",
    "/decisions?run=tiny&since=150&limit=5",
    "/decisions?run=tiny&cursor=300&limit=5",
    "/lineage?run=tiny",
    "/alerts?run=tiny",
    "/equity?run=tiny",
    "/events?run=tiny",
    "/metrics?run=tiny",
]


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_run(tmp_path_factory.mktemp("serve-cache"))


@pytest.fixture()
def root(tmp_path: Path, made: Path) -> Path:
    """A runs directory: the tiny run and a run that only began (an empty WAL)."""
    runs_dir = tmp_path / "runs"
    shutil.copytree(made, runs_dir / "tiny")
    (runs_dir / "begun" / "wal").mkdir(parents=True)
    return runs_dir


def _get(client: TestClient, path: str) -> bytes:
    answer = client.get(path, headers=AS_READER)
    assert answer.status_code == 200, (path, answer.text)
    return answer.content


def _without_created(text: bytes) -> list[bytes]:
    """Prometheus text without the counters' ``_created`` times (when a registry was made)."""
    return [line for line in text.splitlines() if b"_created" not in line]


def test_a_second_poll_of_an_unchanged_run_reads_no_file(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    equity_reads: list[Path] = []
    import scarline.service.app as app_module

    real_read_equity = app_module.read_equity

    def counted(path: Path) -> object:
        equity_reads.append(path)
        return real_read_equity(path)

    monkeypatch.setattr(app_module, "read_equity", counted)
    age(root)  # nothing touched it for an hour
    client = runs_client(root)
    first = [_get(client, path) for path in POLLED]
    assert len(equity_reads) == 1
    with reads_under(root) as reads:
        again = [_get(client, path) for path in POLLED]
    assert dict(reads.opened) == {}  # no WAL segment, no JSON file, no alert journal
    assert len(equity_reads) == 1
    assert again == first  # the same bytes
    fresh = runs_client(root)  # and a fresh app's answers
    for path, body in zip(POLLED, again, strict=True):
        expected = _get(fresh, path)
        if path.startswith("/metrics"):
            assert _without_created(body) == _without_created(expected)
        else:
            assert body == expected, path


def test_records_appended_to_a_live_runs_wal_are_in_the_next_answer(root: Path) -> None:
    run = root / "tiny"
    client = runs_client(root)
    for aged in (True, False):  # settled files, and files written a moment ago
        if aged:
            age(root)
        before = {path: _get(client, path) for path in POLLED}
        step = 1000 if aged else 2000
        append(
            run / "wal",
            "tiny",
            [
                decision("tiny", step),
                refusal("tiny", step),
                ladder("tiny", step, 3),  # the population to HALT
                regime("tiny", step, to=f"storm{step}"),
                kill("tiny", step),
            ],
        )
        status = json.loads(_get(client, "/status?run=tiny"))
        assert status["ladder"]["level"] == "HALT"
        assert status["killed"] and status["kill_reason"] == f"stop at {step}"
        fresh = snapshot_of_run(run)
        assert (status["ladder"], status["guardrails"]) == (
            {
                "level": fresh.ladder.level,
                "agents": {str(k): v for k, v in fresh.ladder.agents.items()},
            },
            fresh.guardrails,
        )
        risk = json.loads(_get(client, "/risk?run=tiny&limit=50"))
        assert risk == runs.risk(run, limit=50)
        assert risk["transitions"][-1]["step"] == step
        regimes = json.loads(_get(client, "/regimes?run=tiny"))
        assert regimes["changes"][-1]["to"] == f"storm{step}"
        page = json.loads(_get(client, f"/decisions?run=tiny&since={step}"))
        assert [i["step"] for i in page["items"]] == [step]
        assert page == runs.decisions(run, since=step)
        assert _get(client, "/metrics?run=tiny") != before["/metrics?run=tiny"]


def test_a_rewritten_summary_is_in_the_next_answer(root: Path) -> None:
    summary = root / "tiny" / "summary.json"
    text = summary.read_text()
    equity = json.loads(text)["agents"][0]["final_equity"]
    client = runs_client(root)
    age(root)
    assert json.loads(_get(client, "/agents?run=tiny"))["agents"][0]["equity"] == equity
    for k in (1, 2):  # the same size each time; the second within the same clock tick or so
        changed = text.replace(str(equity), str(equity).replace("1", str(k + 1), 1), 1)
        assert len(changed) == len(text) and changed != text
        summary.write_text(changed)
        shown = json.loads(_get(client, "/agents?run=tiny"))["agents"][0]["equity"]
        assert shown == json.loads(changed)["agents"][0]["final_equity"] != equity


def test_runs_added_removed_and_replaced_are_in_the_next_answer(root: Path, made: Path) -> None:
    client = runs_client(root)
    age(root)

    def listed() -> list[str]:
        return [r["run_id"] for r in json.loads(_get(client, "/runs"))["runs"]]

    assert sorted(listed()) == ["begun", "tiny"]
    (root / "later" / "wal").mkdir(parents=True)
    assert listed()[0] == "later"  # the newest
    assert json.loads(_get(client, "/status"))["run_id"] == "later"
    shutil.rmtree(root / "begun")
    assert sorted(listed()) == ["later", "tiny"]
    assert client.get("/status?run=begun", headers=AS_READER).status_code == 404
    (root / "tiny").rename(root / "tiny2")
    assert client.get("/status?run=tiny", headers=AS_READER).status_code == 404
    assert json.loads(_get(client, "/status?run=tiny2"))["run_id"] == "tiny"
    # another run under a known name: its own WAL and files, read afresh
    before = json.loads(_get(client, "/risk?run=later"))
    shutil.rmtree(root / "later")
    shutil.copytree(made, root / "later")
    append(root / "later" / "wal", "tiny", [ladder("tiny", 7, 2)])
    after = json.loads(_get(client, "/risk?run=later"))
    assert after != before and after == runs.risk(root / "later", limit=200)
    assert json.loads(_get(client, "/status?run=later"))["ladder"]["level"] == "THROTTLE"


def test_the_wal_folds_kept_are_bounded(root: Path, made: Path) -> None:
    for k in range(RUNS_KEPT + 3):
        (root / f"r{k:02d}" / "wal").mkdir(parents=True)
    client = runs_client(root)
    for k in range(RUNS_KEPT + 3):
        _get(client, f"/risk?run=r{k:02d}")
    kept = client.app.state.run_cache._wals  # type: ignore[attr-defined]
    assert len(kept) == RUNS_KEPT
    assert root / f"r{RUNS_KEPT + 2:02d}" in kept  # the newest read is kept
