"""Replay parity record by record: a replayed run's journal checked against the original WAL.

Comparing only the decision trace (or only the final head) lets an edited, re-chained WAL
pass whenever the edit does not change a decision, and names nothing when it fails. So the
replay's journal sink chains every record like :class:`HashOnlyWal` and compares its ``h``
with the original record's at the same seq: since the original chain was verified first,
equal ``h`` at every seq means byte-identical records. At the first difference both records
are decoded and walked to name the first differing field (``data.price[0]``).
"""

from __future__ import annotations

from binascii import hexlify
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from scarline.events import Array, Event
from scarline.journal.chain import HashOnlyWal
from scarline.journal.format import H_CLOSE, TAIL, Envelope, canonical_of, is_canonical
from scarline.journal.segments import list_segments, require_wal_dir

_HEX = slice(-(TAIL + 1) + len(b',"h":"'), -(len(H_CLOSE) + 1))
"""The stored 64 hex digits of ``h`` in a line that still has its newline."""

MISSING = "(record missing from the replay)"
EXTRA = "(record not in the original WAL)"
_SHOWN = 80


@dataclass(frozen=True)
class Mismatch:
    """The first record where a replay differs from the original WAL.

    ``kind`` is the original record's kind (the replayed one's for an extra record);
    ``field`` is a path into the envelope (``kind``, ``ts``, ``data.price[0]``) or
    :data:`MISSING` / :data:`EXTRA`; ``original`` and ``replayed`` show the two values.
    """

    seq: int
    kind: str
    field: str
    original: str
    replayed: str

    def describe(self) -> str:
        """One line: ``seq 17 (Fills), field data.price[0]: original 10125, replayed 10120``."""
        if self.field in (MISSING, EXTRA):
            return f"seq {self.seq} ({self.kind}): {self.field}"
        return (
            f"seq {self.seq} ({self.kind}), field {self.field}: "
            f"original {self.original}, replayed {self.replayed}"
        )


class ComparingWal(HashOnlyWal):
    """A replay's journal sink: chains like :class:`HashOnlyWal` and checks each record
    against the original WAL (already verified) as it is appended.

    The first difference is kept in :attr:`mismatch`; later records are still chained, so
    :attr:`head` is the replay's own head. With ``allow_extra`` (a run sealed after a crash:
    the original is a prefix) records beyond the original's last one are counted in
    :attr:`extra` instead of being a mismatch.
    """

    __slots__ = ("_at_last", "_lines", "_original", "allow_extra", "extra", "mismatch")

    def __init__(self, wal_dir: Path, run_id: str, *, allow_extra: bool = False) -> None:
        super().__init__(run_id)
        self._lines = _lines(require_wal_dir(wal_dir))
        self._original = 0
        self._at_last = self._prev
        self.allow_extra = allow_extra
        self.extra = 0
        self.mismatch: Mismatch | None = None

    def append(self, event: Event, ts: int) -> int:
        seq = super().append(event, ts)
        line = next(self._lines, None)
        if line is None:
            if self.allow_extra:
                self.extra += 1
            elif self.mismatch is None:
                self.mismatch = Mismatch(seq, type(event).__name__, EXTRA, "", "")
            return seq
        self._original += 1
        self._at_last = self._prev
        if self.mismatch is None and hexlify(self._prev) != line[_HEX]:
            assert is_canonical(event)  # super().append refuses any other event
            replayed = self._encode(seq, ts, event)
            self.mismatch = first_difference(seq, canonical_of(line[:-1]), replayed)
        return seq

    def finish(self) -> Mismatch | None:
        """The first mismatch, counting an original record the replay never reached;
        closes the original's files."""
        rest = next(self._lines, None)
        if self.mismatch is None and rest is not None:
            self.mismatch = Mismatch(self._original, _kind_of_line(rest), MISSING, "", "")
        self.close()
        return self.mismatch

    @property
    def compared(self) -> int:
        """Original records the replay has produced a record for."""
        return self._original

    @property
    def compared_head(self) -> str:
        """The replay's head at the last original record (its whole head without extras)."""
        return self._at_last.hex()

    def close(self) -> None:
        """Close the original's segment files (idempotent)."""
        self._lines.close()


def _lines(wal_dir: Path) -> Generator[bytes, None, None]:
    """Every complete line of every segment, in order (a verified WAL has no other)."""
    for path in list_segments(wal_dir):
        with path.open("rb") as f:
            for line in f:
                if line[-1:] != b"\n":
                    return
                yield line


