"""A value derived from a file is reused only while the file's size, mtime and inode hold
and its mtime had settled when it was read; the caches are bounded."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from scarline.service.stamps import SETTLE_NS, Lru, StampedCache


def _reader(path: Path) -> tuple[list[str], Callable[[], str]]:
    reads: list[str] = []

    def read() -> str:
        reads.append(text := path.read_text())
        return text

    return reads, read


def test_each_part_of_the_stamp_counts(tmp_path: Path) -> None:
    path = tmp_path / "summary.json"
    path.write_text("aaaa")
    mtime = os.stat(path).st_mtime_ns
    now = [mtime + 2 * SETTLE_NS]
    cache: StampedCache[str, str] = StampedCache(4, lambda: now[0])
    reads, read = _reader(path)
    assert cache.get("k", (path,), read) == "aaaa"
    assert cache.get("k", (path,), read) == "aaaa" and len(reads) == 1
    path.write_text("bbbbb")  # size
    os.utime(path, ns=(mtime, mtime))
    assert cache.get("k", (path,), read) == "bbbbb"
    path.write_text("ccccc")  # mtime only
    os.utime(path, ns=(mtime + 1, mtime + 1))
    assert cache.get("k", (path,), read) == "ccccc"
    other = tmp_path / "new.json"  # inode only: another file renamed over it
    other.write_text("ddddd")
    os.utime(other, ns=(mtime + 1, mtime + 1))
    os.replace(other, path)
    assert cache.get("k", (path,), read) == "ddddd"
    path.unlink()  # gone
    assert cache.get("k", (path,), lambda: "none") == "none"
    assert len(reads) == 4


def test_a_file_changed_a_moment_ago_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "heartbeat.json"
    path.write_text("1")
    mtime = os.stat(path).st_mtime_ns
    now = [mtime + SETTLE_NS // 4]
    cache: StampedCache[str, str] = StampedCache(4, lambda: now[0])
    reads, read = _reader(path)
    for _ in range(3):  # a same-size write in the same tick would keep this stamp
        cache.get("k", (path,), read)
    assert len(reads) == 3
    now[0] = mtime + SETTLE_NS
    cache.get("k", (path,), read)
    cache.get("k", (path,), read)
    assert len(reads) == 4


@given(st.integers(1, 8), st.lists(st.integers(0, 20), max_size=60))
def test_an_lru_keeps_the_most_recently_used(capacity: int, keys: list[int]) -> None:
    lru: Lru[int, int] = Lru(capacity)
    for k in keys:
        if lru.get(k) is None:
            lru.put(k, k)
    recent = list(dict.fromkeys(reversed(keys)))[:capacity]
    assert len(lru) == len(recent)
    assert all(k in lru for k in recent)
