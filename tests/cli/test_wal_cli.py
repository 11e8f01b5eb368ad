"""``scarline wal verify | cat | recover`` as a user meets them: exit codes, messages, output."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import msgspec
import numpy as np
import pytest
from cli_cases import TinyRun, copy
from typer.testing import CliRunner
from wal_attack import rechain

from scarline.cli import app
from scarline.cli.wal import humanize
from scarline.config import RunConfig
from scarline.events import Array, Bar, Decision, SessionStart
from scarline.instrument import InstrumentSpec
from scarline.journal import WalWriter, read_records
from scarline.journal.format import canonical_of
from scarline.journal.manifest import RunManifest, SegmentEntry, segment_entries
from scarline.journal.quiet_run import row_records
from scarline.journal.segments import list_segments
from scarline.runner import execute_run

runner = CliRunner()
RUN = "cli-run"


def _bar(i: int, run_id: str = RUN) -> Bar:
    return Bar(run_id=run_id, session_id="s", instrument=0, open=i, high=i, low=i, close=i)


def _decision() -> Decision:
    return Decision(
        run_id=RUN, session_id="s", decision_id="d1", step=3, policy="sma",
        agents=Array.of(np.array([7, 8], np.int64)),
        actions=Array.of(np.array([[1, 0], [-1, 1]], np.int8)),
        target_qty=Array.of(np.array([[5, 0], [-5, 2]], np.int64)),
    )  # fmt: skip


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    """A run directory named after its run, holding a WAL of 20 bars then one decision."""
    path = tmp_path / RUN
    with WalWriter(path / "wal", RUN, fsync="never") as w:
        for i in range(20):
            w.append(_bar(i), 1_000 * i)
        w.append(_decision(), 99_000)
    return path


def _invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["wal", *args])
    return result.exit_code, result.stdout, result.stderr


def _head(run_dir: Path) -> str:
    return json.loads(_invoke("verify", str(run_dir), "--json")[1])["head"]


def _tamper(run_dir: Path, seq: int) -> None:
    path = run_dir / "wal" / "000000.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    lines[seq] = lines[seq].replace(b'"close":', b'"close":1', 1)
    path.write_bytes(b"".join(lines))


def test_verify_intact(run_dir: Path) -> None:
    code, out, _ = _invoke("verify", str(run_dir))
    assert code == 0
    assert "21 records" in out and _head(run_dir) in out


def test_verify_tampered_names_segment_seq_line(run_dir: Path) -> None:
    _tamper(run_dir, 17)
    code, out, err = _invoke("verify", str(run_dir))
    assert code == 1
    assert "error: WAL check failed at segment 000000.jsonl, seq 17 (line 18): hash mismatch" in err
    assert out == ""


def test_verify_json(run_dir: Path) -> None:
    code, out, _ = _invoke("verify", str(run_dir), "--json")
    assert code == 0
    report = json.loads(out)
    assert report["ok"] is True and report["records"] == 21 and report["first_bad"] is None
    _tamper(run_dir, 4)
    code, out, _ = _invoke("verify", str(run_dir), "--json")
    assert code == 1
    report = json.loads(out)
    assert report["ok"] is False and report["records"] == 4
    assert report["first_bad"] == {
        "segment": "000000.jsonl",
        "seq": 4,
        "line": 5,
        "reason": "hash mismatch",
    }


def test_verify_uses_manifest_run_id_and_head(tmp_path: Path, run_dir: Path) -> None:
    head = _head(run_dir)
    moved = run_dir.rename(tmp_path / "renamed")  # the directory name no longer says the run id
    code, _, err = _invoke("verify", str(moved))
    assert code == 1 and f"belongs to run {RUN!r}, not 'renamed'" in err
    infos = segment_entries(moved / "wal")
    manifest = _manifest(RUN, head, infos)
    (moved / "manifest.json").write_bytes(msgspec.json.encode(manifest))
    assert _invoke("verify", str(moved))[0] == 0
    wrong = msgspec.structs.replace(manifest, wal_head="ab" * 32)
    (moved / "manifest.json").write_bytes(msgspec.json.encode(wrong))
    code, _, err = _invoke("verify", str(moved))
    assert code == 1 and f"WAL head {head} does not match manifest {'ab' * 32}" in err


def _manifest(run_id: str, head: str, segments: list[SegmentEntry]) -> RunManifest:
    return RunManifest(
        run_id=run_id, session_id="s", config_hash="c", code_hash="c", seed=0,
        wal_segments=segments, wal_head=head, wal_records=sum(s.records for s in segments),
        decision_trace_hash="", steps=0, agents=0, data_hash="d",
    )  # fmt: skip


@pytest.mark.parametrize(
    "doc",
    [
        {"run_id": RUN},  # no head: nothing would bind the WAL
        {"run_id": RUN, "wal_head": ""},
        {"run_id": 5},
        [],
    ],
)
def test_verify_refuses_a_manifest_that_is_not_a_run_manifest(
    tmp_path: Path, run_dir: Path, doc: object
) -> None:
    """A manifest.json that does not hold a whole run manifest fails the check: before, a
    partial one made verify fall back to fewer checks (no head, no segments) and pass."""
    (run_dir / "manifest.json").write_text(json.dumps(doc))
    code, out, err = _invoke("verify", str(run_dir))
    assert code == 1 and out == "" and len(err.strip().splitlines()) == 1
    assert "manifest.json: invalid run manifest" in err or "does not match manifest" in err


def test_verify_falls_back_to_session_json(tmp_path: Path, run_dir: Path) -> None:
    moved = run_dir.rename(tmp_path / "elsewhere")
    (moved / "session.json").write_text(json.dumps({"run_id": RUN, "universe": "x"}))
    assert _invoke("verify", str(moved))[0] == 0


def test_missing_wal_is_an_error_naming_the_path(tmp_path: Path) -> None:
    code, _, err = _invoke("verify", str(tmp_path))
    assert code == 2 and f"no WAL directory at {tmp_path / 'wal'}" in err
    code, _, err = _invoke("cat", str(tmp_path / "nope"))
    assert code == 2 and f"{tmp_path / 'nope'}: no such run directory" in err


def test_cat_prints_records_and_arrays_as_lists(run_dir: Path) -> None:
    code, out, _ = _invoke("cat", str(run_dir), "--kind", "Decision")
    assert code == 0
    (record,) = [json.loads(line) for line in out.splitlines()]
    assert (record["seq"], record["ts"], record["kind"]) == (20, 99_000, "Decision")
    assert record["data"]["agents"] == [7, 8]
    assert record["data"]["actions"] == [[1, 0], [-1, 1]]
    assert record["data"]["target_qty"] == [[5, 0], [-5, 2]]
    assert record["data"]["kind"] == "Decision" and record["data"]["step"] == 3


def test_cat_raw_keeps_the_stored_array_form(run_dir: Path) -> None:
    out = _invoke("cat", str(run_dir), "--kind", "Decision", "--raw")[1]
    assert json.loads(out)["data"]["actions"] == ["|i1", [2, 2], "AQD/AQ=="]


def test_cat_filters(run_dir: Path) -> None:
    out = _invoke("cat", str(run_dir), "--from-seq", "5", "--limit", "3")[1]
    assert [json.loads(line)["seq"] for line in out.splitlines()] == [5, 6, 7]
    out = _invoke("cat", str(run_dir), "-k", "Bar", "-k", "Decision", "--from-seq", "19")[1]
    assert [json.loads(line)["kind"] for line in out.splitlines()] == ["Bar", "Decision"]
    code, _, err = _invoke("cat", str(run_dir), "--kind", "Nope")
    assert code == 2 and "unknown event kind Nope" in err


def test_recover_truncates_a_torn_tail_then_verify_passes(run_dir: Path) -> None:
    path = run_dir / "wal" / "000000.jsonl"
    data = path.read_bytes()
    path.write_bytes(data[:-100])
    assert _invoke("verify", str(run_dir))[0] == 1
    code, out, _ = _invoke("recover", str(run_dir))
    assert code == 0 and "truncated 000000.jsonl" in out and "seq 20" in out
    code, out, _ = _invoke("verify", str(run_dir))
    assert code == 0 and "20 records" in out
    code, out, _ = _invoke("recover", str(run_dir))
    assert code == 0 and "nothing to recover" in out


def test_recover_refuses_mid_wal_corruption(run_dir: Path) -> None:
    _tamper(run_dir, 3)
    before = (run_dir / "wal" / "000000.jsonl").read_bytes()
    code, _, err = _invoke("recover", str(run_dir))
    assert code == 1 and "seq 3" in err and "nothing was truncated" in err
    assert (run_dir / "wal" / "000000.jsonl").read_bytes() == before


def test_humanize_only_changes_arrays() -> None:
    start = SessionStart(
        run_id=RUN, session_id="s", profile="sim", universe="u",
        instruments=[InstrumentSpec(symbol="AAPL"), InstrumentSpec(symbol="MSFT", tick_size="1")],
    )  # fmt: skip
    assert humanize(start) == msgspec.to_builtins(start)
    assert next(iter(humanize(start))) == "kind"
    expected = msgspec.to_builtins(_decision())
    expected.update(agents=[7, 8], actions=[[1, 0], [-1, 1]], target_qty=[[5, 0], [-5, 2]])
    assert humanize(_decision()) == expected


def test_cat_by_kind_gives_the_records_a_quiet_run_stands_for(tmp_path: Path) -> None:
    """A backtest journals runs of rows as QuietRun records; --kind lists their rows'
    records of that kind too, each under its run's seq, in row order."""
    cfg = RunConfig(
        agents=[{"kind": "sma-crossover", "fast": [5], "slow": [20]}],
        data={"source": "sp500", "end": "2001-12-31"},
        report=False,
    )
    run = execute_run(cfg, run_id="cat", out_dir=tmp_path).run_dir
    expanded = [r for r in row_records(read_records(run / "wal")) if r.kind in ("Fills", "Orders")]
    code, out, _ = _invoke("cat", str(run), "-k", "Fills", "-k", "Orders")
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert [(x["seq"], x["kind"], x["data"]["step"]) for x in lines] == [
        (r.seq, r.kind, r.data.step) for r in expanded
    ]
    assert len(lines) > 10 and len({x["seq"] for x in lines}) < len(lines)  # runs held some
    limited = _invoke("cat", str(run), "-k", "Fills", "--limit", "3")[1].splitlines()
    assert len(limited) == 3


