"""A journal that keeps every event in memory (and the chain head), for asserting on what a
kernel journaled; shared by the kernel tests."""

from __future__ import annotations

from scarline.events import Event, QuietRun
from scarline.journal import HashOnlyWal
from scarline.journal.quiet_run import expand


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
        """The events of ``kind``, the records a ``QuietRun`` stands for among them (what
        the kernel would have journaled row by row)."""
        return [e for e in self.rows() if isinstance(e, kind)]

    def rows(self) -> list[Event]:
        """Every event, each ``QuietRun`` replaced by the records it stands for."""
        out: list[Event] = []
        for event in self.events:
            if isinstance(event, QuietRun):
                out += [e for _, e in expand(event)]
            else:
                out.append(event)
        return out
