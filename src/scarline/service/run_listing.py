"""The runs under a directory, looked at again only where the file system says so.

``scarline serve`` answers every request from a runs directory that may hold thousands of
runs. Listing it and checking each run anew cost 0.1 to 0.2 s a request with 3,000 runs, so
the listing keeps what it found: the directory's entries while its stamp (mtime, inode)
holds — an entry added, removed or renamed changes it — and each run's facts while one
stamp holds: a sealed run's manifest's (the run's time is its mtime, and rewriting it in
place changes no directory), else the run directory's own (a manifest or WAL created in it
changes that). A request then costs one ``stat`` per run, and a lookup by id one. Stamps
changed within the last two seconds are not trusted (see :mod:`.stamps`): such entries are
checked in full.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from scarline.rundir import RunDir
from scarline.service.stamps import Stamp, StampedValue, settled, stamp_of


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    path: Path
    modified_ns: int
    sealed: bool  # has its manifest (closed cleanly or sealed)

    def to_json(self) -> dict[str, object]:
        return {"run_id": self.run_id, "modified_ns": self.modified_ns, "sealed": self.sealed}


def run_info(path: Path) -> RunInfo | None:
    """The run in ``path``; None when it vanished (removed or renamed) while being listed."""
    rd = RunDir(path)
    sealed = rd.manifest.is_file()
    marker = rd.manifest if sealed else path
    try:
        modified = marker.stat().st_mtime_ns
    except OSError:
        return None
    return RunInfo(path.name, path, modified, sealed)


def is_run(path: Path) -> bool:
    rd = RunDir(path)
    return rd.manifest.is_file() or rd.wal.is_dir()


class _Entry(NamedTuple):
    """What was found in one directory of the root (``info`` None: not a run)."""

    stamp: Stamp
    manifest: Stamp
    read_at_ns: int
    info: RunInfo | None


class _Child(NamedTuple):
    """An entry of the root, with the paths its checks stat (as strings: a request stats
    every run, and building a Path costs more than the stat)."""

    path: Path
    dir: str
    manifest: str


class RunListing:
    """The run directories directly under ``root`` (not those starting with a dot), newest
    first; thread-safe."""

    def __init__(self, root: Path, now_ns: Callable[[], int] = time.time_ns) -> None:
        self.root = Path(root)
        self._now_ns = now_ns
        self._lock = threading.Lock()
        self._children: StampedValue[dict[str, _Child]] | None = None
        self._entries: dict[str, _Entry] = {}
        self._sorted: tuple[list[RunInfo], list[RunInfo]] = ([], [])

    def runs(self) -> list[RunInfo]:
        with self._lock:
            found = [
                info
                for name, child in self._listed().items()
                if (info := self._run(name, child)) is not None
            ]
            last, ordered = self._sorted
            if len(last) != len(found) or any(a is not b for a, b in zip(last, found, strict=True)):
                ordered = sorted(found, key=lambda r: (r.modified_ns, r.run_id), reverse=True)
                self._sorted = (found, ordered)  # the same facts: the same order
        return list(ordered)

    def find(self, run_id: str) -> RunInfo | None:
        """The run named ``run_id`` (looked up among the entries listed, never joined onto
        the root), or None."""
        with self._lock:
            child = self._listed().get(run_id)
            return None if child is None else self._run(run_id, child)

    def _listed(self) -> dict[str, _Child]:
        """The root's entries by name, listed again when its stamp changed."""
        stamps = (stamp_of(self.root),)
        kept = self._children
        if kept is not None and kept.holds(stamps):
            return kept.value
        read_at = self._now_ns()
        children: dict[str, _Child] = {}
        if self.root.is_dir():
            for p in self.root.iterdir():
                if not p.name.startswith("."):
                    children[p.name] = _Child(p, str(p), str(RunDir(p).manifest))
        self._children = StampedValue(stamps, read_at, children)
        for name in self._entries.keys() - children.keys():
            del self._entries[name]
        return children

    def _run(self, name: str, child: _Child) -> RunInfo | None:
        kept = self._entries.get(name)
        if kept is not None and kept.info is not None and kept.info.sealed:
            # a sealed run is its manifest: while that holds, the run is what it was
            manifest = stamp_of(child.manifest)
            if manifest == kept.manifest and settled((manifest,), kept.read_at_ns):
                return kept.info
        stamp = stamp_of(child.dir)
        if not stamp.is_dir:  # a file, or gone since the root was listed
            self._entries.pop(name, None)
            return None
        if (
            kept is not None
            and (kept.info is None or not kept.info.sealed)
            and kept.stamp == stamp
            and settled((stamp,), kept.read_at_ns)
        ):
            return kept.info  # a manifest written since would have changed the stamp
        read_at = self._now_ns()
        manifest_stamp = stamp_of(child.manifest)
        path = child.path
        if not (path.is_dir() and is_run(path)):
            self._entries[name] = _Entry(stamp, manifest_stamp, read_at, None)
            return None
        info = run_info(path)
        if info is None:  # vanished while listed: the root's listing will say so
            self._entries.pop(name, None)
            return None
        self._entries[name] = _Entry(stamp, manifest_stamp, read_at, info)
        return info
