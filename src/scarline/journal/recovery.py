"""Torn-tail recovery: a crash can leave the last line half written; everything before it is kept.

Only the very last line of the last segment may be dropped, and only when it is incomplete
(see :func:`torn`). A bad record anywhere earlier, or a complete last record that fails its
check, is corruption or tampering, and nothing is truncated: the caller gets a
:class:`WalError` naming it. A finished run (its ``manifest.json`` is written after the WAL
closed) has no torn tail at all, so :func:`recover` truncates nothing there: whatever is
wrong with its last line came later, and is reported.
"""

from __future__ import annotations

import os
from pathlib import Path

import msgspec
import structlog

from scarline.errors import WalError
from scarline.journal.lock import DirLock
from scarline.journal.scan import MAX_LINE_BYTES, Scan, scan
from scarline.journal.segments import require_own_file, require_wal_dir
from scarline.rundir import RunDir


class Recovery(msgspec.Struct, frozen=True):
    """What a recovery truncated: ``segment`` cut at byte ``offset``, dropping record ``seq``."""

    segment: str
    offset: int
    dropped_bytes: int
    seq: int


def recover(wal_dir: Path, run_id: str) -> Recovery | None:
    """Truncate a torn last line of ``wal_dir``; ``None`` when the WAL is intact.

    Raises :class:`WalError` when a record before the last line is bad, when the last line
    is complete but fails its check (tampering, named by seq), when the run is finished and
    its WAL is bad anywhere (see :func:`finished_run`), or when a writer has the WAL open.
    """
    path = require_wal_dir(wal_dir)
    with DirLock(path):
        return repair(path, run_id, finished_run(path))[1]


def finished_run(wal_dir: Path) -> Path | None:
    """The run's ``manifest.json`` beside ``wal_dir`` if there is one: the run finished.

    A run writes its manifest last, after its WAL is flushed, synced and closed, so a
    finished run cannot have a torn tail: whatever is wrong with its WAL came later."""
    manifest = wal_dir.parent / RunDir.MANIFEST
    return manifest if manifest.is_file() else None


def torn(segment: Path, offset: int) -> bool:
    """Whether the last line of ``segment`` (from byte ``offset``) is a torn write: no
    trailing newline, or not JSON at all (a fragment, or the zeros a crash can leave: the
    file's size can reach the disk before its data), or longer than any record
    (:data:`~scarline.journal.scan.MAX_LINE_BYTES`, never read whole).

    A complete JSON line with a bad hash is not torn: a crash cannot write it, an edit can,
    and deleting it would erase the evidence. So it is reported, never truncated.
    """
    with segment.open("rb") as f:
        size = f.seek(0, os.SEEK_END)
        if size <= offset:
            return False
        f.seek(size - 1)
        if f.read(1) != b"\n" or size - offset > MAX_LINE_BYTES:
            return True
        f.seek(offset)
        line = f.read()
    try:
        msgspec.json.decode(line)
    except ValueError:  # msgspec.DecodeError and bad UTF-8
        return True
    return False


def repair(
    wal_dir: Path, run_id: str, finished: Path | None = None
) -> tuple[Scan, Recovery | None]:
    """Check the whole WAL and truncate a torn tail (the caller holds the directory lock).

    Returns the scan (its ``records``/``head`` describe the kept prefix) and what was dropped;
    raises :class:`WalError` naming the record when the first bad one is not a torn last line,
    or when the run is ``finished`` (its manifest's path: see :func:`finished_run`).
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
    if finished is not None:
        raise WalError(
            f"WAL {wal_dir} is bad at {where}: {bad.reason}; but the run is finished "
            f"({finished} is written after the WAL closed, so no crash tore it): nothing was "
            "truncated (see `scarline wal verify`)"
        )
    segment = wal_dir / bad.segment
    if not torn(segment, found.bad_offset):
        raise WalError(
            f"WAL {wal_dir}: the last record, {where}, is complete but fails its check "
            f"({bad.reason}): that is tampering or corruption, not a torn write, so nothing "
            "was truncated (see `scarline wal verify`)"
        )
    require_own_file(segment, "truncate")
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
