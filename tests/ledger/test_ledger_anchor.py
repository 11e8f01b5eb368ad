"""The ledger knows its length: its signed anchor catches a record deleted, or the ledger cut
at any byte — every record boundary and every offset inside a record — and no write ever
trims what a cut left; only a write the anchor shows was interrupted is set aside."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import msgspec
import pytest

from scarline.journal.format import chain_hash, seal
from scarline.ledger.anchor import (
    ANCHOR_FILE,
    GENESIS_HEAD,
    AnchorPoint,
    read_anchor,
    write_anchor,
)
from scarline.ledger.records import (
    Approval,
    Envelope,
    LedgerError,
    PolicyRegistered,
    PolicySet,
)
from scarline.ledger.store import Ledger
from scarline.signing import KeyStore

SEGMENT = "000000.jsonl"


def fake_run(tmp: Path) -> Path:
    """What registration reads: a run directory with a manifest (no evidence is checked)."""
    run = tmp / "run"
    run.mkdir()
    (run / "manifest.json").write_text(json.dumps({"run_id": "r", "agents": 4}))
    return run


@pytest.fixture(scope="module")
def small_ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Six records: the policy, two registrations, three signed approvals."""
    tmp = tmp_path_factory.mktemp("anchor")
    run = fake_run(tmp)
    ledger = Ledger(tmp / "ledger")
    ledger.register("0", run)
    ledger.register("1", run)
    ledger.approve("0", stage="candidate", by="ada", reason="ok")
    ledger.approve("1", stage="candidate", by="bob", reason="fine")
    ledger.approve("0", stage="candidate", by="cy", reason="again")
    assert ledger.verify().ok
    return ledger.dir


def _boundaries(data: bytes) -> list[int]:
    return [0] + [i + 1 for i, b in enumerate(data) if b == ord("\n")]


def test_every_cut_point_is_detected_and_never_trimmed(small_ledger: Path, tmp_path: Path) -> None:
    whole = (small_ledger / SEGMENT).read_bytes()
    boundaries = _boundaries(whole)
    assert len(boundaries) == 7  # 6 records
    work = Path(shutil.copytree(small_ledger, tmp_path / "ledger"))
    segment = work / SEGMENT
    ledger = Ledger(work)
    for cut in range(len(whole)):  # every byte offset: each boundary and inside each record
        segment.write_bytes(whole[:cut])
        kept = sum(1 for b in boundaries if b <= cut) - 1
        report = ledger.verify()
        assert not report.ok, cut
        (problem,) = report.problems
        assert problem.startswith("ledger truncated: the anchor holds 6 records"), (cut, problem)
        assert f"the ledger only {kept}" in problem, (cut, problem)
        assert ("a cut record" in problem) == (cut not in boundaries), (cut, problem)
        with pytest.raises(LedgerError, match="fails verification: ledger truncated"):
            ledger.state()
        with pytest.raises(LedgerError, match="ledger truncated"):
            ledger.approve("0", stage="candidate", by="eve", reason="after the cut")
        assert segment.read_bytes() == whole[:cut], cut  # nothing was trimmed or appended
        assert sorted(p.name for p in work.iterdir()) == sorted(
            p.name for p in small_ledger.iterdir()
        )
    segment.write_bytes(whole)
    assert ledger.verify().ok


def test_deleting_the_segment_or_the_anchor_is_detected(small_ledger: Path, tmp_path: Path) -> None:
    work = Path(shutil.copytree(small_ledger, tmp_path / "ledger"))
    ledger = Ledger(work)
    (work / SEGMENT).unlink()
    (problem,) = ledger.verify().problems
    assert "the anchor holds 6 records" in problem and "the ledger only 0" in problem

    work = Path(shutil.copytree(small_ledger, tmp_path / "ledger2"))
    ledger = Ledger(work)
    (work / ANCHOR_FILE).unlink()
    report = ledger.verify()
    assert not report.ok and report.problems[0].startswith("no anchor.json")
    with pytest.raises(LedgerError, match=r"no anchor\.json"):
        ledger.register("2", work.parent / "run-missing")


def test_an_added_record_or_a_forged_anchor_is_detected(small_ledger: Path, tmp_path: Path) -> None:
    work = Path(shutil.copytree(small_ledger, tmp_path / "ledger"))
    segment = work / SEGMENT
    lines = segment.read_bytes().splitlines(keepends=True)
    # a chain-valid approval appended by hand (the chain is keyed by a constant: anyone can)
    approval = Approval(policy="r:1", stage="Candidate", by="mallory", reason="trust me")
    canonical = msgspec.json.encode(Envelope(6, 5, "Approval", approval))
    head = bytes.fromhex(json.loads(lines[-1])["h"])
    with segment.open("ab") as f:
        f.write(seal(canonical, chain_hash(head, canonical)))
    (problem,) = Ledger(work).verify().problems
    assert (
        problem
        == "1 record(s) after the anchored 6 (seq 6 onward) were added without the ledger's key"
    )
    with pytest.raises(LedgerError, match="added without the ledger's key"):
        Ledger(work).promote("1", "candidate")
    segment.write_bytes(b"".join(lines))
    # the anchor of five records (signed): a ledger cut back to it would need this signature
    anchor = json.loads((work / ANCHOR_FILE).read_text())
    anchor["records"] = 5
    (work / ANCHOR_FILE).write_text(json.dumps(anchor))
    segment.write_bytes(b"".join(lines[:5]))
    (problem,) = Ledger(work).verify().problems
    assert problem == "anchor.json: the signature does not verify (forged or edited)"