def _edit_last_line(run_dir: Path, edit: Callable[[bytes], bytes]) -> bytes:
    """Edit the last line of the last segment in place (its newline kept); the new bytes."""
    path = list_segments(run_dir / "wal")[-1]
    lines = path.read_bytes().splitlines(keepends=True)
    lines[-1] = edit(lines[-1])
    path.write_bytes(b"".join(lines))
    return path.read_bytes()


@pytest.mark.parametrize(
    ("edit", "complete"),
    [
        (lambda line: line.replace(b'"reason"', b"'reason'", 1), True),  # a quote, newline kept
        (lambda line: b"[" + line[1:], True),  # the first byte
        (lambda line: line + b'{"seq":', False),  # an unterminated fragment after it
    ],
    ids=["quote", "first-byte", "fragment"],
)
def test_recover_cuts_nothing_in_a_finished_run(
    tmp_path: Path, tiny_run: TinyRun, edit: Callable[[bytes], bytes], complete: bool
) -> None:
    """A run writes manifest.json last: its WAL cannot have a torn tail, so recover names
    what is wrong and deletes nothing (it used to drop the edited SessionEnd as "torn")."""
    run_dir = copy(tiny_run.run_dir, tmp_path)
    code, out, _ = _invoke("recover", str(run_dir))
    assert code == 0 and "nothing to recover" in out
    after = _edit_last_line(run_dir, edit)
    seq = after.count(b"\n") - complete  # the bad line: the edited one, or the fragment
    code, out, err = _invoke("recover", str(run_dir))
    assert code == 1 and "truncated" not in out
    assert f"seq {seq} (line {seq + 1})" in err and "nothing was truncated" in err
    assert "the run is finished" in err and "Traceback" not in err
    assert list_segments(run_dir / "wal")[-1].read_bytes() == after


