"""Build ``RUN_DIR/diary.parquet`` and write it deterministically (its sha256 goes into the
run manifest)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from scarline.diary.attribution import attribution_line, coverage_of
from scarline.diary.builder import diary_table
from scarline.diary.schema import DEFAULT_HORIZON
from scarline.parquet_io import write_parquet_atomic
from scarline.rundir import RunDir


@dataclass(frozen=True)
class DiaryStats:
    """What a build produced: rows, order rows, attribution coverage (None without orders)
    and the build's wall time in seconds (not written anywhere in the diary)."""

    rows: int
    orders: int
    coverage: float | None
    seconds: float

    def line(self) -> str:
        return attribution_line(self.orders, self.coverage)


def build_diary(run_dir: Path | str, *, horizon: int = DEFAULT_HORIZON) -> DiaryStats:
    """Build ``run_dir/diary.parquet`` from the run directory; its :class:`DiaryStats`."""
    start = time.perf_counter()
    run_dir = Path(run_dir)
    table = diary_table(run_dir, horizon=horizon)
    write_diary(table, RunDir(run_dir).diary)
    orders, coverage = coverage_of(table)
    return DiaryStats(table.num_rows, orders, coverage, time.perf_counter() - start)


def write_diary(table: pa.Table, path: Path | str) -> Path:
    """Write a diary table as Parquet, deterministically (fixed options, one row group per
    2^20 rows, no timestamps) and atomically (temp file + rename)."""
    return write_parquet_atomic(table, path, row_group_size=1 << 20)
