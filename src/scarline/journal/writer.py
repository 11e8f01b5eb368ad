"""Appending to a run's WAL: encode, chain, write; rotate segments by size; fsync by policy."""

from __future__ import annotations

import hashlib
import io
import os
import sys
from binascii import hexlify
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Literal

import msgspec

from scarline.errors import WalError
from scarline.events import Event
from scarline.journal.format import CANONICAL, Envelope, segment_name, unappendable
from scarline.journal.lock import DirLock
from scarline.journal.recovery import Recovery, repair
from scarline.journal.segments import segment_index

FsyncPolicy = Literal["always", "batch", "never"]

_WRITE_BUFFER = 1 << 20
_BIG = 1 << 16  # canonical bytes from which a record is hashed and written without a copy


class WalWriter:
    """Appends events to ``wal_dir``, each record's ``h`` chained onto the previous one.

    Opening an existing WAL checks it end to end, truncates a torn last line (see
    :attr:`recovery`) and resumes the seq and chain; a bad record before the last line makes
    it refuse with :class:`WalError`. The directory is locked while the writer is open.

    fsync: ``always`` syncs every record before ``append`` returns; ``batch`` hands records to
    the OS every ``fsync_every`` appends and syncs them on a helper thread while appending goes
    on (waiting for that sync when the next batch is due, so at most two batches are ever
    unsynced), and syncs on rotation, :meth:`flush` and :meth:`close`; ``never`` only flushes.
    """

    __slots__ = (
        "_closed",
        "_durable",
        "_encode",
        "_every",
        "_fh",
        "_h0",
        "_index",
        "_lock",
        "_pending",
        "_prev",
        "_segment_bytes",
        "_seq",
        "_size",
        "_sync_at",
        "_syncer",
        "_wal_dir",
        "_write",
        "recovery",
    )

    recovery: Recovery | None
    """What opening truncated (a torn tail), else ``None``."""

    def __init__(
        self,
        wal_dir: Path,
        run_id: str,
        *,
        segment_bytes: int = 64 * 2**20,
        fsync: FsyncPolicy = "batch",
        fsync_every: int = 4096,
    ) -> None:
        if segment_bytes < 1 or fsync_every < 1:
            raise ValueError("segment_bytes and fsync_every must be positive")
        if fsync not in ("always", "batch", "never"):
            raise ValueError(f"fsync must be 'always', 'batch' or 'never', not {fsync!r}")
        self._wal_dir = Path(wal_dir)
        self._wal_dir.mkdir(parents=True, exist_ok=True)
        self._durable = fsync != "never"
        self._lock = DirLock(self._wal_dir)
        self._lock.acquire()
        try:
            found, self.recovery = repair(self._wal_dir, run_id)
            self._index = segment_index(found.segments[-1]) if found.segments else 0
            self._fh = self._open_segment(new=not found.segments)
        except BaseException:
            self._lock.release()
            raise
        self._write = self._fh.write
        self._size = self._fh.tell()
        self._encode = msgspec.json.Encoder().encode
        self._h0 = hashlib.blake2b(digest_size=32)
        self._prev = found.head
        self._seq = found.records
        self._segment_bytes = segment_bytes
        self._every = {"always": 1, "batch": fsync_every, "never": sys.maxsize}[fsync]
        self._sync_at = self._seq + self._every
        self._syncer = ThreadPoolExecutor(1, "wal-fsync") if fsync == "batch" else None
        self._pending: Future[None] | None = None
        self._closed = False

    def append(self, event: Event, ts: int) -> int:
        """Write ``event`` at time ``ts`` (int ns) as the next record; returns its seq."""
        cls = type(event)
        if cls not in CANONICAL or type(ts) is not int:
            raise unappendable(event, ts)
        seq = self._seq
        canonical = self._encode(Envelope(seq, ts, cls.__name__, event))
        if len(canonical) >= _BIG:
            size = self._append_big(canonical)
        else:
            h = self._h0.copy()
            h.update(self._prev + canonical)
            digest = h.digest()
            line = canonical[:-1] + b',"h":"' + hexlify(digest) + b'"}\n'
            size = self._size + len(line)
            if size > self._segment_bytes:
                size = self._rotate_and_write((line,))
            else:
                self._write(line)
            self._prev = digest
        self._size = size
        self._seq = seq = seq + 1
        if seq >= self._sync_at:
            self._sync_batch()
        return seq - 1

    def _append_big(self, canonical: bytes) -> int:
        """A batch record of a whole population: hashed and written without copying it
        (twice ~1 MB per step otherwise); returns the segment's new size."""
        h = self._h0.copy()
        h.update(self._prev)
        h.update(canonical)
        digest = h.digest()
        parts = (memoryview(canonical)[:-1], b',"h":"' + hexlify(digest) + b'"}\n')
        size = self._size + len(parts[0]) + len(parts[1])
        if size > self._segment_bytes:
            size = self._rotate_and_write(parts)
        else:
            self._write(parts[0])
            self._write(parts[1])
        self._prev = digest
        return size

    @property
    def head(self) -> str:
        """Hex ``h`` of the last record (the genesis hash of the run when the WAL is empty)."""
        return self._prev.hex()

    @property
    def next_seq(self) -> int:
        return self._seq

    @property
    def wal_dir(self) -> Path:
        return self._wal_dir

    def flush(self) -> None:
        """Hand buffered records to the OS and, unless the policy is ``never``, sync them now."""
        self._check_open()
        self._sync()

    def close(self) -> None:
        """Flush (sync unless ``never``), close the segment, release the lock; idempotent."""
        if self._closed:
            return
        try:
            self._sync()
        finally:
            self._closed = True
            self._write = self._closed_write
            self._fh.close()
            if self._syncer is not None:
                self._syncer.shutdown()
            self._lock.release()

    def __enter__(self) -> WalWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _sync(self) -> None:
        """Flush to the OS and (unless ``never``) fdatasync before returning."""
        self._await_behind()
        self._fh.flush()
        if self._durable:
            os.fdatasync(self._fh.fileno())
        self._sync_at = self._seq + self._every

    def _sync_batch(self) -> None:
        """A batch is due: ``always`` syncs now; ``batch`` flushes to the OS now and runs the
        fdatasync on the helper thread (the GIL is released there) while appending goes on."""
        if self._syncer is None:
            self._sync()
            return
        self._await_behind()
        self._fh.flush()
        self._pending = self._syncer.submit(os.fdatasync, self._fh.fileno())
        self._sync_at = self._seq + self._every

    def _await_behind(self) -> None:
        """Wait for the helper thread's sync, re-raising its error (e.g. EIO) here."""
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def _rotate_and_write(self, parts: tuple[bytes | memoryview, ...]) -> int:
        """Write a line (``parts``) first in a new segment, sealing the current one (flushed,
        synced by policy) unless it is still empty; returns the segment's new size."""
        if self._size:
            self._check_open()
            self._sync()
            self._fh.close()
            self._index += 1
            self._fh = self._open_segment(new=True)
            self._write = self._fh.write
        for part in parts:
            self._write(part)
        return sum(len(part) for part in parts)

    def _open_segment(self, *, new: bool) -> io.BufferedWriter:
        path = self._wal_dir / segment_name(self._index)
        fh = path.open("xb" if new else "ab", buffering=_WRITE_BUFFER)
        if new and self._durable:
            _fsync_dir(self._wal_dir)
        return fh

    def _check_open(self) -> None:
        if self._closed:
            raise WalError(f"WAL writer for {self._wal_dir} is closed")

    def _closed_write(self, line: bytes | memoryview) -> int:
        self._check_open()
        return 0


def _fsync_dir(path: Path) -> None:
    """Make a new segment's directory entry durable, not just its contents."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