_AGENTS = re.compile(rb'"agents":\["[^"]*",\[[^\]]*\],"[^"]*"\]')


@pytest.mark.parametrize(
    "hostile",
    [
        b'["<i8",[1000000000000],"CQAAAAAAAAA="]',
        b'["|O",[1],"CQAAAAAAAAA="]',
        b'["~u2+base",[1],"CQAAAAAAAAA="]',
        b'["<i8~u1+0",[1000000000000],"CQAAAAAAAAA="]',
    ],
    ids=["shape", "object", "bad-packing", "packed-shape-bomb"],
)
def test_cat_names_a_rechained_record_whose_array_does_not_decode(
    tmp_path: Path, tiny_run: TinyRun, hostile: bytes
) -> None:
    """A chain-valid WAL (edited and re-chained) can hold any array; ``wal cat`` says which
    record in one line, exit 1, instead of an internal error."""
    run_dir = copy(tiny_run.run_dir, tmp_path)
    (run_dir / "gates.json").unlink(missing_ok=True)
    segment = list_segments(run_dir / "wal")[0]
    seq, line = next(
        (i, x) for i, x in enumerate(segment.read_bytes().splitlines()) if _AGENTS.search(x)
    )
    rechain(run_dir, seq, _AGENTS.sub(b'"agents":' + hostile, canonical_of(line), count=1))
    code, _, err = _invoke("verify", str(run_dir))  # the chain holds, the signature does not
    assert code == 1 and "manifest.json changed after key" in err
    (run_dir / "manifest.sig").unlink()  # as the attacker would: an unsigned run
    assert _invoke("verify", str(run_dir))[0] == 0
    code, _, err = _invoke("cat", str(run_dir), "--kind", "Decision")
    assert code == 1 and f"{segment.name}: seq {seq} (Decision): " in err
    assert "internal error" not in err and len(err.strip().splitlines()) == 1


