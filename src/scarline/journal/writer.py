"""Appending to a run's WAL: encode, chain, write; rotate segments by size; fsync by policy."""

from __future__ import annotations

import hashlib
import os
import sys
from binascii import hexlify
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Literal

from scarline.errors import WalError
from scarline.events import Event
from scarline.journal.format import is_canonical, segment_name, unappendable
from scarline.journal.lock import DirLock
from scarline.journal.record_encoder import RecordEncoder, packs_arrays
from scarline.journal.recovery import Recovery, repair
from scarline.journal.segments import require_own_file, segment_index

FsyncPolicy = Literal["always", "batch", "never"]

_WRITE_BUFFER = 1 << 20
_BIG = 1 << 16  # canonical bytes from which a record is hashed and written without a copy
_HAND_OFF = 1 << 16  # batch: encoded bytes gathered before they go to the writer thread
_LINE_TAIL = 128  # bytes a record's line adds to its encoded bytes: the chain hash, at most
_IN_FLIGHT = 32  # batch: chunks queued on the writer thread before append waits for it


class WalWriter:
    """Appends events to ``wal_dir``, each record's ``h`` chained onto the previous one.

    Opening an existing WAL checks it end to end, truncates a torn last line (see
    :attr:`recovery`) and resumes the seq and chain; a bad record before the last line makes
    it refuse with :class:`WalError`. The directory is locked while the writer is open.

    fsync: ``always`` syncs every record before ``append`` returns; ``batch`` hands records to
    the OS every ``fsync_every`` appends and syncs them on a helper thread while appending goes
    on (waiting for that sync when the next batch is due, so at most two batches are ever
    unsynced), and syncs on rotation, :meth:`flush` and :meth:`close`; ``never`` only flushes.

    With ``batch`` the helper thread also hashes, writes and rotates big records (64 KiB and
    more), in append order: at N = 4096 agents that takes ~1 MB of hashing and writing per
    kernel step off the kernel's thread (the GIL is released while big records are hashed and
    written). A smaller record is chained and written by ``append`` itself whenever the helper
    has written all it was handed: a single strategy's records are a few hundred bytes, and
    handing each to another thread cost more in GIL hand-offs than hashing it (~25 % of an
    N = 1 backtest). A sync still runs on the helper meanwhile, unless the record would rotate
    the segment it flushes. The bytes and the chain are the same as on one thread;
    :attr:`head`, :meth:`flush` and :meth:`close` wait for the helper, whose errors (e.g.
    ENOSPC) are raised by the next call.
    """

    __slots__ = (
        "_chunk",
        "_chunk_bytes",
        "_closed",
        "_encode",
        "_every",
        "_in_flight",
        "_lane",
        "_lock",
        "_pending",
        "_segments",
        "_seq",
        "_sync_at",
        "_wal_dir",
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
        self._closed = True  # until the directory is locked and the log repaired
        self._wal_dir = Path(wal_dir)
        self._wal_dir.mkdir(parents=True, exist_ok=True)
        self._lock = DirLock(self._wal_dir)
        self._lock.acquire()
        try:
            found, self.recovery = repair(self._wal_dir, run_id)
            if found.segments:
                require_own_file(found.segments[-1], "append to")
            index = segment_index(found.segments[-1]) if found.segments else 0
            self._segments = _Segments(
                self._wal_dir, index, not found.segments, found.head, segment_bytes, fsync
            )
        except BaseException:
            self._lock.release()
            raise
        self._encode = RecordEncoder(
            bool(found.segments) and packs_arrays(found.segments[0])
        ).encode
        self._seq = found.records
        self._every = {"always": 1, "batch": fsync_every, "never": sys.maxsize}[fsync]
        self._sync_at = self._seq + self._every
        self._lane = ThreadPoolExecutor(1, "wal-writer") if fsync == "batch" else None
        self._chunk: list[bytes] = []  # encoded records not yet handed to the lane
        self._chunk_bytes = 0
        self._in_flight: deque[Future[None]] = deque()
        self._pending: Future[None] | None = None
        self._closed = False

    def append(self, event: Event, ts: int) -> int:
        """Write ``event`` at time ``ts`` (int ns) as the next record; returns its seq."""
        if not is_canonical(event) or type(ts) is not int:
            raise unappendable(event, ts)
        segments = self._segments
        if self._closed or segments.error is not None:
            self._check_open()
        seq = self._seq
        canonical = self._encode(seq, ts, event)
        if self._lane is None or (
            len(canonical) < _BIG and (self._nothing_pending() or self._lane_idle(len(canonical)))
        ):
            segments.emit(canonical)
        else:
            self._chunk.append(canonical)
            self._chunk_bytes += len(canonical)
            if self._chunk_bytes >= _HAND_OFF:
                self._hand_off()
        self._seq = seq = seq + 1
        if seq >= self._sync_at:
            self._sync_batch()
        return seq - 1

    @property
    def head(self) -> str:
        """Hex ``h`` of the last record (the genesis hash of the run when the WAL is empty)."""
        if not self._closed:
            self._drain()
        return self._segments.prev.hex()

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
            try:
                if self._lane is not None:
                    self._lane.shutdown()
                self._segments.close()  # raises again when its buffer cannot be written
            finally:
                self._lock.release()  # else a disk-full run locks its WAL till the process ends

    def __del__(self) -> None:
        """A writer dropped without :meth:`close` still writes what it was given."""
        if not getattr(self, "_closed", True):
            self.close()

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
        self._drain()
        self._await_behind()
        self._segments.sync()
        self._sync_at = self._seq + self._every

    def _sync_batch(self) -> None:
        """A batch is due: ``always`` syncs now; ``batch`` has the helper thread flush and
        fdatasync what it has written by then while appending goes on."""
        if self._lane is None:
            self._sync()
            return
        self._hand_off()
        self._await_behind()
        self._pending = self._lane.submit(self._segments.sync_on_lane)
        self._sync_at = self._seq + self._every

    def _await_behind(self) -> None:
        """Wait for the previous batch's sync, re-raising its error (e.g. EIO) here."""
        if self._pending is not None:
            pending, self._pending = self._pending, None
            pending.result()

    def _nothing_pending(self) -> bool:
        """Nothing handed to the helper, gathered or syncing: :meth:`_lane_idle`'s usual
        answer in three reads (folded into it, the append measured ~5 % slower)."""
        return not self._in_flight and self._pending is None and not self._chunk

    def _lane_idle(self, size: int) -> bool:
        """``batch``: the helper thread has written everything handed to it, so this thread
        may chain and write a record of ``size`` encoded bytes itself, in order: first any
        gathered ones (re-raising a helper's error). A batch's sync may still be running on
        the helper (the file object serializes its flush with these writes), unless the
        record would rotate the segment, which closes the file that sync flushes."""
        in_flight = self._in_flight
        while in_flight and in_flight[0].done():
            in_flight.popleft().result()
        if in_flight:
            return False
        pending = self._pending
        if pending is not None and pending.done():  # a finished sync: raise its error now
            self._pending = None
            pending.result()
        syncing = self._pending is not None
        if syncing and self._chunk_bytes + size + _LINE_TAIL > self._segments.room:
            return False
        if self._chunk:
            chunk, self._chunk, self._chunk_bytes = self._chunk, [], 0
            for canonical in chunk:
                self._segments.emit(canonical)
        return True

    def _hand_off(self) -> None:
        """Queue the gathered records on the helper thread; wait only if it is far behind."""
        if self._lane is None or not self._chunk:
            return
        chunk, self._chunk, self._chunk_bytes = self._chunk, [], 0
        in_flight = self._in_flight
        in_flight.append(self._lane.submit(self._segments.emit_on_lane, chunk))
        while in_flight and (in_flight[0].done() or len(in_flight) > _IN_FLIGHT):
            in_flight.popleft().result()  # re-raises the helper's error here

    def _drain(self) -> None:
        """Wait until every record appended so far is written (or raise why it was not)."""
        self._hand_off()
        while self._in_flight:
            self._in_flight.popleft().result()
        if self._segments.error is not None:
            raise self._segments.error

    def _check_open(self) -> None:
        if self._closed:
            raise WalError(f"WAL writer for {self._wal_dir} is closed")
        if self._segments.error is not None:
            raise self._segments.error


class _Segments:
    """The chain and the segment files: hashes, writes and rotates encoded records in order.

    Used on the writer's thread, or (``batch``) only on its helper thread between the
    writer's waits. It holds no reference to the :class:`WalWriter`, so a dropped writer is
    finalized on the thread that dropped it, never on the helper thread.
    """

    __slots__ = (
        "_durable",
        "_fh",
        "_h0",
        "_index",
        "_segment_bytes",
        "_size",
        "_wal_dir",
        "_write",
        "error",
        "prev",
    )

    def __init__(
        self,
        wal_dir: Path,
        index: int,
        new: bool,
        head: bytes,
        segment_bytes: int,
        fsync: FsyncPolicy,
    ) -> None:
        self._wal_dir = wal_dir
        self._durable = fsync != "never"
        self._index = index
        self._fh = self._open_segment(new=new)
        self._write = self._fh.write
        self._size = self._fh.tell()
        self._segment_bytes = segment_bytes
        self._h0 = hashlib.blake2b(digest_size=32)
        self.prev = head
        self.error: BaseException | None = None  # the helper thread's first failure (sticky)

    def emit(self, canonical: bytes) -> None:
        """Chain and write one record, first in a new segment if it does not fit this one."""
        if len(canonical) >= _BIG:
            self._emit_big(canonical)
            return
        h = self._h0.copy()
        h.update(self.prev)
        h.update(canonical)
        digest = h.digest()
        line = canonical[:-1] + b',"h":"' + hexlify(digest) + b'"}\n'
        size = self._size + len(line)
        if size > self._segment_bytes:
            size = self._rotate_and_write((line,))
        else:
            self._write(line)
        self.prev = digest
        self._size = size

    def _emit_big(self, canonical: bytes) -> None:
        """A batch record of a whole population: hashed and written without copying it
        (twice ~1 MB per step otherwise)."""
        h = self._h0.copy()
        h.update(self.prev)
        h.update(canonical)
        digest = h.digest()
        parts = (memoryview(canonical)[:-1], b',"h":"' + hexlify(digest) + b'"}\n')
        size = self._size + len(parts[0]) + len(parts[1])
        if size > self._segment_bytes:
            size = self._rotate_and_write(parts)
        else:
            self._write(parts[0])
            self._write(parts[1])
        self.prev = digest
        self._size = size

    @property
    def room(self) -> int:
        """Bytes the current segment takes before the next record rotates it."""
        return self._segment_bytes - self._size

    def emit_on_lane(self, chunk: list[bytes]) -> None:
        """Helper thread: emit ``chunk`` in order; after a failure, write nothing more."""
        if self.error is not None:
            return
        try:
            for canonical in chunk:
                self.emit(canonical)
        except BaseException as err:
            self.error = err
            raise

    def sync_on_lane(self) -> None:
        """Helper thread: a batch's sync, in order with the writes before it."""
        if self.error is not None:
            return
        try:
            self.sync()
        except BaseException as err:
            self.error = err
            raise

    def sync(self) -> None:
        """Flush to the OS and (unless ``never``) fdatasync."""
        self._fh.flush()
        if self._durable:
            os.fdatasync(self._fh.fileno())

    def close(self) -> None:
        self._write = self._closed_write
        self._fh.close()

    def _rotate_and_write(self, parts: tuple[bytes | memoryview, ...]) -> int:
        """Write a line (``parts``) first in a new segment, sealing the current one (flushed,
        synced by policy) unless it is still empty; returns the segment's new size."""
        if self._size:
            self.sync()
            self._fh.close()
            self._index += 1
            self._fh = self._open_segment(new=True)
            self._write = self._fh.write
        for part in parts:
            self._write(part)
        return sum(len(part) for part in parts)

    def _open_segment(self, *, new: bool) -> BinaryIO:
        path = self._wal_dir / segment_name(self._index)
        fh = path.open("xb" if new else "ab", buffering=_WRITE_BUFFER)
        if new and self._durable:
            _fsync_dir(self._wal_dir)
        return fh

    def _closed_write(self, line: object) -> int:
        raise WalError(f"WAL writer for {self._wal_dir} is closed")


def _fsync_dir(path: Path) -> None:
    """Make a new segment's directory entry durable, not just its contents."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