def test_an_interrupted_write_is_set_aside_not_dropped(small_ledger: Path, tmp_path: Path) -> None:
    """A crash after the pending anchor and half the record: verify explains it, and the next
    write moves the torn bytes to ``000000.jsonl.torn-<ns>`` before appending."""
    work = Path(shutil.copytree(small_ledger, tmp_path / "ledger"))
    ledger = Ledger(work)
    anchor = read_anchor(work)
    assert anchor is not None and anchor.pending is None
    key = KeyStore().load("default")
    write_anchor(work, anchor.records, anchor.head, key, pending=AnchorPoint(7, "ab" * 32))
    torn = b'{"seq":6,"ts":5,"kind":"Appro'
    with (work / SEGMENT).open("ab") as f:
        f.write(torn)
    report = ledger.verify()
    assert report.ok, report.problems
    assert any("a write of record 6 was interrupted" in n for n in report.notes)

    ledger.approve("1", stage="candidate", by="ada", reason="after the crash")
    (aside,) = work.glob(f"{SEGMENT}.torn-*")
    assert aside.read_bytes() == torn
    report = ledger.verify()
    assert report.ok and report.records == 7 and report.notes == []


def test_a_finished_write_whose_anchor_was_not_updated_is_explained(
    small_ledger: Path, tmp_path: Path
) -> None:
    work = Path(shutil.copytree(small_ledger, tmp_path / "ledger"))
    whole = (work / SEGMENT).read_bytes()
    lines = whole.splitlines(keepends=True)
    # the state a crash between appending record 5 and signing the final anchor leaves
    key = KeyStore().load("default")
    heads = [json.loads(line)["h"] for line in lines]
    write_anchor(work, 5, heads[4], key, pending=AnchorPoint(6, heads[5]))
    report = Ledger(work).verify()
    assert report.ok and any("its anchor was not updated" in n for n in report.notes)
    # ... and the record cut off in that state is still caught
    (work / SEGMENT).write_bytes(b"".join(lines[:4]))
    assert not Ledger(work).verify().ok


def _legacy_ledger(directory: Path, run: Path) -> None:
    """A ledger as written before anchors, policies and signatures: plain chained records."""
    directory.mkdir()
    records = [
        PolicyRegistered(
            policy="r:0", run_dir=str(run), run_id="r", manifest_sha256="0" * 64, agent=0
        ),
        Approval(policy="r:0", stage="Candidate", by="ada", reason="looked at it"),
    ]
    head = bytes.fromhex(GENESIS_HEAD)
    lines = []
    for seq, data in enumerate(records):
        canonical = msgspec.json.encode(Envelope(seq, 5, type(data).__name__, data))
        head = chain_hash(head, canonical)
        lines.append(seal(canonical, head))
    (directory / SEGMENT).write_bytes(b"".join(lines))


def test_a_ledger_from_before_anchors_is_adopted_only_on_request(tmp_path: Path) -> None:
    legacy = tmp_path / "legacy"
    _legacy_ledger(legacy, fake_run(tmp_path))
    ledger = Ledger(legacy)
    assert [type(r.data) for r in ledger._read_upto()] == [PolicyRegistered, Approval]
    with pytest.raises(LedgerError, match=r"holds 2 records but no anchor\.json"):
        ledger.state()  # anyone could have written it: nothing reads it as the ledger
    problems = ledger.verify().problems
    assert problems[0].startswith("no anchor.json") and problems[1].startswith("no policy")
    with pytest.raises(LedgerError, match=r"but no anchor\.json"):
        ledger.register("1", tmp_path / "run")
    assert ledger.anchor()["status"] == "adopted"
    assert [type(r.data) for r in ledger.state().records] == [
        PolicyRegistered,
        Approval,
        PolicySet,
    ]
    report = ledger.verify()
    assert report.ok, report.problems
    assert report.notes == [
        "the approval at seq 1 is not signed (written before approvals were signed, or by "
        "hand): it cannot satisfy a promotion"
    ]
    assert (legacy / "policy.toml").is_file()
    ledger.register("1", tmp_path / "run")  # an ordinary write now
    assert ledger.verify().ok
