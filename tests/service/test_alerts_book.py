"""The alert book: kept alerts, acks by key id, and the hash-chained ``alerts.jsonl``."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from scarline.service.alert_book import AlertBook, AlertJournalError, verify_alerts
from scarline.service.alerts import Alert, alert_id

S = 1_000_000_000


def make(n: int, rule: str = "drawdown") -> Alert:
    return Alert(
        id=alert_id(rule, "population", n),
        rule=rule,
        severity="warning",
        subject="population",
        message=f"drawdown {n}%",
        step=n,
        bar_ts=n * 60 * S,
        wall_ns=n * S,
        value=float(n),
        threshold=1.0,
    )


def test_journal_round_trips_alerts_and_acks(tmp_path: Path) -> None:
    path = tmp_path / "alerts.jsonl"
    book = AlertBook(path)
    assert book.add([make(1), make(2)]) == [make(1), make(2)]
    assert book.add([make(2), make(3)]) == [make(3)]  # a known id is not journaled twice
    acked = book.ack(make(2).id, "key-ops", wall_ns=99)
    assert (acked.acked, acked.acked_by, acked.acked_wall_ns) == (True, "key-ops", 99)
    assert book.ack(make(2).id, "key-other") == acked  # the first ack stands
    head = book.head
    book.close()
    assert head == hashlib.sha256(path.read_bytes().splitlines()[-1]).hexdigest()

    records = verify_alerts(path)
    assert [r["kind"] for r in records] == ["alert", "alert", "alert", "ack"]
    assert records[3]["key_id"] == "key-ops"

    again = AlertBook(path)  # a resumed session continues the chain
    assert again.list() == [make(1), acked, make(3)]
    again.add([make(4)])
    again.close()
    assert len(verify_alerts(path)) == 5
    assert AlertBook(path, read_only=True).list(unacked=True) == [make(1), make(3), make(4)]


@pytest.mark.parametrize("change", ["edit", "delete", "insert"])
def test_a_changed_line_breaks_the_chain(tmp_path: Path, change: str) -> None:
    path = tmp_path / "alerts.jsonl"
    book = AlertBook(path)
    book.add([make(1), make(2), make(3)])
    book.close()
    lines = path.read_bytes().splitlines(keepends=True)
    if change == "edit":
        record = json.loads(lines[1])
        record["alert"]["message"] = "all is well"
        lines[1] = json.dumps(record).encode() + b"\n"
    elif change == "delete":
        del lines[1]
    else:
        lines.insert(1, lines[0])
    path.write_bytes(b"".join(lines))
    with pytest.raises(AlertJournalError, match=r"line [23]"):
        verify_alerts(path)
    with pytest.raises(AlertJournalError):
        AlertBook(path)


def test_a_torn_last_line_is_cut_on_reopen(tmp_path: Path) -> None:
    path = tmp_path / "alerts.jsonl"
    book = AlertBook(path)
    book.add([make(1)])
    book.close()
    with path.open("ab") as f:
        f.write(b'{"prev": "abc", "kind": "al')  # a crash mid-write
    book = AlertBook(path)
    assert book.list() == [make(1)]
    book.add([make(2)])
    book.close()
    assert [r["kind"] for r in verify_alerts(path)] == ["alert", "alert"]


def test_ack_unknown_id_is_a_key_error_and_the_book_is_bounded(tmp_path: Path) -> None:
    book = AlertBook(tmp_path / "alerts.jsonl", keep=3)
    book.add(make(n) for n in range(5))
    assert [a.step for a in book.list()] == [2, 3, 4]  # newest last
    with pytest.raises(KeyError):
        book.ack("../../etc/passwd", "key-ops")
    with pytest.raises(KeyError):
        book.ack(make(0).id, "key-ops")  # no longer kept
    assert book.get(make(4).id) == make(4)
    book.close()
    assert len(verify_alerts(tmp_path / "alerts.jsonl")) == 5  # the journal keeps all


def test_read_only_and_memory_books(tmp_path: Path) -> None:
    path = tmp_path / "alerts.jsonl"
    book = AlertBook(path)
    book.add([make(1)])
    book.close()
    ro = AlertBook(path, read_only=True)
    with pytest.raises(PermissionError):
        ro.ack(make(1).id, "key")
    with pytest.raises(PermissionError):
        ro.add([make(2)])
    mem = AlertBook(None)
    mem.add([make(1)])
    assert mem.ack(make(1).id, "k").acked_by == "k"
    assert not (tmp_path / "missing.jsonl").exists()
    assert AlertBook(tmp_path / "missing.jsonl", read_only=True).list() == []


def test_a_journal_that_is_not_alerts_is_a_clear_error(tmp_path: Path) -> None:
    from scarline.errors import ScarlineError

    path = tmp_path / "alerts.jsonl"
    line = json.dumps({"prev": "0" * 64, "kind": "alert", "alert": {"id": 5}}).encode()
    path.write_bytes(line + b"\n")
    with pytest.raises(ScarlineError, match=r"alerts\.jsonl: line 1 is not an alert") as err:
        AlertBook(path, read_only=True)
    assert err.value.exit_code == 2
    path.write_bytes(b"not json\n")
    with pytest.raises(ScarlineError, match="line 1 is not JSON"):
        AlertBook(path)
