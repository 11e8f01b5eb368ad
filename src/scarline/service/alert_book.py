"""The alert book: the newest alerts in memory for ``GET /alerts``, every alert and ack in
``RUN_DIR/alerts.jsonl`` — a hash-chained journal (each line carries the sha256 of the line
before it, the first line's ``prev`` being 64 zeros), so an edited, inserted or deleted line
shows (:func:`verify_alerts`). Not the WAL: alerts depend on wall-clock facts, and the WAL
must stay a replayable function of the inputs (see :mod:`.alerts`)."""

from __future__ import annotations

import builtins
import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

import msgspec

from scarline.errors import ScarlineError
from scarline.service.alerts import GENESIS, Alert


class AlertJournalError(ScarlineError, ValueError):
    """``alerts.jsonl`` does not verify (a line was edited, inserted or removed) or holds a
    record that is not an alert or an ack. A ScarlineError, so a session resuming on such a
    journal stops with this message (exit 2), not an internal error."""

    exit_code = 2


_encoder = msgspec.json.Encoder()


def _digest(line: bytes) -> str:
    return hashlib.sha256(line).hexdigest()


def verify_alerts(path: Path) -> builtins.list[dict[str, object]]:
    """The records of ``alerts.jsonl`` after checking its hash chain; raises
    :class:`AlertJournalError` naming the first line that does not follow. A last line
    without its newline (a write cut by a crash) is not a record and is left out."""
    data = Path(path).read_bytes() if Path(path).exists() else b""
    lines = data.split(b"\n")[:-1]  # the part after the last newline is torn or empty
    records: list[dict[str, object]] = []
    prev = GENESIS
    for number, line in enumerate(lines, start=1):
        try:
            record = msgspec.json.decode(line)
        except msgspec.DecodeError:
            raise AlertJournalError(f"{path}: line {number} is not JSON") from None
        if not isinstance(record, dict) or record.get("prev") != prev:
            raise AlertJournalError(f"{path}: line {number} does not follow line {number - 1}")
        prev = _digest(line)
        records.append(record)
    return records


class AlertBook:
    """The alerts of a run: the newest ``keep`` in memory, every one in ``alerts.jsonl``.

    Opening an existing journal verifies it, reloads its alerts and acks, cuts a torn last
    line and continues its chain (crash-only resume). ``path=None`` keeps memory only;
    ``read_only=True`` (``scarline serve`` of a finished run) loads without ever writing, and
    :meth:`add`/:meth:`ack` raise ``PermissionError``. Thread-safe.
    """

    def __init__(self, path: Path | None, *, keep: int = 1000, read_only: bool = False) -> None:
        self.path = None if path is None else Path(path)
        self.keep = keep
        self.read_only = read_only
        self._alerts: OrderedDict[str, Alert] = OrderedDict()
        self._lock = threading.Lock()
        self._prev = GENESIS
        self._file: BinaryIO | None = None
        if self.path is None:
            return
        for number, record in enumerate(verify_alerts(self.path), start=1):
            try:
                self._replay(record)
            except (KeyError, TypeError, ValueError, msgspec.ValidationError):
                raise AlertJournalError(
                    f"{self.path}: line {number} is not an alert or an ack"
                ) from None
        if self.path.exists():
            data = self.path.read_bytes()
            cut = data.rfind(b"\n") + 1
            if lines := data[:cut].split(b"\n")[:-1]:
                self._prev = _digest(lines[-1])
            if cut < len(data) and not read_only:
                with self.path.open("r+b") as torn:
                    torn.truncate(cut)
        if not read_only:
            self._file = self.path.open("ab")

    def _replay(self, record: dict[str, object]) -> None:
        if record.get("kind") == "alert":
            self._keep(msgspec.convert(record["alert"], Alert))
        elif record.get("kind") == "ack":
            alert = self._alerts.get(str(record["id"]))
            if alert is not None:
                self._alerts[alert.id] = msgspec.structs.replace(
                    alert,
                    acked=True,
                    acked_by=str(record["key_id"]),
                    acked_wall_ns=int(str(record["wall_ns"])),
                )

    def _keep(self, alert: Alert) -> None:
        self._alerts[alert.id] = alert
        while len(self._alerts) > self.keep:
            self._alerts.popitem(last=False)

    def _write(self, record: dict[str, object]) -> None:
        if self._file is None:
            return
        line = _encoder.encode({"prev": self._prev, **record})
        self._file.write(line + b"\n")
        self._file.flush()
        self._prev = _digest(line)

    def add(self, alerts: Iterable[Alert]) -> builtins.list[Alert]:
        """Journal and keep the alerts whose id is new; returns those (to dispatch)."""
        if self.read_only:
            raise PermissionError("this alert book is read-only")
        added: list[Alert] = []
        with self._lock:
            for alert in alerts:
                if alert.id in self._alerts:
                    continue
                self._write({"kind": "alert", "alert": msgspec.to_builtins(alert)})
                self._keep(alert)
                added.append(alert)
        return added

    def list(self, *, unacked: bool = False) -> builtins.list[Alert]:
        """The kept alerts, oldest first (newest last)."""
        with self._lock:
            return [a for a in self._alerts.values() if not (unacked and a.acked)]

    def get(self, alert_id: str) -> Alert:
        with self._lock:
            return self._alerts[alert_id]

    def ack(self, alert_id: str, key_id: str, *, wall_ns: int | None = None) -> Alert:
        """Acknowledge an alert as the API key ``key_id``; journaled once (acking again
        returns the first ack). ``KeyError`` for an id not (or no longer) kept: a 404."""
        if self.read_only:
            raise PermissionError("this alert book is read-only")
        with self._lock:
            alert = self._alerts[alert_id]
            if alert.acked:
                return alert
            now = time.time_ns() if wall_ns is None else wall_ns
            self._write({"kind": "ack", "id": alert_id, "key_id": key_id, "wall_ns": now})
            alert = msgspec.structs.replace(alert, acked=True, acked_by=key_id, acked_wall_ns=now)
            self._alerts[alert_id] = alert
            return alert

    @property
    def head(self) -> str:
        """The sha256 of the journal's last line (64 zeros when empty): pins its end."""
        with self._lock:
            return self._prev

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
