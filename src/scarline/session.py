"""What a kernel session is bound to: its ids, the journal it appends every event to, and
the operator inputs it polls. The kernel and everything that builds one (run, replay, the
gates' frozen evaluation, islands) meet here, below all of them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from scarline.errors import ScarlineError
from scarline.events import Event, KillSwitch

RUN_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
"""A run id names a directory: a letter or digit, then at most 127 letters, digits, ``.``,
``_`` or ``-`` (no ``/``, no whitespace, no leading dot), and never ``..``."""


class RunIdError(ScarlineError):
    """A run id that is not a safe directory name, or a run directory outside its root."""

    exit_code = 2


def check_run_id(run_id: str) -> str:
    """``run_id`` if it matches :data:`RUN_ID_PATTERN` and holds no ``..``."""
    if not isinstance(run_id, str) or not run_id:
        raise RunIdError("run id: empty")
    if len(run_id) > 128:
        raise RunIdError(f"run id: {len(run_id)} characters, at most 128 are allowed")
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
