"""Where the API's data comes from: a live session, or a directory of finished runs.

The app only sees the :class:`Source` protocol. A paper session passes a
:class:`SessionSource` (its :class:`~scarline.service.view.SessionView`, its one run
directory); ``scarline serve`` passes a :class:`RunsSource` over a runs directory, read-only,
where ``?run=ID`` picks a run (default: the newest). A run id from a request is looked up
among the directories listed, never joined onto a path, so no id can reach outside the root.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Protocol

from scarline.service.run_listing import RunInfo, RunListing, is_run, run_info
from scarline.service.view import SessionView

__all__ = ["RUN_ID", "RunInfo", "RunsSource", "SessionSource", "Source", "UnknownRun"]

RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
"""What a run id in a request may look like (the app answers 422 otherwise)."""


class UnknownRun(LookupError):
    """No run of that id here; ``str(err)`` says which."""


class Source(Protocol):
    """What the app reads from."""

    def view(self) -> SessionView | None:
        """The live session's view; None for finished runs."""
        ...

    def run_dir(self, run: str | None = None) -> Path:
        """The directory of run ``run`` (None: the default run); :class:`UnknownRun`."""
        ...

    def ledger_dir(self) -> Path:
        """The policy ledger's directory."""
        ...

    def runs(self) -> list[RunInfo]:
        """The runs this source serves, newest first."""
        ...


class SessionSource:
    """A running session: its view, its run directory, its ledger."""

    def __init__(self, view: SessionView, run_dir: Path, ledger_dir: Path) -> None:
        self._view, self._run_dir, self._ledger_dir = view, Path(run_dir), Path(ledger_dir)

    def view(self) -> SessionView | None:
        return self._view

    def run_dir(self, run: str | None = None) -> Path:
        if run is not None and run != self._run_dir.name:
            raise UnknownRun(f"this session serves run {self._run_dir.name!r}, not {run!r}")
        return self._run_dir

    def ledger_dir(self) -> Path:
        return self._ledger_dir

    def runs(self) -> list[RunInfo]:
        info = run_info(self._run_dir) if self._run_dir.is_dir() else None
        return [] if info is None else [info]


class RunsSource:
    """Finished runs under ``root`` (each sub-directory with a WAL or a manifest); a
    ``root`` that is itself a run (``--runs runs/ID``, an easy slip) serves that run alone.
    The listing is kept between requests and checked against the file system's stamps
    (:class:`~.run_listing.RunListing`)."""

    def __init__(self, root: Path, ledger_dir: Path) -> None:
        self.root, self._ledger_dir = Path(root), Path(ledger_dir)
        self._listing = RunListing(self.root)

    def view(self) -> SessionView | None:
        return None

    def _root_run(self) -> bool:
        return self.root.is_dir() and is_run(self.root)

    def runs(self) -> list[RunInfo]:
        if self._root_run():
            info = run_info(self.root)
            return [] if info is None else [info]
        return self._listing.runs()

    def run_dir(self, run: str | None = None) -> Path:
        if run is not None and not self._root_run():
            found = self._listing.find(run)
            if found is not None:
                return found.path
        runs = self.runs()
        if not runs:
            raise UnknownRun(f"no runs in {self.root}")
        if run is None:
            return runs[0].path
        for info in runs:
            if info.run_id == run:
                return info.path
        raise UnknownRun(f"no run {run!r} in {self.root}")

    def ledger_dir(self) -> Path:
        return self._ledger_dir
