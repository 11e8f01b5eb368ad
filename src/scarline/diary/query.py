"""SQL over a run's decision diary: DuckDB in memory, the file as the view ``diary``.

Nothing is copied or imported: DuckDB scans ``RUN_DIR/diary.parquet`` where it lies, reading
only the columns and row groups a query needs. The diary is read-only: one SELECT, WITH or
DESCRIBE statement, on a DuckDB without external access (:mod:`scarline.diary.guard`).
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb

from scarline.diary.guard import DiaryQueryError, check_sql, locked_connection, quoted
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


def _one_line(err: duckdb.Error) -> str:
    """DuckDB's message up to its ``LINE 1: …`` context (the first blank line), on one line."""
    head = str(err).split("\n\n", 1)[0]
    return " ".join(part.strip() for part in head.splitlines() if part.strip())


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


def query_diary(
    run_dir: Path | str, sql: str = DEFAULT_SQL, *, limit: int | None = None
) -> QueryResult:
    """Run ``sql`` against the view ``diary`` of ``run_dir``; at most ``limit`` rows
    (``None``: all). Only one read-only query is accepted (``guard.check_sql``); an
    evolving run's ``lineage.parquet`` is the view ``lineage``."""
    path = diary_path(run_dir).resolve()
    check_sql(sql)
    lineage = RunDir(Path(run_dir)).lineage.resolve()  # an evolving run's family tree
    views = {"diary": path, **({"lineage": lineage} if lineage.is_file() else {})}
    with locked_connection(*views.values()) as con:
        try:
            for name, file in views.items():
                con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet({quoted(file)})")
        except duckdb.Error as err:
            raise DiaryError(f"{path}: not a readable diary ({_one_line(err)})") from None
        try:
            cur = con.execute(sql)
            if cur.description is None:
                return QueryResult([], [], [], False)
            rows = cur.fetchall() if limit is None else cur.fetchmany(limit + 1)
        except duckdb.Error as err:
            raise DiaryQueryError(f"SQL: {_one_line(err)}") from None
        columns = [d[0] for d in cur.description]
        types = [str(d[1]) for d in cur.description]
    truncated = limit is not None and len(rows) > limit
    return QueryResult(columns, types, rows[:limit] if truncated else rows, truncated)
