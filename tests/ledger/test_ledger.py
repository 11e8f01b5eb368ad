"""The policy ledger: registration, evidence-checked promotions, approvals, rollback, tamper
detection — on a tiny real run (200 synthetic bars, 4 Q-agents)."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import msgspec
import pytest
from ledger_helpers import passing_gates, tiny_q_run, write_gates

from scarline.journal.lock import DirLock
from scarline.ledger import store
from scarline.ledger.records import (
    Approval,
    Envelope,
    LedgerError,
    PolicyRegistered,
    PolicySet,
    Promotion,
    PromotionRefused,
    Rollback,
)
from scarline.ledger.state import parse_stage
from scarline.ledger.store import Ledger


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_q_run(tmp_path_factory.mktemp("ledger-run"), "ledger-tiny", seed=3)


@pytest.fixture
def run(tiny_run: Path, tmp_path: Path) -> Path:
    """A private copy of the run: tests add gates.json or break files in it."""
    return Path(shutil.copytree(tiny_run, tmp_path / "run"))


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(tmp_path / "ledger")


def test_stage_names() -> None:
    assert parse_stage("limited-live") == "LimitedLive"
    assert parse_stage("PRODUCTION") == "Production"
    with pytest.raises(LedgerError, match="unknown stage"):
        parse_stage("staging")


def test_full_path_with_evidence_approvals_and_rollback(run: Path, ledger: Ledger) -> None:
    promo = ledger.promote("1", "candidate", run_dir=run)
    assert (promo.from_stage, promo.to_stage) == ("Research", "Candidate")
    kinds = {e.kind for e in promo.evidence}
    assert kinds == {"manifest", "manifest_signature", "artifacts", "replay_parity"}
    pid = promo.policy
    assert pid == "ledger-tiny:1"

    with pytest.raises(PromotionRefused, match=r"missing evidence: gate report gates\.json"):
        ledger.promote(pid, "shadow")
    write_gates(
        run,
        passing_gates("1")
        | {"agents": passing_gates("1")["agents"] | passing_gates("2")["agents"]},
    )
    shadow = ledger.promote("1", "shadow")  # agent id resolves to the registered policy
    kinds = {e.kind for e in shadow.evidence}
    assert {"gate_report", "gates_signature", "gates_pass", "fees_x2", "regime_sliced"} <= kinds

    with pytest.raises(PromotionRefused, match="human approval for LimitedLive"):
        ledger.promote(pid, "limited-live")
    ledger.approve(pid, stage="limited-live", by="ada", reason="shadow P&L matches sim")
    live = ledger.promote(pid, "limited-live")
    approval = next(e for e in live.evidence if e.kind == "approval")
    assert approval.detail.startswith("by ada, signed by default (")

    # a second policy takes LimitedLive over; rollback brings the first one back
    ledger.promote("2", "candidate", run_dir=run)
    ledger.promote("2", "shadow")
    ledger.approve("2", stage=None, by="ada", reason="better")  # default: the next stage
    ledger.promote("2", "limited-live")
    assert ledger.state().current("LimitedLive") == "ledger-tiny:2"

    back = ledger.rollback("limited-live", reason="drawdown")
    assert (back.from_policy, back.to_policy) == ("ledger-tiny:2", pid)
    state = ledger.state()
    assert state.current("LimitedLive") == pid
    assert state.policies["ledger-tiny:2"].stage == "Shadow"
    assert isinstance(state.records[-1].data, Rollback)
    kinds_seen = [type(r.data) for r in state.records]
    assert kinds_seen[0] is PolicySet  # the first write records the ledger's policy
    assert kinds_seen.count(PolicyRegistered) == 2 and kinds_seen.count(Approval) == 2
    assert kinds_seen.count(Promotion) == 6
    report = ledger.verify()
    assert report.ok, report.problems


def test_refuses_skipping_a_stage(run: Path, ledger: Ledger) -> None:
    ledger.register("0", run)
    with pytest.raises(PromotionRefused, match=r"one stage at a time \(next: Candidate\)"):
        ledger.promote("0", "shadow")


def test_failing_gate_and_missing_g3_figures_are_named(run: Path, ledger: Ledger) -> None:
    ledger.promote("0", "candidate", run_dir=run)
    report = passing_gates("0", regime_sliced=None)
    report["agents"]["0"]["G2"] = {"pass": False}  # type: ignore[index]
    write_gates(run, report)
    with pytest.raises(PromotionRefused) as err:
        ledger.promote("0", "shadow")
    assert "not passed: G2" in str(err.value)
    assert "regime-sliced metrics (gates.json agents.0.G3.regime_sliced)" in str(err.value)


def test_tampered_artifact_refuses_candidate(run: Path, ledger: Ledger) -> None:
    ledger.register("0", run)
    weights = next((run / "weights").glob("*.npz"))
    weights.write_bytes(weights.read_bytes() + b"x")
    with pytest.raises(PromotionRefused, match="sha256 differs from the manifest"):
        ledger.promote("0", "candidate")


def test_gate_report_must_match_manifest_binding(run: Path, ledger: Ledger) -> None:
    ledger.promote("0", "candidate", run_dir=run)
    write_gates(run, passing_gates("0"))
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["gate_report_sha256"] = "0" * 64
    ledger_state = ledger.state().policies["ledger-tiny:0"]
    assert ledger_state.stage == "Candidate"
    (run / "manifest.json").write_text(json.dumps(manifest))
    # binding a gate report is not a change of the run; a binding that does not match is
    with pytest.raises(PromotionRefused, match="!= manifest gate_report_sha256") as err:
        ledger.promote("0", "shadow")
    assert "changed since registration" not in str(err.value)
    manifest["steps"] += 1  # any other field is a change of the run
    (run / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(PromotionRefused, match="changed since registration") as err:
        ledger.promote("0", "shadow")
    assert "signed run manifest (manifest.json changed after key" in str(err.value)


def test_unknown_policy_and_bad_agent(run: Path, ledger: Ledger) -> None:
    with pytest.raises(LedgerError, match="not in the ledger"):
        ledger.promote("3", "candidate")
    with pytest.raises(LedgerError, match="no agent 99"):
        ledger.register("99", run)


def test_editing_a_record_is_detected(run: Path, ledger: Ledger) -> None:
    ledger.register("0", run)
    ledger.approve("0", stage="candidate", by="ada", reason="ok")
    ledger.register("1", run)
    segment = ledger.dir / "000000.jsonl"
    text = segment.read_bytes()
    segment.write_bytes(text.replace(b'"by":"ada"', b'"by":"eve"'))
    report = ledger.verify()
    assert not report.ok
    assert report.first_bad is not None and report.first_bad.seq == 2  # seq 0: the policy
    with pytest.raises(LedgerError, match=r"fails verification at segment 000000\.jsonl, seq 2"):
        ledger.state()
    with pytest.raises(LedgerError, match="corrupt"):
        ledger.register("2", run)


def test_edited_last_record_is_not_truncated_away(run: Path, ledger: Ledger) -> None:
    ledger.register("0", run)
    ledger.approve("0", stage="candidate", by="ada", reason="ok")
    segment = ledger.dir / "000000.jsonl"
    before = segment.read_bytes().replace(b'"by":"ada"', b'"by":"eve"')
    segment.write_bytes(before)
    with pytest.raises(LedgerError, match=r"corrupt at segment 000000\.jsonl, seq 2"):
        ledger.approve("0", stage="candidate", by="bob", reason="again")
    assert segment.read_bytes() == before


def test_a_torn_tail_the_anchor_does_not_explain_is_never_trimmed(
    run: Path, ledger: Ledger
) -> None:
    ledger.register("0", run)
    segment = ledger.dir / "000000.jsonl"
    with segment.open("ab") as f:
        f.write(b'{"seq":2,"ts":5,"kind":"Appr')  # bytes no ledger write started
    before = segment.read_bytes()
    with pytest.raises(LedgerError, match="a partial record no ledger write started"):
        ledger.approve("0", stage="candidate", by="ada", reason="ok")
    assert segment.read_bytes() == before
    assert not ledger.verify().ok


def test_rollback_by_policy_voids_its_approval(run: Path, ledger: Ledger) -> None:
    write_gates(run, passing_gates("0"))
    ledger.promote("0", "candidate", run_dir=run)
    ledger.promote("0", "shadow")
    ledger.approve("0", stage="limited-live", by="ada", reason="ok")
    ledger.promote("0", "limited-live")
    back = ledger.rollback("ledger-tiny:0", reason="incident")
    assert (back.stage, back.to_policy) == ("LimitedLive", None)
    assert ledger.state().policies["ledger-tiny:0"].stage == "Shadow"
    with pytest.raises(PromotionRefused, match="human approval for LimitedLive"):
        ledger.promote("0", "limited-live")
    with pytest.raises(LedgerError, match="no policy is at LimitedLive"):
        ledger.rollback("limited-live")


def test_unknown_policy_hash_is_refused(run: Path, ledger: Ledger) -> None:
    with pytest.raises(LedgerError, match=r"not an agent id|policy hashes start with"):
        ledger.register("abcdef12", run)


# --- flags: a flagged policy needs an approval naming the flag from Shadow on --------------


def _flagged(agent: str) -> dict[str, object]:
    report = passing_gates(agent)
    report["agents"][agent]["flags"] = ["implausible_edge"]  # type: ignore[index]
    return report


def test_a_flag_blocks_shadow_until_an_approval_names_it(run: Path, ledger: Ledger) -> None:
    write_gates(run, _flagged("0"))
    ledger.promote("0", "candidate", run_dir=run)  # Candidate needs no gate report
    with pytest.raises(PromotionRefused) as err:
        ledger.promote("0", "shadow")
    message = str(err.value)
    assert "human approval naming flag implausible_edge" in message
    assert "--flag implausible_edge" in message and "not passed" not in message
    # an approval that does not name the flag does not count
    ledger.approve("0", stage="shadow", by="ada", reason="looks fine")
    with pytest.raises(PromotionRefused, match="naming flag implausible_edge"):
        ledger.promote("0", "shadow")
    with pytest.raises(LedgerError, match=r"unknown flag\(s\) implausible"):
        ledger.approve("0", stage="shadow", by="ada", reason="typo", flags=["implausible"])
    ledger.approve(
        "0", stage="shadow", by="ada", reason="IC 0.5 is a planted leak", flags=["implausible_edge"]
    )
    shadow = ledger.promote("0", "shadow")
    accepted = next(e for e in shadow.evidence if e.kind == "flag_approval")
    assert accepted.detail == "implausible_edge accepted by ada: IC 0.5 is a planted leak"
    assert accepted.sha256 == ledger.state().records[-2].h  # bound to that approval record
    # the Shadow approval naming the flag still holds for LimitedLive (which needs its own)
    ledger.approve("0", stage="limited-live", by="bob", reason="shadow P&L ok")
    live = ledger.promote("0", "limited-live")
    assert {"approval", "flag_approval"} <= {e.kind for e in live.evidence}
    # rolled back below Shadow, the flag needs a new approval
    ledger.rollback("limited-live", reason="r")
    ledger.rollback("shadow", reason="r")
    with pytest.raises(PromotionRefused, match="naming flag implausible_edge"):
        ledger.promote("0", "shadow")
    assert ledger.verify().ok


def test_approvals_without_flags_keep_the_old_record_format(run: Path, ledger: Ledger) -> None:
    ledger.register("0", run)
    ledger.approve("0", stage="candidate", by="ada", reason="ok")
    ledger.promote("0", "candidate")
    ledger.approve("0", stage="shadow", by="ada", reason="ok", flags=["implausible_edge"])
    lines = (ledger.dir / "000000.jsonl").read_text().splitlines()
    plain, flagged = json.loads(lines[2])["data"], json.loads(lines[4])["data"]
    signature = {"public_key", "signature"}
    assert set(plain) == {"kind", "policy", "stage", "by", "reason"} | signature
    assert flagged["flags"] == ["implausible_edge"]
    records = [r.data for r in ledger.state().records]
    assert isinstance(records[2], Approval) and records[2].flags == ()
    assert ledger.verify().ok
    # a record written before flags and signatures still decodes (it cannot satisfy a rule)
    old = b'{"seq":1,"ts":5,"kind":"Approval","data":{"kind":"Approval","policy":"r:0",'
    old += b'"stage":"Candidate","by":"ada","reason":"ok"}}'
    decoded = msgspec.json.decode(old, type=Envelope).data
    assert isinstance(decoded, Approval) and (decoded.flags, decoded.signature) == ((), "")


def test_reports_without_flags_promote_as_before(run: Path, ledger: Ledger) -> None:
    report = passing_gates("0")
    report["agents"]["0"]["flags"] = []  # type: ignore[index]
    write_gates(run, report)
    ledger.promote("0", "candidate", run_dir=run)
    kinds = {e.kind for e in ledger.promote("0", "shadow").evidence}
    assert "flag_approval" not in kinds


def test_a_second_writer_waits_for_the_first(
    run: Path, ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two writers at once: the second waits for the lock (it failed at once with the WAL's
    "open by another writer") and both records are in an intact ledger; a writer that
    never finishes is named as such after the wait."""
    ledger.register("0", run)
    held = DirLock(ledger.dir)
    held.acquire()
    threading.Timer(0.3, held.release).start()
    ledger.register("1", run)  # waits the 0.3 s out
    assert ledger.verify().ok and len(ledger.records()) == 3  # the policy and two policies
    monkeypatch.setattr(store, "LOCK_WAIT_S", 0.2)
    held.acquire()
    try:
        with pytest.raises(LedgerError, match="being written by another process"):
            ledger.register("2", run)
    finally:
        held.release()
    assert len(ledger.records()) == 3
