"""What the app keeps of runs' files between requests, so a poll costs what changed.

Per run (the :data:`RUNS_KEPT` most recently read): its WAL folded into what the read
endpoints show — the snapshot's ladder, kill and triggers, the risk panel, the regime
changes, the decision index — each brought up to date by reading only the lines appended
since the last request (:mod:`.wal_fold`). Per file (:mod:`.stamps`): the run's JSON files,
a finished run's alert journal and the tail of its lineage, each read again only when its
size, mtime or inode changed (or changed too recently to tell). Nothing here depends on who
asks: every reader sees the same files.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from scarline.journal.reader import Position
from scarline.journal.segments import list_segments
from scarline.rundir import RunDir
from scarline.service import runs
from scarline.service.decision_index import DecisionIndex
from scarline.service.run_snapshot import HEARTBEAT, SUMMARY, WalState, load_json
from scarline.service.stamps import Lru, Stamp, StampedCache, stamp_of
from scarline.service.wal_fold import FoldedWal

RUNS_KEPT = 16
"""Runs whose WAL folds are kept (each: at most 1,000 rows per panel and
:data:`~.decision_index.MAX_MARKS` marks)."""
FILES_KEPT = 64
"""Parsed JSON files kept (a run's summary, manifest, session and heartbeat)."""
PAGES_KEPT = 32
"""``/decisions`` pages kept (each at most :data:`~.runs.MAX_CELLS` cells)."""
SNAPSHOT_FILES = (SUMMARY, RunDir.MANIFEST, RunDir.SESSION, HEARTBEAT)
"""The files a run's snapshot reads besides its WAL."""

Json = dict[str, Any]


class RunWal:
    """The folds of one run's WAL, each made on first use."""

    def __init__(self, root: Path) -> None:
        wal = RunDir(root).wal
        self.wal_dir = wal
        self.ladder = FoldedWal(wal, WalState)
        self.risk = FoldedWal(wal, runs.RiskFold)
        self.regimes = FoldedWal(wal, runs.RegimeFold)
        self.decisions = FoldedWal(wal, DecisionIndex)


class CachedRun:
    """One run directory read through the cache (a
    :class:`~scarline.service.run_snapshot.RunFiles`)."""

    def __init__(self, root: Path, wal: RunWal, files: StampedCache[Path, Json]) -> None:
        self.root, self._wal, self._files = root, wal, files

    def json(self, name: str) -> Json:
        path = self.root / name
        return self._files.get(path, (path,), lambda: load_json(path))

    def wal_state(self) -> WalState:
        state, _ = self._wal.ladder.read(WalState.copy, tolerant=True)
        return state

    def snapshot_key(self) -> tuple[tuple[Stamp, ...], tuple[int, int]]:
        """Changes when anything the run's snapshot reads changes: the stamps of its files
        (check them with :func:`~.stamps.settled`) and the WAL fold's version."""
        stamps = tuple(stamp_of(self.root / name) for name in SNAPSHOT_FILES)
        _, version = self._wal.ladder.read(lambda _: None, tolerant=True)
        return stamps, version


class RunCache:
    """The app's cache of runs' files; thread-safe."""

    def __init__(
        self, *, runs_kept: int = RUNS_KEPT, now_ns: Callable[[], int] = time.time_ns
    ) -> None:
        self._wals: Lru[Path, RunWal] = Lru(runs_kept)
        self._pages: StampedCache[tuple[Path, Any], Json] = StampedCache(PAGES_KEPT, now_ns)
        self._files: StampedCache[Path, Json] = StampedCache(FILES_KEPT, now_ns)
        self._alerts: StampedCache[Path, list[Json]] = StampedCache(runs_kept, now_ns)
        self._lineage: StampedCache[Path, tuple[int, list[Json]]] = StampedCache(runs_kept, now_ns)

    def wal(self, run_dir: Path) -> RunWal:
        return self._wals.setdefault(run_dir, lambda: RunWal(run_dir))

    def run(self, run_dir: Path) -> CachedRun:
        return CachedRun(run_dir, self.wal(run_dir), self._files)

    def risk(self, run_dir: Path, *, limit: int) -> Json:
        answer, _ = self.wal(run_dir).risk.read(lambda fold: fold.answer(limit))
        return answer

    def regimes(self, run_dir: Path, *, limit: int) -> Json:
        answer, _ = self.wal(run_dir).regimes.read(lambda fold: fold.answer(limit))
        return answer

    def decisions(
        self,
        run_dir: Path,
        *,
        agent: int | None,
        since: int | None,
        limit: int,
        cursor: int | None,
    ) -> Json:
        """A page of ``/decisions`` (:func:`.runs.decisions`): kept while the WAL's segments
        hold, else read from where the run's decision index says the lines before would all
        be skipped."""
        wal = self.wal(run_dir)
        try:
            segments = list_segments(wal.wal_dir)
        except OSError:  # no WAL: the read below says so
            segments = []
        stamped = (wal.wal_dir, *segments)

        def page() -> Json:
            start = None
            if cursor is not None or since is not None:
                # tolerant: the index stops at a bad line; the page's read meets it, if it gets
                # that far, and says so as it always did
                start, _ = wal.decisions.read(where, tolerant=True)
            return runs.decisions(
                run_dir, agent=agent, since=since, limit=limit, cursor=cursor, start=start
            )

        def where(index: DecisionIndex) -> Position | None:
            try:
                return index.start(list_segments(wal.wal_dir), cursor, since)
            except OSError:
                return None

        query = (agent, since, limit, cursor)
        return self._pages.get((run_dir, query), stamped, page)

    def lineage(self, run_dir: Path, *, limit: int) -> Json:
        path = RunDir(run_dir).lineage
        if not path.is_file():
            return runs.no_lineage()
        total, rows = self._lineage.get(
            path, (path,), lambda: runs.lineage_tail(path, runs.MAX_LIMIT)
        )
        return runs.lineage_answer(total, rows, limit)

    def alerts(self, path: Path, read: Callable[[Path], list[Json]]) -> list[Json]:
        """A finished run's journaled alerts (``read`` reads them; what it raises is not
        kept)."""
        return self._alerts.get(path, (path,), lambda: read(path))
