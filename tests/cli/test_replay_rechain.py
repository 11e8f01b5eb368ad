"""The re-chain attack on replay: edit a fill price in a real run's WAL, recompute the whole
hash chain (it is keyed only by the run id, so anyone can) and the manifest's head and segment
hashes. The chain is then valid (``wal verify`` fails on ``manifest.sig`` alone), but
``replay``, the gates' G1 and a promotion compare the replayed WAL record by record and name
the edited record, and the promotion names the manifest its key no longer signs.

The same attacker, with write access to the run directory and the ledger but no private key,
then forges a gate report, edits a real one (updating its sha256 in the manifest), and slips
in unsigned and wrongly signed approvals: each is refused, naming what was changed."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import msgspec
from cli_cases import TinyRun, copy
from ledger_helpers import passing_gates, write_gates
from typer.testing import CliRunner
from wal_attack import rechain

from scarline.cli import app
from scarline.events import Array, Fills
from scarline.journal.format import Envelope, RawEnvelope, canonical_of, chain_hash, seal
from scarline.journal.segments import list_segments
from scarline.ledger.records import Approval, approval_payload
from scarline.ledger.records import Envelope as LedgerEnvelope
from scarline.ledger.store import Ledger
from scarline.signing import APPROVAL_PURPOSE, KeyStore

runner = CliRunner()


def _first_fill(run_dir: Path) -> tuple[int, Envelope]:
    decode = msgspec.json.Decoder(RawEnvelope).decode
    for path in list_segments(run_dir / "wal"):
        for line in path.read_bytes().splitlines():
            env = decode(line)
            if env.kind == "Fills":
                full = msgspec.json.decode(canonical_of(line), type=Envelope)
                return env.seq, full
    raise AssertionError("the tiny run has no fill")


def _tampered(tmp_path: Path, tiny_run: TinyRun) -> tuple[Path, int, int, int]:
    """A copy of the tiny run with fill 0's price of the first Fills record raised by 1 tick."""
    run_dir = copy(tiny_run.run_dir, tmp_path)
    (run_dir / "gates.json").unlink(missing_ok=True)
    seq, env = _first_fill(run_dir)
    fills = env.data
    assert isinstance(fills, Fills)
    price = fills.price.numpy().copy()
    before = int(price[0])
    price[0] += 1
    forged = msgspec.structs.replace(fills, price=Array.of(price))
    edited = msgspec.json.encode(Envelope(env.seq, env.ts, env.kind, forged))
    rechain(run_dir, seq, edited)
    return run_dir, seq, before, before + 1


def test_a_rechained_edit_verifies_but_fails_replay_naming_the_record(
    tmp_path: Path, tiny_run: TinyRun
) -> None:
    run_dir, seq, real, forged = _tampered(tmp_path, tiny_run)
    verify = runner.invoke(app, ["wal", "verify", str(run_dir)])
    assert verify.exit_code == 1  # the chain itself is valid, the run key's signature is not
    assert "WAL check failed" not in verify.stderr and "changed after key" in verify.stderr

    human = runner.invoke(app, ["replay", str(run_dir)])
    assert human.exit_code == 3
    named = f"seq {seq} (Fills), field data.price[0]: original {forged}, replayed {real}"
    assert named in human.stdout and named in human.stderr
    assert "Traceback" not in human.output

    as_json = runner.invoke(app, ["replay", str(run_dir), "--json"])
    assert as_json.exit_code == 3
    result = json.loads(as_json.stdout)
    assert result["parity"] is False
    assert result["mismatch"] == {
        "seq": seq,
        "kind": "Fills",
        "field": "data.price[0]",
        "original": str(forged),
        "replayed": str(real),
    }


def test_g1_and_promotion_use_the_same_comparison(tmp_path: Path, tiny_run: TinyRun) -> None:
    run_dir, seq, _, _ = _tampered(tmp_path, tiny_run)
    gates = runner.invoke(app, ["gates", str(run_dir), "--only", "G1", "--json"])
    assert gates.exit_code == 1, gates.output
    report = json.loads(gates.stdout)
    for entry in report["agents"].values():
        g1 = entry["G1"]
        assert g1["pass"] is False
        assert g1["first_mismatch"].startswith(f"seq {seq} (Fills), field data.price[0]")

    ledger = tmp_path / "ledger"
    args = ["promote", "1", "--to", "candidate", "--run", str(run_dir), "--ledger", str(ledger)]
    promote = runner.invoke(app, args)
    assert promote.exit_code == 1
    assert f"replay parity (first differing record: seq {seq} (Fills)" in promote.stderr
    assert "signed run manifest (manifest.json changed after key" in promote.stderr


