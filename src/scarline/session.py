"""What a kernel session is bound to: its ids, the journal it appends every event to, and
the operator inputs it polls. The kernel and everything that builds one (run, replay, the
gates' frozen evaluation, islands) meet here, below all of them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from scarline.events import Event, KillSwitch


@dataclass(frozen=True)
class SessionIds:
    run_id: str
    session_id: str


class Journal(Protocol):
    """Where the kernel appends records: a WAL on disk or a hash-only sink for replay."""

    def append(self, event: Event, ts: int) -> int: ...

    @property
    def head(self) -> str: ...


class OperatorInputs(Protocol):
    """Inputs that are not market data (today: the kill switch), polled once per step."""

    def poll(self, step: int) -> KillSwitch | None: ...
