"""Bytes on disk are exactly the documented format; appends are guarded; fsync follows policy."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import msgspec
import numpy as np
import pytest
from wal_events import RUN, bar

from scarline.errors import WalError
from scarline.events import Array, Decision
from scarline.instrument import InstrumentSpec
from scarline.journal import HashOnlyWal, WalWriter, genesis
from scarline.journal.format import canonical_of
from scarline.journal.segments import list_segments


def test_genesis_is_blake2b_256_of_the_run_id() -> None:
    assert genesis("r1") == hashlib.blake2b(b"r1", digest_size=32).digest()
    assert HashOnlyWal("r1").head == genesis("r1").hex()


def test_line_layout_and_chain_definition(tmp_path: Path) -> None:
    wal = tmp_path / "wal"
    with WalWriter(wal, RUN) as w:
        w.append(bar(0), 5)
        w.append(bar(1), 7)
        head = w.head
    lines = (wal / "000000.jsonl").read_bytes().split(b"\n")
    assert lines[-1] == b"" and len(lines) == 3
    data0 = msgspec.json.encode(bar(0))
    canonical0 = b'{"seq":0,"ts":5,"kind":"Bar","data":' + data0 + b"}"
    h0 = hashlib.blake2b(genesis(RUN) + canonical0, digest_size=32).hexdigest()
    assert lines[0] == canonical0[:-1] + b',"h":"' + h0.encode() + b'"}'
    assert canonical_of(lines[0]) == canonical0 == lines[0][:-72] + b"}"
    assert list(msgspec.json.decode(lines[0])) == ["seq", "ts", "kind", "data", "h"]
    assert msgspec.json.decode(lines[0])["data"]["kind"] == "Bar"
    h1 = hashlib.blake2b(bytes.fromhex(h0) + canonical_of(lines[1]), digest_size=32).hexdigest()
    assert msgspec.json.decode(lines[1])["h"] == h1 == head


def test_oversized_record_gets_a_segment_of_its_own(tmp_path: Path) -> None:
    wal = tmp_path / "wal"
    big = Decision(
        run_id=RUN, session_id="s0", decision_id="d", step=0, policy="p",
        agents=Array.of(np.arange(200)), actions=Array.of(np.zeros((200, 1), np.int8)),
        target_qty=Array.of(np.zeros((200, 1), np.int64)),
    )  # fmt: skip
    with WalWriter(wal, RUN, segment_bytes=1_000, fsync="never") as w:
        w.append(bar(0), 0)
        w.append(big, 1)
        w.append(bar(2), 2)
    sizes = [p.read_bytes().count(b"\n") for p in list_segments(wal)]
    assert sizes == [1, 1, 1]
    assert (wal / "000001.jsonl").stat().st_size > 1_000


@pytest.mark.parametrize(
    ("event", "ts", "match"),
    [
        (InstrumentSpec(symbol="X"), 0, "not a canonical event"),
        (bar(0), 1.5, "ts must be an int"),
        (bar(0), np.int64(3), "ts must be an int"),
    ],
)
def test_unreadable_appends_are_refused_before_anything_changes(
    tmp_path: Path, event: object, ts: object, match: str
) -> None:
    for sink in (WalWriter(tmp_path / "wal", RUN), HashOnlyWal(RUN)):
        with sink:
            head = sink.head
            with pytest.raises(WalError, match=match):
                sink.append(event, ts)  # type: ignore[arg-type]
            assert (sink.head, sink.next_seq) == (head, 0)
    assert (tmp_path / "wal" / "000000.jsonl").read_bytes() == b""


def test_append_after_close_is_refused(tmp_path: Path) -> None:
    w = WalWriter(tmp_path / "wal", RUN)
    w.close()
    w.close()  # idempotent
    with pytest.raises(WalError, match="closed"):
        w.append(bar(0), 0)


@pytest.mark.parametrize(
    ("policy", "every", "syncs"),
    [("always", 1, 35 + 1), ("batch", 10, 3 + 1), ("never", 10, 0)],
)
def test_fsync_policy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, policy: str, every: int, syncs: int
) -> None:
    calls: list[int] = []
    real = os.fdatasync

    def counting(fd: int) -> None:
        calls.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fdatasync", counting)
    with WalWriter(tmp_path / "wal", RUN, fsync=policy, fsync_every=every) as w:  # type: ignore[arg-type]
        for i in range(35):
            w.append(bar(i), i)
    assert len(calls) == syncs  # per policy, plus one on close (none for "never")
    assert (tmp_path / "wal" / "000000.jsonl").read_bytes().count(b"\n") == 35


def test_records_reach_the_os_on_flush(tmp_path: Path) -> None:
    with WalWriter(tmp_path / "wal", RUN, fsync="never") as w:
        w.append(bar(0), 0)
        w.flush()
        assert (tmp_path / "wal" / "000000.jsonl").read_bytes().count(b"\n") == 1


def test_only_ascii_digit_names_are_segments(tmp_path: Path) -> None:
    """ "Other files in wal/ are ignored": a name of six non-ASCII digits (which ``int`` reads
    as a number) was listed as a segment and broke verify and replay."""
    wal = tmp_path / "wal"
    with WalWriter(wal, RUN, fsync="never") as w:
        w.append(bar(0), 0)
    (wal / "\u0660\u0660\u0660\u0660\u0660\u0661.jsonl").write_bytes(b"notes\n")
    (wal / "\uff10\uff10\uff10\uff10\uff10\uff12.jsonl").write_bytes(b"notes\n")
    assert [p.name for p in list_segments(wal)] == ["000000.jsonl"]
    with WalWriter(wal, RUN, fsync="never") as w:  # resumes the real segment
        assert w.append(bar(1), 1) == 1
