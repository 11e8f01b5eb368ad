"""The runs directory is listed again only when its stamp changes, each run checked again
only when its own directory's (or its manifest's) stamp does; stamps that changed a moment
ago are not trusted."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from wal_helpers import age

from scarline.service.run_listing import RunListing
from scarline.service.source import RunsSource
from scarline.service.stamps import SETTLE_NS


def _runs(root: Path, n: int) -> None:
    for k in range(n):
        (root / f"r{k:02d}" / "wal").mkdir(parents=True)
    (root / "r00" / "manifest.json").write_text("{}")  # a sealed one
    (root / "notes").mkdir()  # not a run
    (root / ".hidden" / "wal").mkdir(parents=True)


class _Looks:
    """Counts the listings of ``root`` and the checks of its runs' manifests."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.listed = self.checked = 0
        real_iterdir, real_is_file = Path.iterdir, Path.is_file

        def iterdir(path: Path) -> object:
            self.listed += path == root
            return real_iterdir(path)

        def is_file(path: Path) -> bool:
            self.checked += path.name == "manifest.json" and path.parent.parent == root
            return real_is_file(path)

        monkeypatch.setattr(Path, "iterdir", iterdir)
        monkeypatch.setattr(Path, "is_file", is_file)


def test_a_settled_directory_is_not_looked_at_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _runs(tmp_path, 30)
    age(tmp_path)
    source = RunsSource(tmp_path, tmp_path / "no-ledger")
    looks = _Looks(tmp_path, monkeypatch)
    first = source.runs()
    assert len(first) == 30 and looks.listed == 1 and looks.checked >= 30
    seen = looks.checked
    assert source.runs() == first
    assert source.run_dir("r07") == tmp_path / "r07" and source.run_dir() == first[0].path
    assert (looks.listed, looks.checked) == (1, seen)  # nothing looked at again


def test_every_change_is_seen(tmp_path: Path) -> None:
    _runs(tmp_path, 3)
    age(tmp_path)
    listing = RunListing(tmp_path)
    assert sorted(r.run_id for r in listing.runs()) == ["r00", "r01", "r02"]
    (tmp_path / "r03" / "wal").mkdir(parents=True)  # added
    assert listing.runs()[0].run_id == "r03"
    (tmp_path / "r01").rename(tmp_path / "r11")  # renamed
    assert listing.find("r01") is None and listing.find("r11") is not None
    (tmp_path / "notes" / "wal").mkdir()  # a directory becomes a run
    assert "notes" in [r.run_id for r in listing.runs()]
    (tmp_path / "r02" / "manifest.json").write_text("{}")  # sealed
    assert listing.find("r02").sealed  # type: ignore[union-attr]
    for path in (tmp_path / "r02" / "wal", tmp_path / "r02" / "manifest.json"):
        path.rmdir() if path.is_dir() else path.unlink()  # no longer a run
    assert listing.find("r02") is None
    age(tmp_path)
    sealed = listing.find("r00")
    assert sealed is not None and sealed.sealed
    manifest = tmp_path / "r00" / "manifest.json"
    manifest.write_text("{}")  # rewritten in place: the directory's stamp holds
    os.utime(manifest, ns=(sealed.modified_ns + 10**9,) * 2)
    assert listing.find("r00").modified_ns == sealed.modified_ns + 10**9  # type: ignore[union-attr]
    os.rename(tmp_path / "r03", tmp_path / ".r03")  # hidden: not served
    assert listing.find("r03") is None


def test_a_stamp_changed_a_moment_ago_is_checked_each_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _runs(tmp_path, 2)
    mtime = os.stat(tmp_path).st_mtime_ns
    now = [mtime + SETTLE_NS // 2]  # within one tick of a coarse clock, or two
    listing = RunListing(tmp_path, now_ns=lambda: now[0])
    looks = _Looks(tmp_path, monkeypatch)
    listing.runs()
    listing.runs()
    assert looks.listed == 2  # a write in the same tick would leave the same stamp
    now[0] = mtime + 2 * SETTLE_NS
    listing.runs()
    listing.runs()
    assert looks.listed == 3  # read once after it settled, then trusted
