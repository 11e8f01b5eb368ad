"""The sha256 digests that bind a run's files into its manifest, the ledger and the CLI's
JSON: one way to hash a file (streamed, so a large WAL segment or pack is never read whole)
and one to hash bytes already in memory, both as lowercase hex."""

from __future__ import annotations

import hashlib
from pathlib import Path

_BLOCK = 1 << 20


def sha256_hex(data: bytes) -> str:
    """sha256 of ``data``, lowercase hex."""
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path | str) -> str:
    """sha256 of the file at ``path``, lowercase hex, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        while block := f.read(_BLOCK):
            h.update(block)
    return h.hexdigest()