def test_verify_holds_the_segments_to_the_manifests_list(tmp_path: Path, tiny_run: TinyRun) -> None:
    """The chain runs across segments, so a merge or a record count the manifest does not
    list passes it; the manifest's segment list (names, sizes, records) does not."""
    run = copy(tiny_run.run_dir, tmp_path)
    assert _invoke("verify", str(run))[0] == 0
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["wal_segments"][0]["records"] += 1
    (run / "manifest.json").write_text(json.dumps(manifest))
    code, _, err = _invoke("verify", str(run))
    assert code == 1 and "the manifest lists" in err and "Traceback" not in err
    manifest["wal_segments"][0]["records"] -= 1
    manifest["wal_segments"][0]["bytes"] += 1
    (run / "manifest.json").write_text(json.dumps(manifest))
    code, _, err = _invoke("verify", str(run))
    assert code == 1 and "bytes, the manifest lists" in err


def test_a_wal_emptied_of_its_segments_says_so(tmp_path: Path, tiny_run: TinyRun) -> None:
    run = copy(tiny_run.run_dir, tmp_path)
    for segment in list_segments(run / "wal"):
        segment.unlink()
    code, _, err = _invoke("verify", str(run))
    assert code == 1 and "segment (none)" in err and "the WAL holds no record" in err


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m.update(wal_records=m["wal_records"] + 1), "the manifest's wal_records is"),
        (lambda m: m["wal_segments"][0].update(sha256="0" * 64), "sha256 "),
        (lambda m: m["wal_segments"][0].update(first_seq=7), "the manifest lists"),
        (lambda m: m["wal_segments"][0].update(last_seq=1), "the manifest lists"),
    ],
)
def test_verify_holds_the_record_count_seqs_and_sha256_to_the_manifest(
    tmp_path: Path, tiny_run: TinyRun, edit: Callable[[dict], None], message: str
) -> None:
    """Fields of the manifest that describe the WAL and that verify ignored before: an
    edit of one passed ``wal verify`` and ``replay``."""
    run = copy(tiny_run.run_dir, tmp_path)
    manifest = json.loads((run / "manifest.json").read_text())
    edit(manifest)
    (run / "manifest.json").write_text(json.dumps(manifest))
    code, _, err = _invoke("verify", str(run))
    assert code == 1 and message in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("field", ["seed", "steps", "agents", "created_at", "code_hash"])
def test_verify_checks_the_manifest_signature(
    tmp_path: Path, tiny_run: TinyRun, field: str
) -> None:
    """A field only manifest.sig covers (no WAL check sees it) edited: verify names the
    signature that no longer holds; before, it said ok."""
    run = copy(tiny_run.run_dir, tmp_path)
    code, out, _ = _invoke("verify", str(run), "--json")
    signed = json.loads(out)["signature"]
    assert code == 0 and signed["status"] == "signed" and signed["key_id"]
    manifest = json.loads((run / "manifest.json").read_text())
    manifest[field] = manifest[field] + (1 if isinstance(manifest[field], int) else "x")
    (run / "manifest.json").write_text(json.dumps(manifest))
    code, _, err = _invoke("verify", str(run))
    assert code == 1
    assert f"{run}: manifest.json changed after key {signed['key_id']} signed it" in err
    code, out, _ = _invoke("verify", str(run), "--json")
    report = json.loads(out)
    assert code == 1 and report["ok"] is False and report["signature"]["status"] == "bad"


def test_verify_of_an_unsigned_run_says_so(tmp_path: Path, tiny_run: TinyRun) -> None:
    run = copy(tiny_run.run_dir, tmp_path)
    (run / "manifest.sig").unlink()
    code, out, _ = _invoke("verify", str(run))
    assert code == 0 and "(manifest unsigned)" in out
    (run / "manifest.sig").write_text("{")
    code, _, err = _invoke("verify", str(run))
    assert code == 1 and "manifest.sig is not a valid signature file" in err


def test_verify_names_a_signature_of_another_public_key(tmp_path: Path, tiny_run: TinyRun) -> None:
    """manifest.sig's public key swapped for another key's: the signature no longer holds."""
    run = copy(tiny_run.run_dir, tmp_path)
    sig = json.loads((run / "manifest.sig").read_text())
    sig["public_key"] = "ed25519:" + "A" * 43 + "="
    (run / "manifest.sig").write_text(json.dumps(sig))
    code, _, err = _invoke("verify", str(run))
    assert code == 1
    assert (
        err.strip()
        == f"error: {run}: manifest.sig: the signature does not verify (forged or edited)"
    )
