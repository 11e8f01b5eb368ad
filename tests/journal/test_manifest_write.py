"""Manifests are written whole or not at all: a failed write leaves neither a half file nor
its temporary file behind."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from scarline.journal.manifest import CrashSeal, write_json


def _full_disk(path: Path, data: bytes) -> int:
    with path.open("wb") as f:
        f.write(data[:10])  # what fitted
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_failed_manifest_write_leaves_no_file_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "manifest.json"
    monkeypatch.setattr(Path, "write_bytes", _full_disk)
    with pytest.raises(OSError, match="No space left"):
        write_json(target, CrashSeal(sealed_at="now", session_ended=False))
    assert sorted(p.name for p in tmp_path.iterdir()) == []
