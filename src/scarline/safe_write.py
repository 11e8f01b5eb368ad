"""Replacing a file whole in a directory others may write too (a run directory on shared
storage, the ledger directory; ``docs/security.md``), never writing through a link.

The usual temp file + rename opens ``NAME.tmp`` with ``O_TRUNC``, which follows a symbolic
link: someone who can write the directory plants ``manifest.sig.tmp -> ~/.bashrc`` and the
next ``scarline gates``, ``wal seal`` or ledger write overwrites the victim with what it
meant to write there. Here the temp file is always created anew (``O_CREAT | O_EXCL |
O_NOFOLLOW``) after removing whatever held its name, and the rename replaces the name
``path`` itself (a link there included), never a link's target.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)


def temp_of(path: Path) -> Path:
    """The temp file ``path`` is written through: ``NAME.tmp`` beside it."""
    return path.with_name(path.name + ".tmp")


def replace_file(path: Path, data: bytes, *, fsync: bool = False) -> None:
    """Write ``data`` to ``path`` atomically (temp file, then rename); ``fsync``: flush the
    file to disk before the rename. A failed write (a full disk) leaves no temp file."""
    with replacing(path, fsync=fsync) as out:
        _write_all(out.fileno(), data)


@contextmanager
def replacing(path: Path, *, fsync: bool = False) -> Iterator[BinaryIO]:
    """:func:`replace_file` for a writer that streams (``pyarrow.parquet.write_table``): the
    fresh temp file, open for writing, renamed onto ``path`` when the block ends without an
    error, removed when it does not."""
    tmp = temp_of(path)
    tmp.unlink(missing_ok=True)  # a link planted there goes, its target is left alone
    fd = os.open(tmp, _NEW, 0o666)  # refused if someone re-planted one meanwhile
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            if fsync:
                os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
