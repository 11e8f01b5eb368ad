"""Segment files of a WAL directory: naming, listing, and the per-segment facts a manifest binds."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import msgspec

from scarline.errors import MissingWalError, WalError
from scarline.journal.format import SEQ_OPEN

_SEGMENT = re.compile(r"([0-9]{6,})\.jsonl")  # ASCII digits: "٠٠٠٠٠١.jsonl" is no segment
_SEQ_PREFIX = re.compile(rb'\{"seq":(\d+),')
_BLOCK = 1 << 20


class SegmentInfo(msgspec.Struct, frozen=True):
    """One segment as the run manifest records it; seqs are ``None`` for an empty segment."""

    name: str
    records: int
    bytes: int
    sha256: str
    first_seq: int | None
    last_seq: int | None


def require_wal_dir(wal_dir: Path) -> Path:
    """``wal_dir`` as a Path, or a :class:`MissingWalError` (exit 2) naming it when it is
    not a directory: every command says the same line."""
    path = Path(wal_dir)
    if not path.is_dir():
        raise MissingWalError(f"no WAL directory at {path}")
    return path


def list_segments(wal_dir: Path) -> list[Path]:
    """Segment files (``000000.jsonl`` …) in order; other files in the directory are ignored."""
    found = [
        (int(m.group(1)), p) for p in Path(wal_dir).iterdir() if (m := _SEGMENT.fullmatch(p.name))
    ]
    return [p for _, p in sorted(found)]


def require_own_file(path: Path, doing: str) -> None:
    """Refuse to ``doing`` (truncate, append to) a segment that is a symbolic link: it may
    point outside the run directory, at a file that is not the run's to change."""
    if path.is_symlink():
        raise WalError(
            f"{path} is a symbolic link (to {os.readlink(path)}), not a segment file of this "
            f"WAL: refusing to {doing} it (nothing was changed)"
        )


def segment_index(path: Path) -> int:
    match = _SEGMENT.fullmatch(path.name)
    if match is None:
        raise WalError(f"{path} is not a WAL segment name")
    return int(match.group(1))


def seq_of(line: bytes) -> int | None:
    """The seq a line claims, read from its ``{"seq":N,`` prefix without decoding JSON."""
    match = _SEQ_PREFIX.match(line)
    return int(match.group(1)) if match else None


def segment_infos(wal_dir: Path) -> list[SegmentInfo]:
    """Name, record count, size, SHA-256 and seq range of every segment, for the run manifest.

    Only newline-terminated lines count as records; seqs are read from the line prefixes.
    """
    return [_info(path) for path in list_segments(require_wal_dir(wal_dir))]


def _info(path: Path) -> SegmentInfo:
    sha = hashlib.sha256()
    size = records = 0
    first = b""
    last_nl = prev_nl = -1  # file offsets of the last two newlines seen
    with path.open("rb", buffering=0) as f:
        while block := f.read(_BLOCK):
            sha.update(block)
            if size == 0:
                first = block[: len(SEQ_OPEN) + 21]
            count = block.count(b"\n")
            if count:
                records += count
                j = block.rfind(b"\n")
                k = block.rfind(b"\n", 0, j) if count > 1 else -1
                prev_nl = size + k if k >= 0 else last_nl
                last_nl = size + j
            size += len(block)
        last_seq = None
        if records:
            f.seek(prev_nl + 1)
            last_seq = seq_of(f.read(len(SEQ_OPEN) + 21))
    return SegmentInfo(
        name=path.name,
        records=records,
        bytes=size,
        sha256=sha.hexdigest(),
        first_seq=seq_of(first) if records else None,
        last_seq=last_seq,
    )
