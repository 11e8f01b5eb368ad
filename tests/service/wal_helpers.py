"""WAL records to append to a run while the service reads it, and a way to see which files
the service opens and how many of their bytes it reads."""

from __future__ import annotations

import builtins
import io
import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from scarline.events import (
    Array,
    Decision,
    Event,
    KillSwitch,
    RegimeChange,
    RiskChecks,
    RiskStateChange,
)
from scarline.journal import WalWriter

LEVELS = ["NORMAL", "WARN", "THROTTLE", "HALT"]


def _ids(run_id: str) -> dict[str, str]:
    return {"run_id": run_id, "session_id": "s0"}


def regime(run_id: str, step: int, to: str = "chaos") -> RegimeChange:
    return RegimeChange(
        **_ids(run_id), step=step, from_regime="calm", to_regime=to, confidence=step / 7
    )


def kill(run_id: str, step: int) -> KillSwitch:
    return KillSwitch(**_ids(run_id), step=step, reason=f"stop at {step}", source="cli")


def ladder(run_id: str, step: int, level: int, agent: int = -1) -> RiskStateChange:
    one = np.ones(1)
    return RiskStateChange(
        **_ids(run_id),
        step=step,
        agent=Array.of(np.array([agent], np.int64)),
        from_level=Array.of(np.zeros(1, np.int64)),
        to_level=Array.of(np.array([level], np.int64)),
        cause=Array.of(np.zeros(1, np.int64)),
        value=Array.of(one * step),
        limit=Array.of(one),
        levels=LEVELS,
        causes=["drawdown"],
    )


def refusal(run_id: str, step: int) -> RiskChecks:
    def ints(*v: int) -> Array:
        return Array.of(np.array(v, np.int64))

    return RiskChecks(
        **_ids(run_id),
        decision_id=f"d{step}",
        step=step,
        order_id=ints(step),
        agent=ints(step % 3),
        instrument=ints(0),
        outcome=ints(1),
        rule=ints(0),
        value=Array.of(np.array([2.0])),
        limit=Array.of(np.array([1.0])),
        requested=ints(2),
        approved=ints(0),
        outcomes=["pass", "reject"],
        rules=["max_position"],
    )


def decision(run_id: str, step: int, agents: int = 2) -> Decision:
    return Decision(
        **_ids(run_id),
        decision_id=f"d{step}",
        step=step,
        policy="sma",
        agents=Array.of(np.arange(agents, dtype=np.int64)),
        actions=Array.of(np.full((agents, 1), step % 3 - 1, np.int8)),
        target_qty=Array.of(np.full((agents, 1), step, np.int64)),
    )


def append(
    wal_dir: Path, run_id: str, events: list[Event], *, segment_bytes: int = 64 * 2**20
) -> None:
    """Append ``events`` (ts = 1000 * step-ish) through a writer, as a session would."""
    with WalWriter(wal_dir, run_id, fsync="never", segment_bytes=segment_bytes) as wal:
        for k, event in enumerate(events):
            wal.append(event, 1_000 * (wal.next_seq + k))


def age(root: Path, seconds: float = 3600.0) -> None:
    """Set every mtime under ``root`` (and its own) ``seconds`` into the past, as files
    nobody touched for a while: their stamps have settled."""
    when = int((os.stat(root).st_mtime - seconds) * 1e9)
    for path in [root, *root.rglob("*")]:
        os.utime(path, ns=(when, when), follow_symlinks=False)


class _Counted(io.RawIOBase):
    """A file whose reads are counted (bytes returned to the caller)."""

    def __init__(self, inner: Any, on_read: Any) -> None:
        self._inner, self._on_read = inner, on_read

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return int(self._inner.seek(offset, whence))

    def tell(self) -> int:
        return int(self._inner.tell())

    def read(self, size: int | None = -1) -> bytes:
        data: bytes = self._inner.read(size)
        self._on_read(len(data))
        return data

    def readline(self, size: int | None = -1) -> bytes:
        data: bytes = self._inner.readline(size)
        self._on_read(len(data))
        return data

    def readinto(self, buffer: Any) -> int:
        n: int = self._inner.readinto(buffer)
        self._on_read(n or 0)
        return n

    def close(self) -> None:
        self._inner.close()
        super().close()


class Reads:
    """Files opened for reading under a directory, and bytes read from each."""

    def __init__(self, under: Path) -> None:
        self.under = under.resolve()
        self.opened: Counter[str] = Counter()
        self.bytes: Counter[str] = Counter()

    def mine(self, file: object) -> str | None:
        if not isinstance(file, str | os.PathLike):
            return None
        path = Path(os.fspath(file)).resolve()
        return str(path.relative_to(self.under)) if path.is_relative_to(self.under) else None

    def clear(self) -> None:
        self.opened.clear()
        self.bytes.clear()

    def wal(self) -> int:
        """Segment files opened."""
        return sum(n for name, n in self.opened.items() if "/wal/" in f"/{name}")


@contextmanager
def reads_under(root: Path) -> Iterator[Reads]:
    """Record, inside the block, every file under ``root`` opened through Python (``open``,
    ``io.open``, ``Path.open``, ``os.open``) and the bytes read from it."""
    seen = Reads(root)
    real_open, real_os_open = io.open, os.open

    def counting_open(file: Any, mode: str = "r", *args: Any, **kw: Any) -> Any:
        f = real_open(file, mode, *args, **kw)
        name = seen.mine(file)
        if name is None or "r" not in mode:
            return f
        seen.opened[name] += 1

        def on_read(n: int) -> None:
            seen.bytes[name] += n

        if "b" in mode:
            return _Counted(f, on_read)
        return f

    def counting_os_open(path: Any, flags: int, *args: Any, **kw: Any) -> int:
        name = seen.mine(path)
        if name is not None:
            seen.opened[name] += 1
        return real_os_open(path, flags, *args, **kw)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(io, "open", counting_open)
        mp.setattr(builtins, "open", counting_open)
        mp.setattr(os, "open", counting_os_open)
        yield seen
