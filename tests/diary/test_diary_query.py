"""SQL over ``diary.parquet`` with DuckDB: the view, limits, JSON-safe records, one-line errors."""

from __future__ import annotations

import datetime as dt
import os
import signal
import threading
import time
from decimal import Decimal
from pathlib import Path

import msgspec
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from scarline.diary.guard import locked_connection
from scarline.diary.query import DiaryQueryError, json_safe, query_diary
from scarline.diary.schema import DiaryError, MissingDiary
from scarline.rundir import RunDir


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    """A directory (with a quote in its name) holding a five-row diary-shaped file."""
    path = tmp_path / "it's a run"
    path.mkdir()
    table = pa.table(
        {
            "step": [0, 0, 1, 2, 2],
            "reason": ["greedy", "explore", "greedy", "greedy", "rule"],
            "regime": ["calm", "calm", None, "chaos", "calm"],
            "order_id": pa.array([0, None, 1, 2, 3], pa.int64()),
            "outcome_return": [0.01, float("nan"), -0.02, 0.03, None],
            "ts": pa.array([0, 0, 86_400 * 10**9, 2 * 86_400 * 10**9, 0], pa.timestamp("ns")),
        }
    )
    pq.write_table(table, path / RunDir.DIARY)
    return path


def test_default_sql_summarises_rows_per_reason_and_regime(run_dir: Path) -> None:
    result = query_diary(run_dir)
    assert result.columns == ["reason", "regime", "rows", "orders", "mean_outcome_return"]
    assert [r[:4] for r in result.rows] == [
        ("explore", "calm", 1, 0),
        ("greedy", None, 1, 1),
        ("greedy", "calm", 1, 1),
        ("greedy", "chaos", 1, 1),
        ("rule", "calm", 1, 1),
    ]
    assert not result.truncated
    assert [result.numeric(i) for i in range(5)] == [False, False, True, True, True]


def test_limit_and_json_safe_records(run_dir: Path) -> None:
    sql = "SELECT step, ts, outcome_return, 1.5::DECIMAL(4, 2) AS d FROM diary ORDER BY step"
    cut = query_diary(run_dir, sql, limit=2)
    assert cut.truncated and len(cut.rows) == 2
    everything = query_diary(run_dir, sql)
    assert not everything.truncated and len(everything.rows) == 5
    records = everything.records()
    assert records[0] == {"step": 0, "ts": "1970-01-01T00:00:00", "outcome_return": 0.01, "d": 1.5}
    assert [r["outcome_return"] for r in records[:2]] == [0.01, None]  # NaN has no JSON form
    msgspec.json.encode(records)  # every value encodes


def test_json_safe_values() -> None:
    assert json_safe(float("inf")) is None
    assert json_safe(Decimal("2.25")) == 2.25
    assert json_safe(dt.date(2020, 1, 2)) == "2020-01-02"
    assert json_safe(dt.timedelta(minutes=1)) == 60.0
    assert json_safe(b"\x01\xff") == "01ff"
    assert json_safe({"a": [1, float("nan")], 3: (True,)}) == {"a": [1, None], "3": [True]}


def test_several_statements_are_refused(run_dir: Path) -> None:
    sql = "CREATE TABLE t AS SELECT * FROM diary WHERE step = 0; SELECT count(*) AS n FROM t"
    with pytest.raises(DiaryQueryError, match="2 statements"):
        query_diary(run_dir, sql)


def test_sql_errors_are_one_line_with_duckdbs_message(run_dir: Path) -> None:
    with pytest.raises(DiaryQueryError) as err:
        query_diary(run_dir, "SELECT no_such_column FROM diary")
    message = str(err.value)
    assert message.startswith("SQL: Binder Error:") and "no_such_column" in message
    assert "\n" not in message
    with pytest.raises(DiaryQueryError, match="Parser Error"):
        query_diary(run_dir, "SELEC 1")


def test_missing_or_broken_diary(tmp_path: Path, run_dir: Path) -> None:
    with pytest.raises(MissingDiary, match="no such run directory"):
        query_diary(tmp_path / "nope")
    (tmp_path / "bare").mkdir()
    with pytest.raises(MissingDiary, match="--rebuild"):
        query_diary(tmp_path / "bare")
    (run_dir / RunDir.DIARY).write_bytes(b"not parquet at all")
    with pytest.raises(DiaryError, match="not a readable diary"):
        query_diary(run_dir)


RUNAWAY = "WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t) SELECT count(*) FROM t"
"""Never ends, and DuckDB checks no signal while it runs (Ctrl-C did not stop it)."""


def test_a_runaway_query_stops_at_its_timeout(run_dir: Path) -> None:
    started = time.monotonic()
    with pytest.raises(DiaryQueryError, match=r"stopped after 0\.5 s \(--timeout"):
        query_diary(run_dir, RUNAWAY, timeout=0.5)
    assert time.monotonic() - started < 3
    assert query_diary(run_dir, "SELECT count(*) FROM diary", timeout=5).rows == [(5,)]


def test_ctrl_c_stops_a_runaway_query(run_dir: Path) -> None:
    """SIGINT reaches DuckDB through the watchdog; the caller gets a KeyboardInterrupt."""
    assert threading.current_thread() is threading.main_thread()
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    started = time.monotonic()
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            query_diary(run_dir, RUNAWAY, timeout=30)
    finally:
        timer.cancel()
    assert time.monotonic() - started < 3
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_no_progress_bar_on_stdout(run_dir: Path) -> None:
    """DuckDB draws its bar on stdout after 2 s of a query: it corrupted ``--json``."""
    with locked_connection(RunDir(run_dir).diary.resolve()) as con:
        sql = "SELECT current_setting('enable_progress_bar')"
        assert con.execute(sql).fetchall() == [(False,)]


def test_duckdbs_from_first_and_summarize_are_queries_too(run_dir: Path) -> None:
    """``FROM diary LIMIT 2`` (DuckDB's FROM-first form) was refused as not read-only."""
    assert len(query_diary(run_dir, "FROM diary LIMIT 2").rows) == 2
    assert query_diary(run_dir, "FROM diary SELECT count(*)").rows == [(5,)]
    assert "column_name" in query_diary(run_dir, "SUMMARIZE diary").columns
    with pytest.raises(DiaryQueryError, match="read_csv"):
        query_diary(run_dir, "FROM read_csv('/etc/passwd')")
    with pytest.raises(DiaryQueryError, match="does not exist"):
        query_diary(run_dir, "FROM '/etc/passwd'")  # a path is not a table here
