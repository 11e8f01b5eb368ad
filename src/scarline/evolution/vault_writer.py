"""Genome snapshots written on a worker thread: the kernel hashes, the disk catches up.

A life cycle at N = 4096 records ~2000 genomes (newborns and the culled); writing them as
files on the kernel's thread cost ~30 % of an evolving arena's throughput. The worker takes
whole batches in order, so the vault's content is the same as with direct writes; file I/O
releases the GIL, so it overlaps the next steps. An error on the worker is raised at
:meth:`close` (and later calls), never lost.
"""

from __future__ import annotations

import queue
import threading

from scarline.evolution.vault import Vault


class VaultWriter:
    def __init__(self, vault: Vault) -> None:
        self.vault = vault
        self._queue: queue.Queue[list[tuple[bytes, str]] | None] = queue.Queue()
        self._error: BaseException | None = None
        self._closed = False
        self._thread = threading.Thread(target=self._work, name="vault-writer", daemon=True)
        self._thread.start()

    def __call__(self, items: list[tuple[bytes, str]]) -> None:
        """Queue a batch of ``(canonical bytes, policy hash)`` (a :data:`GenomeSink`)."""
        if self._closed:
            raise RuntimeError("VaultWriter is closed")
        self._raise()
        self._queue.put(list(items))

    def close(self) -> None:
        """Wait until every queued batch is on disk; raise the worker's error if any."""
        if not self._closed:
            self._closed = True
            self._queue.put(None)
            self._thread.join()
        self._raise()

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def _work(self) -> None:
        while (batch := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self.vault.put_many(batch)
                except BaseException as exc:  # kept for close(): a thread cannot raise
                    self._error = exc
