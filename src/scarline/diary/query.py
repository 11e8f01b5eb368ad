"""SQL over a run's decision diary: DuckDB in memory, the file as the view ``diary``.

Nothing is copied or imported: DuckDB scans ``RUN_DIR/diary.parquet`` where it lies, reading
only the columns and row groups a query needs. The diary is read-only: one SELECT, WITH or
DESCRIBE statement, on a DuckDB without external access (:mod:`scarline.diary.guard`).
"""

from __future__ import annotations

import datetime as dt
import math
import select
import signal
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import FrameType

import duckdb

from scarline.diary.guard import (
    DiaryQueryError,
    check_sql,
    locked_connection,
    one_line,
    quoted,
)
from scarline.diary.schema import DiaryError, MissingDiary
from scarline.rundir import RunDir

DEFAULT_SQL = """\
SELECT reason, regime, count(*) AS rows, count(order_id) AS orders,
       round(avg(outcome_return), 6) AS mean_outcome_return
FROM diary
GROUP BY reason, regime
ORDER BY reason, regime NULLS FIRST"""
"""What ``scarline diary RUN_DIR`` shows without ``--sql``: rows per reason and regime."""

_NUMERIC: tuple[str, ...] = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT")
_NUMERIC += ("UTINYINT", "USMALLINT")
_NUMERIC += ("UINTEGER", "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL")


__all__ = ["DEFAULT_SQL", "DiaryQueryError", "QueryResult", "json_safe", "query_diary"]


@dataclass(frozen=True)
class QueryResult:
    """Column names and DuckDB types, the rows fetched, and whether ``limit`` cut some off."""

    columns: list[str]
    types: list[str]
    rows: list[tuple[object, ...]]
    truncated: bool

    def numeric(self, i: int) -> bool:
        return self.types[i].startswith(_NUMERIC) and not self.types[i].endswith("]")

    def records(self) -> list[dict[str, object]]:
        """The rows as ``{column: value}`` with JSON-safe values (see :func:`json_safe`)."""
        return [
            {c: json_safe(v) for c, v in zip(self.columns, row, strict=True)} for row in self.rows
        ]


def json_safe(value: object) -> object:
    """A value JSON can hold: NaN/inf → None, Decimal → float, dates and times → ISO text,
    intervals → seconds, bytes → hex, UUID → text; lists and structs recursively."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return json_safe(float(value))
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [json_safe(v) for v in value]
    return str(value)


def diary_path(run_dir: Path | str) -> Path:
    """``run_dir/diary.parquet``; :class:`MissingDiary` if the directory or file is missing."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise MissingDiary(f"{run_dir}: no such run directory")
    path = RunDir(run_dir).diary
    if not path.is_file():
        raise MissingDiary(
            f"{path}: no diary in this run directory (build it: scarline diary {run_dir} --rebuild)"
        )
    return path


class _Watchdog:
    """Interrupts a DuckDB connection at a deadline or on SIGINT.

    DuckDB checks no signal in some loops (a recursive CTE ran on through Ctrl-C), and a
    Python signal handler only runs once the main thread leaves DuckDB. So, in the main
    thread, SIGINT also wakes a socket (``signal.set_wakeup_fd``) that a thread waits on
    beside the deadline, and that thread calls ``con.interrupt()``.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, timeout: float | None) -> None:
        self.con, self.timeout = con, timeout
        self.timed_out = self.signalled = False
        self._done = threading.Event()
        self._wake_r, self._wake_w = socket.socketpair()
        self._restore: list[Callable[[], object]] = []

    def __enter__(self) -> _Watchdog:
        if threading.current_thread() is threading.main_thread():
            for sock in (self._wake_r, self._wake_w):
                sock.setblocking(False)
            previous = signal.signal(signal.SIGINT, self._on_sigint)
            old_fd = signal.set_wakeup_fd(self._wake_w.fileno(), warn_on_full_buffer=False)
            self._restore += [
                lambda: signal.signal(signal.SIGINT, previous),
                lambda: signal.set_wakeup_fd(old_fd),
            ]
        self._thread = threading.Thread(target=self._watch, name="diary-sql-watch", daemon=True)
        self._thread.start()
        return self

    def _on_sigint(self, _signum: int, _frame: FrameType | None) -> None:
        self.signalled = True

    def _watch(self) -> None:
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        while not self._done.is_set():
            left = 0.2 if deadline is None else min(0.2, deadline - time.monotonic())
            if left <= 0:
                self.timed_out = True
                self.con.interrupt()
                return
            ready, _, _ = select.select([self._wake_r], [], [], left)
            if ready and not self._done.is_set():
                self.signalled = True
                self.con.interrupt()
                return

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._wake_w.send(b"\0")  # wakes the watching thread now
        self._thread.join()
        for undo in reversed(self._restore):
            undo()
        self._wake_r.close()
        self._wake_w.close()


def _execute(
    con: duckdb.DuckDBPyConnection, sql: str, limit: int | None, timeout: float | None
) -> tuple[list[tuple[str, str]] | None, list[tuple[object, ...]]]:
    """``(description, rows)`` of ``sql``; stopped by :class:`_Watchdog` after ``timeout``
    seconds (a :class:`DiaryQueryError`) or on Ctrl-C (a ``KeyboardInterrupt``)."""
    watchdog = _Watchdog(con, timeout)
    try:
        with watchdog:
            cur = con.execute(sql)
            if cur.description is None:
                return None, []
            rows = cur.fetchall() if limit is None else cur.fetchmany(limit + 1)
            return [(d[0], str(d[1])) for d in cur.description], rows
    except duckdb.Error as err:
        if watchdog.signalled:
            raise KeyboardInterrupt from None
        if watchdog.timed_out:
            raise DiaryQueryError(
                f"SQL: stopped after {timeout:g} s (--timeout; 0 for no limit)"
            ) from None
        raise DiaryQueryError(f"SQL: {one_line(err)}") from None
    finally:
        if watchdog.signalled and sys.exc_info()[0] is None:
            raise KeyboardInterrupt  # Ctrl-C as the query was ending: still a stop


def query_diary(
    run_dir: Path | str,
    sql: str = DEFAULT_SQL,
    *,
    limit: int | None = None,
    timeout: float | None = None,
) -> QueryResult:
    """Run ``sql`` against the view ``diary`` of ``run_dir``; at most ``limit`` rows
    (``None``: all), stopped after ``timeout`` seconds (``None``: never) with a
    :class:`DiaryQueryError`. Only one read-only query is accepted (``guard.check_sql``);
    an evolving run's ``lineage.parquet`` is the view ``lineage``."""
    path = diary_path(run_dir).resolve()
    check_sql(sql)
    lineage = RunDir(Path(run_dir)).lineage.resolve()  # an evolving run's family tree
    views = {"diary": path, **({"lineage": lineage} if lineage.is_file() else {})}
    with locked_connection(*views.values()) as con:
        try:
            for name, file in views.items():
                con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet({quoted(file)})")
        except duckdb.Error as err:
            raise DiaryError(f"{path}: not a readable diary ({one_line(err)})") from None
        description, rows = _execute(con, sql, limit, timeout)
    if description is None:
        return QueryResult([], [], [], False)
    columns = [name for name, _ in description]
    types = [kind for _, kind in description]
    truncated = limit is not None and len(rows) > limit
    return QueryResult(columns, types, rows[:limit] if truncated else rows, truncated)
