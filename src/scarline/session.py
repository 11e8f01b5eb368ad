"""What a kernel session is bound to: its ids and the journal it appends every event to
(the operator inputs it polls are :mod:`scarline.operator`'s). The kernel and everything
that builds one (run, replay, the gates' frozen evaluation, islands) meet here, below all
of them."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from scarline.errors import ScarlineError
from scarline.events import Event

MAX_RUN_ID = 128
RUN_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
"""A run id names a directory: a letter or digit, then at most 127 letters, digits, ``.``,
``_`` or ``-`` (no ``/``, no whitespace, no leading dot), and never ``..``."""


_AGENT_ID = re.compile(r"[0-9]+")


def is_agent_id(ref: str) -> bool:
    """Whether ``ref`` is an agent id: ASCII digits only (``str.isdigit`` also takes '²',
    which ``int`` refuses with a traceback, and '١', which ``int`` reads as 1)."""
    return _AGENT_ID.fullmatch(ref) is not None


class RunIdError(ScarlineError):
    """A run id that is not a safe directory name, or a run directory outside its root."""

    exit_code = 2


def check_run_id(run_id: str) -> str:
    """``run_id`` if it matches :data:`RUN_ID_PATTERN` and holds no ``..``."""
    if not isinstance(run_id, str):
        raise RunIdError(f"run id: expected text, not {type(run_id).__name__}")
    if not run_id:
        raise RunIdError("run id: empty")
    if len(run_id) > MAX_RUN_ID:
        raise RunIdError(f"run id: {len(run_id)} characters, at most {MAX_RUN_ID} are allowed")
    if RUN_ID_PATTERN.fullmatch(run_id) is None or ".." in run_id:
        raise RunIdError(
            f"run id {run_id!r}: use 1-128 letters, digits, '.', '_' or '-', starting with a "
            "letter or digit, without '..' (it names a directory inside the runs root)"
        )
    return run_id


def run_dir_in(root: Path, run_id: str) -> Path:
    """``root / run_id`` after checking the id, refusing a directory that resolves outside
    ``root`` (through a symbolic link named like the run)."""
    run_dir = root / check_run_id(run_id)
    inside = run_dir.resolve()
    if inside.parent != root.resolve():
        raise RunIdError(f"run id {run_id!r}: {run_dir} resolves to {inside}, outside {root}")
    return run_dir


def session_id_for(run_id: str, index: int = 0) -> str:
    """Deterministic session id: replay re-derives it from the run id."""
    return hashlib.blake2b(f"{run_id}/{index}".encode(), digest_size=6).hexdigest()


def make_run_id(now: datetime, universe: str, cfg_hash: str) -> str:
    """``20261123T085600Z-sp500-1a2b3c4d``: sortable by time, names the data and config."""
    tag = re.sub(r"[^A-Za-z0-9_-]+", "-", Path(universe).stem).strip("-")[:64] or "data"
    return f"{now:%Y%m%dT%H%M%SZ}-{tag}-{cfg_hash[:8]}"


@dataclass(frozen=True)
class SessionIds:
    run_id: str
    session_id: str


class Journal(Protocol):
    """Where the kernel appends records: a WAL on disk or a hash-only sink for replay.

    A journal with a true ``discards_records`` attribute (a gate's re-run, which reads only
    equity) is not handed the per-step records (bars, quotes, decisions, risk checks,
    orders, fills, rejects), and the decision trace is not kept: nothing it could change is
    read, and what the kernel computes is the same either way."""

    def append(self, event: Event, ts: int) -> int: ...

    @property
    def head(self) -> str: ...


class StageMarks(Protocol):
    """Where a live session times the stages of a step (:mod:`scarline.paper.heartbeat`)."""

    def mark(self, stage: str) -> None: ...


class SeqJournal:
    """Forwards to the journal and remembers the last seq written: the drift sentry's theory
    packets point at the WAL records of the steps they cite."""

    def __init__(self, journal: Journal) -> None:
        self.inner = journal
        self.last_seq = -1

    def append(self, event: Event, ts: int) -> int:
        self.last_seq = self.inner.append(event, ts)
        return self.last_seq

    @property
    def head(self) -> str:
        return self.inner.head


@dataclass(frozen=True)
class KernelResult:
    steps: int
    decision_trace_hash: str
    wal_head: str
    killed_at: int | None
