"""``replace_file`` writes a file whole, and never through a symbolic link someone who can
write the directory planted at its temp file's name or at its own name."""

from __future__ import annotations

import errno
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scarline import safe_write
from scarline.safe_write import replace_file, temp_of

PRECIOUS = b"the victim's own bytes\n"


@settings(max_examples=25, deadline=None)
@given(data=st.binary(max_size=2048), existing=st.booleans())
def test_a_link_planted_at_the_temp_name_is_never_written_through(
    data: bytes, existing: bool
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        victim, target = Path(tmp) / "victim", Path(tmp) / "run" / "gates.sig"
        victim.write_bytes(PRECIOUS)
        target.parent.mkdir()
        if existing:
            target.write_bytes(b"old")
        temp_of(target).symlink_to(victim)
        replace_file(target, data)
        assert victim.read_bytes() == PRECIOUS
        assert target.read_bytes() == data and not target.is_symlink()
        assert sorted(p.name for p in target.parent.iterdir()) == ["gates.sig"]


def test_a_link_at_the_name_itself_is_replaced_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_bytes(PRECIOUS)
    target = tmp_path / "manifest.json"
    target.symlink_to(victim)
    replace_file(target, b"{}", fsync=True)
    assert victim.read_bytes() == PRECIOUS
    assert not target.is_symlink() and target.read_bytes() == b"{}"


def test_a_full_disk_leaves_no_temp_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(fd: int, data: bytes) -> None:
        safe_write.os.write(fd, data[:3])  # what fitted
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(safe_write, "_write_all", full)
    with pytest.raises(OSError, match="No space left"):
        replace_file(tmp_path / "anchor.json", b"0123456789")
    assert list(tmp_path.iterdir()) == []
