"""What makes a value derived from a file stale: the file's stamp, and when it was taken.

A file's :class:`Stamp` is ``(size, mtime_ns, inode)``: a write changes the size or the
modification time, a replacement (write to a temporary file, rename) the inode. One case
slips through: two writes of the same size within one tick of the file system's clock (a
jiffy on Linux, a second or two on some file systems) leave the same mtime. So a value is
trusted only when it was read after its file's mtime had settled — at least
:data:`SETTLE_NS` later (git calls such entries "racily clean"). A file changed in the
last two seconds is read again on every request until then; older ones are read once.
"""

from __future__ import annotations

import os
import stat
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Generic, NamedTuple, TypeVar

SETTLE_NS = 2_000_000_000
"""How long after a file's mtime a read of it is trusted to hold its last write."""


class Stamp(NamedTuple):
    """What identifies one version of a file or directory (all 0 when it does not exist)."""

    size: int
    mtime_ns: int
    ino: int
    is_dir: bool = False


MISSING = Stamp(0, 0, 0)


def stamp_of(path: Path | str) -> Stamp:
    """The stamp of ``path`` now (:data:`MISSING` when it cannot be stat'ed)."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return MISSING
    return Stamp(st.st_size, st.st_mtime_ns, st.st_ino, stat.S_ISDIR(st.st_mode))


def settled(stamps: tuple[Stamp, ...], read_at_ns: int) -> bool:
    """Whether values read at ``read_at_ns`` from files with these stamps can be reused
    while the stamps hold: every mtime is :data:`SETTLE_NS` older than the read."""
    return all(s.mtime_ns + SETTLE_NS <= read_at_ns for s in stamps if s != MISSING)


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Lru(Generic[K, V]):
    """A map of at most ``capacity`` entries, the least recently used dropped first;
    thread-safe (the app's sync endpoints run on a thread pool)."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be >= 1, got {capacity}")
        self.capacity = capacity
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)

    def setdefault(self, key: K, make: Callable[[], V]) -> V:
        """The entry of ``key``, made (under the lock: once) when there is none."""
        with self._lock:
            value = self._items.get(key)
            if value is None:
                value = self._items[key] = make()
                while len(self._items) > self.capacity:
                    self._items.popitem(last=False)
            self._items.move_to_end(key)
            return value

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._items


class StampedValue(NamedTuple, Generic[V]):
    """A value with the stamps of the files it was read from and when it was read, and
    whatever else it was derived from (``extra``: a WAL fold's version, a snapshot)."""

    stamps: tuple[Stamp, ...]
    read_at_ns: int
    value: V
    extra: object = None

    def holds(self, stamps: tuple[Stamp, ...], extra: object = None) -> bool:
        """Still valid for files now stamped ``stamps`` (and the same ``extra``)."""
        same = extra is self.extra or extra == self.extra
        return same and stamps == self.stamps and settled(stamps, self.read_at_ns)


class StampedCache(Generic[K, V]):
    """Values derived from files, each kept (at most ``capacity``) while the stamps of its
    files hold and recomputed otherwise."""

    def __init__(self, capacity: int, now_ns: Callable[[], int]) -> None:
        self._entries: Lru[K, StampedValue[V]] = Lru(capacity)
        self._now_ns = now_ns

    def get(
        self,
        key: K,
        paths: tuple[Path, ...],
        compute: Callable[[], V],
        *,
        extra: object = None,
        keep: Callable[[V], bool] | None = None,
    ) -> V:
        """The value of ``key``, derived from ``paths`` (and ``extra``) by ``compute``
        unless the one kept still holds; a value ``keep`` refuses is not kept. Stamps are
        taken before reading, so a write during ``compute`` makes the next call compute
        again; an exception from ``compute`` keeps nothing."""
        stamps = tuple(stamp_of(p) for p in paths)
        kept = self._entries.get(key)
        if kept is not None and kept.holds(stamps, extra):
            return kept.value
        read_at = self._now_ns()
        value = compute()
        if keep is None or keep(value):
            self._entries.put(key, StampedValue(stamps, read_at, value, extra))
        return value

    def __len__(self) -> int:
        return len(self._entries)
