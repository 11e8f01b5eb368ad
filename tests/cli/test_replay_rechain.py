"""The re-chain attack on replay: edit a fill price in a real run's WAL, recompute the whole
hash chain (it is keyed only by the run id, so anyone can) and the manifest's head and segment
hashes. ``wal verify`` then passes — the chain is valid — but ``replay``, the gates' G1 and a
promotion compare the replayed WAL record by record and name the edited record."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import msgspec
from cli_cases import TinyRun, copy
from typer.testing import CliRunner

from scarline.cli import app
from scarline.events import Array, Fills
from scarline.journal.format import Envelope, RawEnvelope, canonical_of, chain_hash, genesis, seal
from scarline.journal.segments import list_segments

runner = CliRunner()


def rechain(run_dir: Path, edit_seq: int, edited: bytes) -> None:
    """What an attacker does: put ``edited`` (canonical bytes) at ``edit_seq``, re-chain
    every record from the genesis of the run id, and rewrite the manifest to match."""
    manifest = json.loads((run_dir / "manifest.json").read_text())
    prev = genesis(manifest["run_id"])
    seq = 0
    for path in list_segments(run_dir / "wal"):
        out = []
        for line in path.read_bytes().splitlines():
            canonical = edited if seq == edit_seq else canonical_of(line)
            prev = chain_hash(prev, canonical)
            out.append(seal(canonical, prev))
            seq += 1
        path.write_bytes(b"".join(out))
    manifest["wal_head"] = prev.hex()
    for entry in manifest["wal_segments"]:
        data = (run_dir / "wal" / entry["name"]).read_bytes()
        entry["sha256"], entry["bytes"] = hashlib.sha256(data).hexdigest(), len(data)
    (run_dir / "manifest.json").write_text(json.dumps(manifest, indent=2))


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
    assert verify.exit_code == 0, verify.output  # the chain itself is valid

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
