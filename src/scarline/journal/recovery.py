"""Torn-tail recovery: a crash can leave the last line half written; everything before it is kept.

Only the very last line of the last segment may be dropped. A bad record anywhere earlier is
corruption, and nothing is truncated: the caller gets a :class:`WalError` naming it.
"""

from __future__ import annotations

import os
from pathlib import Path

import msgspec
import structlog

from scarline.errors import WalError
from scarline.journal.lock import DirLock
from scarline.journal.scan import Scan, scan
from scarline.journal.segments import require_wal_dir


class Recovery(msgspec.Struct, frozen=True):
    """What a recovery truncated: ``segment`` cut at byte ``offset``, dropping record ``seq``."""

    segment: str
    offset: int
    dropped_bytes: int
    seq: int


def recover(wal_dir: Path, run_id: str) -> Recovery | None:
    """Truncate a torn last line of ``wal_dir``; ``None`` when the WAL is intact.

    Raises :class:`WalError` when a record before the last line is bad, or when a writer has
    the WAL open.
    """
    path = require_wal_dir(wal_dir)
    with DirLock(path):
        return repair(path, run_id)[1]


def repair(wal_dir: Path, run_id: str) -> tuple[Scan, Recovery | None]:
    """Check the whole WAL and truncate a torn tail (the caller holds the directory lock).

    Returns the scan (its ``records``/``head`` describe the kept prefix) and what was dropped.
    """
    found = scan(wal_dir, run_id)
    bad = found.bad
    if bad is None:
        return found, None
    where = f"segment {bad.segment}, seq {bad.seq} (line {bad.line})"
    if found.foreign_run is not None:
        raise WalError(f"WAL {wal_dir} belongs to run {found.foreign_run!r}, not {run_id!r}")
    if not found.bad_is_tail:
        raise WalError(
            f"WAL {wal_dir} is corrupt at {where}: {bad.reason}; it is not the last line, "
            "so nothing was truncated (see `scarline wal verify`)"
        )
    segment = wal_dir / bad.segment
    with segment.open("r+b") as f:
        size = f.seek(0, os.SEEK_END)
        f.truncate(found.bad_offset)
        f.flush()
        os.fsync(f.fileno())
    dropped = Recovery(
        segment=bad.segment,
        offset=found.bad_offset,
        dropped_bytes=size - found.bad_offset,
        seq=bad.seq,
    )
    structlog.get_logger("scarline.journal").warning(
        "wal.torn_tail_truncated",
        segment=dropped.segment,
        offset=dropped.offset,
        dropped_bytes=dropped.dropped_bytes,
        seq=dropped.seq,
    )
    return found, dropped
