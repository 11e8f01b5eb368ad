"""A journal that keeps every event in memory (and the chain head), for asserting on what a
kernel journaled; shared by the kernel tests."""

from __future__ import annotations

from scarline.events import Event
from scarline.journal import HashOnlyWal


class ListJournal:
    def __init__(self, run_id: str = "test") -> None:
        self.events: list[Event] = []
        self._chain = HashOnlyWal(run_id)

    def append(self, event: Event, ts: int) -> int:
        self.events.append(event)
        return self._chain.append(event, ts)

    @property
    def head(self) -> str:
        return self._chain.head

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]