def _kind_of_line(line: bytes) -> str:
    try:
        return str(msgspec.json.decode(canonical_of(line[:-1]))["kind"])
    except (ValueError, KeyError, TypeError):
        return ""


def first_difference(seq: int, original: bytes, replayed: bytes) -> Mismatch:
    """Name the first field where two records' canonical bytes differ.

    Decoded as events where possible (so arrays are compared element by element and a
    path such as ``data.price[3]`` names the fill), else as plain JSON; bytes that differ
    only in encoding are reported as such.
    """
    typed = msgspec.json.Decoder(Envelope)
    try:
        a: Any = typed.decode(original)
        b: Any = typed.decode(replayed)
    except ValueError:
        a, b = _plain(original), _plain(replayed)
    kind = a.kind if isinstance(a, Envelope) else _kind_of(a)
    found = _diff(a, b, "")
    if found is None:
        found = _diff(_plain(original), _plain(replayed), "") or ("(encoding)", "…", "…")
    path, x, y = found
    return Mismatch(seq, kind, path, _show(x), _show(y))


def _plain(raw: bytes) -> Any:
    try:
        return msgspec.json.decode(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


def _kind_of(doc: Any) -> str:
    return str(doc.get("kind", "")) if isinstance(doc, dict) else ""


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _diff(a: Any, b: Any, path: str) -> tuple[str, Any, Any] | None:
    """``(path, a_value, b_value)`` of the first difference, depth first in field order."""
    if type(a) is not type(b):
        if isinstance(a, msgspec.Struct) and isinstance(b, msgspec.Struct):
            return _join(path, "kind"), type(a).__name__, type(b).__name__
        return path, a, b
    if isinstance(a, Array):
        return _diff_array(a, b, path)
    if isinstance(a, msgspec.Struct):
        for name in a.__struct_fields__:
            found = _diff(getattr(a, name), getattr(b, name), _join(path, name))
            if found is not None:
                return found
        return None
    if isinstance(a, list | tuple):
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            found = _diff(x, y, f"{path}[{i}]")
            if found is not None:
                return found
        if len(a) != len(b):
            return f"{path}.length", len(a), len(b)
        return None
    if isinstance(a, dict):
        for key in [*a, *(k for k in b if k not in a)]:
            if key not in a or key not in b:
                return _join(path, str(key)), a.get(key, "(absent)"), b.get(key, "(absent)")
            found = _diff(a[key], b[key], _join(path, str(key)))
            if found is not None:
                return found
        return None
    if a != b or (isinstance(a, float) and repr(a) != repr(b)):  # 0.0 and -0.0 differ
        return path, a, b
    return None


def _diff_array(a: Array, b: Array, path: str) -> tuple[str, Any, Any] | None:
    """Arrays by their values' dtype, shape, then the first differing element (``path[i][j]``),
    packed or not; two that hold the same values stored differently differ in ``.dtype``."""
    if a == b:
        return None
    try:
        x, y = a.numpy(), b.numpy()
    except (TypeError, ValueError):  # bytes that do not fit dtype and shape
        if a.dtype != b.dtype:
            return f"{path}.dtype", a.dtype, b.dtype
        return f"{path}.data", f"{len(a.data)} bytes", f"{len(b.data)} bytes"
    if x.dtype != y.dtype:
        return f"{path}.dtype", a.dtype, b.dtype
    if x.shape != y.shape:
        return f"{path}.shape", list(x.shape), list(y.shape)
    item = x.dtype.itemsize or 1
    xb = np.ascontiguousarray(x).reshape(-1).view(np.uint8).reshape(-1, item)
    yb = np.ascontiguousarray(y).reshape(-1).view(np.uint8).reshape(-1, item)
    differ = np.flatnonzero((xb != yb).any(axis=1))
    if not differ.size:  # the same values, stored one way and the other
        return f"{path}.dtype", a.dtype, b.dtype
    flat = int(differ[0])
    index = np.unravel_index(flat, x.shape) if x.shape else ()
    where = "".join(f"[{int(i)}]" for i in index)
    return f"{path}{where}", x.reshape(-1)[flat].item(), y.reshape(-1)[flat].item()


def _show(value: Any) -> str:
    text = value if isinstance(value, str) else msgspec.json.encode(value).decode()
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"
