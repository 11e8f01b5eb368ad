"""An exclusive advisory lock on a WAL directory, so two writers (or a writer and ``recover``)
never interleave or truncate under each other. Readers and ``verify`` do not lock."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from scarline.errors import WalError


class DirLock:
    """``flock`` on the directory itself: released by the kernel if the process dies."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        fd = os.open(self._path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
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
