"""Manifests are written whole or not at all: a failed write leaves neither a half file nor
its temporary file behind."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from scarline import safe_write
from scarline.journal.manifest import CrashSeal, write_json


def _full_disk(fd: int, data: bytes) -> None:
    os.write(fd, data[:10])  # what fitted
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_failed_manifest_write_leaves_no_file_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "manifest.json"
    monkeypatch.setattr(safe_write, "_write_all", _full_disk)
    with pytest.raises(OSError, match="No space left"):
        write_json(target, CrashSeal(sealed_at="now", session_ended=False))
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_manifest_is_never_written_through_a_planted_link(tmp_path: Path) -> None:
    """``scarline wal seal`` writes the manifest of a run directory others may write: a
    ``manifest.json.tmp`` link planted there is replaced, its target left alone."""
    victim = tmp_path / "authorized_keys"
    victim.write_text("ssh-ed25519 AAAA ada\n")
    (tmp_path / "manifest.json.tmp").symlink_to(victim)
    write_json(tmp_path / "manifest.json", CrashSeal(sealed_at="now", session_ended=False))
    assert victim.read_text() == "ssh-ed25519 AAAA ada\n"
    assert b"sealed_at" in (tmp_path / "manifest.json").read_bytes()
