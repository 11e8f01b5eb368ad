"""Resuming a WAL: re-executed records are compared, never written twice; the first record
beyond the WAL is appended on the same hash chain; a differing record is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from scarline.errors import WalError
from scarline.events import KillSwitch
from scarline.journal import WalWriter, read_records, verify
from scarline.journal.resume import ResumingJournal


def kill(step: int, reason: str = "r") -> KillSwitch:
    return KillSwitch(run_id="run", session_id="s", step=step, reason=reason, source="cli")


def test_recorded_records_are_compared_then_the_chain_goes_on(tmp_path: Path) -> None:
    wal_dir = tmp_path / "wal"
    with WalWriter(wal_dir, "run") as wal:
        for step in range(3):
            wal.append(kill(step), step)
    writer = WalWriter(wal_dir, "run")
    journal = ResumingJournal(wal_dir, "run", writer)
    assert journal.recorded == 3 and not journal.resumed
    for step in range(3):
        assert journal.append(kill(step), step) == step
    assert journal.resumed
    assert journal.append(kill(3), 3) == 3
    writer.close()
    records = list(read_records(wal_dir))
    assert [r.data.step for r in records] == [0, 1, 2, 3]  # nothing twice
    assert verify(wal_dir, "run").ok


def test_a_record_that_differs_from_the_wal_is_refused(tmp_path: Path) -> None:
    wal_dir = tmp_path / "wal"
    with WalWriter(wal_dir, "run") as wal:
        wal.append(kill(0), 0)
        wal.append(kill(1), 1)
    writer = WalWriter(wal_dir, "run")
    journal = ResumingJournal(wal_dir, "run", writer)
    journal.append(kill(0), 0)
    with pytest.raises(WalError, match=r"seq 1 \(KillSwitch\), field data.reason"):
        journal.append(kill(1, "other"), 1)
    writer.close()
    assert len(list(read_records(wal_dir))) == 2  # nothing was written


def test_an_empty_wal_appends_at_once(tmp_path: Path) -> None:
    writer = WalWriter(tmp_path / "wal", "run")
    journal = ResumingJournal(tmp_path / "wal", "run", writer)
    assert journal.resumed and journal.append(kill(0), 0) == 0
    writer.close()
