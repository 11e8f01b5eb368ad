"""SQL over a run's decision diary: DuckDB in memory, the file as the view ``diary``.

Nothing is copied or imported: DuckDB scans ``RUN_DIR/diary.parquet`` where it lies, reading
only the columns and row groups a query needs.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb

from scarline.diary.schema import DIARY_FILE, DiaryError, MissingDiary

DEFAULT_SQL = """\
SELECT reason, regime, count(*) AS rows, count(order_id) AS orders,
       round(avg(outcome_return), 6) AS mean_outcome_return
FROM diary
GROUP BY reason, regime
ORDER BY reason, regime NULLS FIRST"""
"""What ``scarline diary RUN_DIR`` shows without ``--sql``: rows per reason and regime."""

_NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT")
_NUMERIC += ("UINTEGER", "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL")


class DiaryQueryError(DiaryError):
    """The SQL failed; the message is DuckDB's, on one line."""


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
    path = run_dir / DIARY_FILE
    if not path.is_file():
        raise MissingDiary(
            f"{path}: no diary in this run directory (build it: scarline diary {run_dir} --rebuild)"
        )
    return path


def query_diary(
    run_dir: Path | str, sql: str = DEFAULT_SQL, *, limit: int | None = None
) -> QueryResult:
    """Run ``sql`` against the view ``diary`` of ``run_dir``; at most ``limit`` rows
    (``None``: all). Several statements (``;``-separated) answer with the last one's rows."""
    path = diary_path(run_dir)
    quoted = str(path.resolve()).replace("'", "''")
    with duckdb.connect(":memory:") as con:
        try:
            con.execute(f"CREATE VIEW diary AS SELECT * FROM read_parquet('{quoted}')")
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