# --- gate reports and approvals, forged by someone without a key ---------------------------


def _key_id() -> str:
    return KeyStore().public("default").key_id


def _bind(run_dir: Path, raw: bytes) -> None:
    """What the attacker does to gates.json: write ``raw`` and put its sha256 in the manifest."""
    (run_dir / "gates.json").write_bytes(raw)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    manifest["gate_report_sha256"] = hashlib.sha256(raw).hexdigest()
    (run_dir / "manifest.json").write_text(json.dumps(manifest, indent=2))


def test_a_forged_or_edited_gate_report_is_named(tmp_path: Path, tiny_run: TinyRun) -> None:
    run_dir = copy(tiny_run.run_dir, tmp_path)
    ledger = ["--ledger", str(tmp_path / "ledger")]
    real = runner.invoke(app, ["gates", str(run_dir), "--only", "G0", "--only", "G1", "--json"])
    assert real.exit_code == 1  # G2-G4 are skipped, so no agent passes
    assert (run_dir / "gates.sig").is_file()
    agent = next(iter(json.loads(real.stdout)["agents"]))
    args = ["promote", agent, "--to", "candidate", "--run", str(run_dir), *ledger]
    registered = runner.invoke(app, args)
    assert registered.exit_code == 0, registered.stderr

    # an edited real report: every gate passes now, its sha256 updated in the manifest
    report = json.loads((run_dir / "gates.json").read_text())
    report["agents"][agent] |= passing_gates(agent)["agents"][agent]  # type: ignore[index]
    _bind(run_dir, json.dumps(report).encode())
    edited = runner.invoke(app, ["promote", agent, "--to", "shadow", *ledger])
    assert edited.exit_code == 1
    key = _key_id()
    assert f"signed gate report (gates.json changed after key {key} signed it" in edited.stderr
    assert "changed since the ledger bound" in edited.stderr  # bound at registration

    # a report written by hand, with no signature at all
    (run_dir / "gates.sig").unlink()
    _bind(run_dir, json.dumps(passing_gates(agent)).encode())
    forged = runner.invoke(app, ["promote", agent, "--to", "shadow", *ledger])
    assert forged.exit_code == 1
    assert "signed gate report (gates.json is not signed (no gates.sig))" in forged.stderr
    assert "Traceback" not in forged.output

    # a report signed for another run (a real gates.json and gates.sig copied over)
    other = copy(tiny_run.run_dir, tmp_path / "other")
    manifest = json.loads((other / "manifest.json").read_text())
    (other / "manifest.json").write_text(json.dumps(manifest | {"run_id": "another"}))
    write_gates(other, passing_gates(agent))
    for name in ("gates.json", "gates.sig"):
        (run_dir / name).write_bytes((other / name).read_bytes())
    _bind(run_dir, (other / "gates.json").read_bytes())
    moved = runner.invoke(app, ["promote", agent, "--to", "shadow", *ledger])
    assert moved.exit_code == 1
    assert f"gates.json was signed by key {key} with another run_manifest_sha256" in moved.stderr


