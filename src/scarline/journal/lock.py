"""An exclusive advisory lock on a directory: a WAL's, so two writers (or a writer and
``recover``) never interleave or truncate under each other (readers and ``verify`` do not
lock); the ledger's; a run's while its gate report is written and bound."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from scarline.errors import WalError


class DirLock:
    """``flock`` on the directory itself: released by the kernel if the process dies.
    ``wait``: block until another holder releases it (for writes of a few milliseconds),
    instead of refusing at once."""

    def __init__(self, path: Path, *, wait: bool = False) -> None:
        self._path = path
        self._fd: int | None = None
        self._flags = fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB

    def acquire(self) -> None:
        fd = os.open(self._path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(fd, self._flags)
        except BlockingIOError:
            os.close(fd)
            raise WalError(f"WAL {self._path} is open by another writer") from None
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None

    def __del__(self) -> None:  # a writer dropped without close() must not keep the WAL locked
        self.release()

    def __enter__(self) -> DirLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
