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
from scarline.errors import WalError
from scarline.journal.verify import verify
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


def rebuild_diary(
    run_dir: Path | str,
    *,
    run_id: str,
    expected_head: str | None = None,
    horizon: int = DEFAULT_HORIZON,
) -> DiaryStats:
    """:func:`build_diary` for an existing run, after its WAL passes ``verify``.

    A rebuild replaces the ``diary.parquet`` the manifest binds, so it must come from the WAL
    the run wrote: an edited, re-ordered or cut WAL raises :class:`WalError` naming the first
    bad segment and seq, and the existing diary is left untouched. (A fresh run skips this:
    it builds from the WAL it has just written and closed.)
    """
    run_dir = Path(run_dir)
    require_intact_wal(run_dir, run_id, expected_head)
    return build_diary(run_dir, horizon=horizon)


def require_intact_wal(run_dir: Path, run_id: str, expected_head: str | None) -> None:
    """Raise :class:`WalError` unless ``run_dir/wal`` verifies (chain, seqs, the bound head).

    Without ``wal/`` this returns: :func:`diary_table` then says what is missing."""
    wal_dir = RunDir(run_dir).wal
    if not wal_dir.is_dir():
        return
    report = verify(wal_dir, run_id, expected_head=expected_head)
    bad = report.first_bad
    if bad is not None:
        raise WalError(
            f"refusing to rebuild the diary of {run_dir}: WAL check failed at segment "
            f"{bad.segment}, seq {bad.seq} (line {bad.line}): {bad.reason} "
            "(`scarline wal verify` for details)"
        )


def write_diary(table: pa.Table, path: Path | str) -> Path:
    """Write a diary table as Parquet, deterministically (fixed options, one row group per
    2^20 rows, no timestamps) and atomically (temp file + rename)."""
    return write_parquet_atomic(table, path, row_group_size=1 << 20)