def test_unsigned_and_wrongly_signed_approvals_are_named(tmp_path: Path, tiny_run: TinyRun) -> None:
    run_dir = copy(tiny_run.run_dir, tmp_path)
    book = tmp_path / "ledger"
    ledger = ["--ledger", str(book)]
    write_gates(run_dir, passing_gates("1"))
    args = ["promote", "1", "--to", "candidate", "--run", str(run_dir)]
    assert runner.invoke(app, args + ledger).exit_code == 0
    assert runner.invoke(app, ["promote", "1", "--to", "shadow", *ledger]).exit_code == 0
    pid = f"{tiny_run.run_dir.name}:1"

    # an unsigned approval appended to the ledger file, the hash chain recomputed
    segment = book / "000000.jsonl"
    before = segment.read_bytes()
    last = json.loads(before.splitlines()[-1])
    approval = Approval(policy=pid, stage="LimitedLive", by="ada", reason="trust me")
    canonical = msgspec.json.encode(LedgerEnvelope(last["seq"] + 1, 5, "Approval", approval))
    segment.write_bytes(before + seal(canonical, chain_hash(bytes.fromhex(last["h"]), canonical)))
    for attempt in (["promote", "1", "--to", "limited-live"], ["ledger", "verify"]):
        refused = runner.invoke(app, attempt + ledger)
        assert refused.exit_code == 1
        assert "1 record(s) after the anchored" in refused.stderr
        assert "were added without the ledger's key" in refused.stderr
    segment.write_bytes(before)

    # an unsigned approval that is in the ledger (as one written before approvals were signed)
    with Ledger(book)._locked() as app_:
        unsigned_seq = app_.append(approval).seq
    refused = runner.invoke(app, ["promote", "1", "--to", "limited-live", *ledger])
    assert refused.exit_code == 1
    assert f"the approval at seq {unsigned_seq} is not signed" in refused.stderr

    # approving with a key the ledger policy does not list
    eve = KeyStore()
    if not eve.exists("eve"):
        eve.init("eve")
    refused = runner.invoke(
        app, ["approve", "1", "--by", "eve", "--reason", "r", "--key", "eve", *ledger]
    )
    assert refused.exit_code == 1 and "your key 'eve'" in refused.stderr
    assert "may not write ledger" in refused.stderr

    # an approval signed by that key, appended by a writer that did not check it
    key = eve.load("eve")
    with Ledger(book)._locked() as app_:
        head = app_.state.head
        signed = msgspec.structs.replace(
            approval,
            public_key=key.public.text,
            signature=key.sign(APPROVAL_PURPOSE, approval_payload(head, approval)),
        )
        seq = app_.append(signed).seq
    refused = runner.invoke(app, ["promote", "1", "--to", "limited-live", *ledger])
    assert refused.exit_code == 1
    named = f"the approval at seq {seq} is signed by key {key.public.key_id}, which may not "
    named += "approve LimitedLive"
    assert named in refused.stderr
    verify = runner.invoke(app, ["ledger", "verify", *ledger])
    assert verify.exit_code == 1 and named in verify.stderr


def _rechained_start(tmp_path: Path, tiny_run: TinyRun, old: bytes, new: bytes) -> Path:
    """A copy of the tiny run whose SessionStart (seq 0) has ``old`` replaced by ``new``,
    re-chained with the manifest's head and segments rewritten to match."""
    run_dir = copy(tiny_run.run_dir, tmp_path)
    first = list_segments(run_dir / "wal")[0].read_bytes().splitlines()[0]
    canonical = canonical_of(first)
    assert old in canonical
    rechain(run_dir, 0, canonical.replace(old, new, 1))
    return run_dir


def test_a_rechained_session_start_is_refused_naming_what_differs(
    tmp_path: Path, tiny_run: TinyRun
) -> None:
    """Replay journals the SessionStart's inputs again as it read them, so it checks them
    against the manifest: the config hash, and the market (instrument specs, bars)."""
    start = msgspec.json.decode(
        canonical_of(list_segments(tiny_run.run_dir / "wal")[0].read_bytes().splitlines()[0])
    )["data"]
    real_hash = start["config_hash"].encode()
    forged = _rechained_start(tmp_path / "a", tiny_run, real_hash, b"0" * 64)
    out = runner.invoke(app, ["replay", str(forged)])
    assert out.exit_code != 0 and "Traceback" not in out.output
    assert f"names config hash '{'0' * 64}', the manifest '{real_hash.decode()}'" in out.output

    symbol = start["instruments"][0]["symbol"].encode()
    renamed = _rechained_start(tmp_path / "b", tiny_run, b'"symbol":"' + symbol, b'"symbol":"ZZZ')
    out = runner.invoke(app, ["replay", str(renamed)])
    assert out.exit_code != 0 and "the market the WAL holds" in out.output
