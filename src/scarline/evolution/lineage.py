"""The lineage file: every agent that ever lived in a run, as ``lineage.parquet``.

:data:`SCHEMA` names its columns; :func:`write_lineage` / :func:`read_lineage` write and
check it; :func:`ancestry` follows an agent back to its founder. The book that records agents
as the run goes is :class:`scarline.evolution.lineage_book.LineageBook`.

The Parquet file is a pure function of the table: no timestamps, fixed writer options, so
the same run writes the same bytes (with the same pyarrow version, which names itself in
the file footer).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from scarline.errors import ScarlineError
from scarline.evolution.migration import ISLAND_ID_STRIDE
from scarline.parquet_io import write_parquet_atomic

NO_PARENT = -1
ALIVE = -1

SCHEMA = pa.schema(
    [
        pa.field("agent_id", pa.int64(), nullable=False),
        pa.field("parent_id", pa.int64(), nullable=False),
        pa.field("generation", pa.int32(), nullable=False),
        pa.field("island", pa.int32(), nullable=False),
        pa.field("slot", pa.int32(), nullable=False),
        pa.field("birth_step", pa.int64(), nullable=False),
        pa.field("death_step", pa.int64(), nullable=False),
        pa.field("death_cause", pa.string(), nullable=False),
        pa.field("genome_hash", pa.string(), nullable=False),
        pa.field("final_hash", pa.string(), nullable=False),
        pa.field("fitness", pa.float64(), nullable=False),
        pa.field("scars", pa.int64(), nullable=False),
        pa.field("trust", pa.float64(), nullable=False),
    ],
    metadata={"scarline.schema": "lineage/2"},
)
"""Column names, order and types of ``lineage.parquet`` (``-1``: no parent / alive at end;
``trust`` at death or at the run's end, NaN when not recorded, e.g. in lineage/1 files)."""


class LineageError(ScarlineError, ValueError):
    """The lineage record would become inconsistent, or a lineage file is unreadable."""


def write_lineage(table: pa.Table, path: Path | str) -> Path:
    """Write a lineage table as Parquet, deterministically and atomically.

    Fixed options (zstd, one row group, statistics, no page index or timestamps): the
    same table gives the same bytes, so the file's sha256 can go into the run manifest.
    """
    path = Path(path)
    table = _validated(table.cast(SCHEMA) if table.schema != SCHEMA else table, path)
    return write_parquet_atomic(table, path, row_group_size=max(table.num_rows, 1))


def read_lineage(path: Path | str) -> pa.Table:
    """Read ``lineage.parquet`` back, checking every column of :data:`SCHEMA` and unique ids.

    Extra columns are dropped; columns come back in schema order.
    """
    path = Path(path)
    if not path.is_file():
        raise LineageError(f"{path}: no lineage file")
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as err:
        raise LineageError(f"{path}: not a readable Parquet file ({err})") from None
    return _validated(table, path)


def _validated(table: pa.Table, path: Path) -> pa.Table:
    if "trust" not in table.column_names:  # lineage/1 (before trust was recorded)
        table = table.append_column("trust", pa.array(np.full(table.num_rows, np.nan)))
    for field in SCHEMA:
        if field.name not in table.column_names:
            raise LineageError(f"{path}: missing column {field.name!r} ({field.type})")
        col = table.column(field.name)
        kind = col.type.value_type if pa.types.is_dictionary(col.type) else col.type
        if kind != field.type and not (
            pa.types.is_large_string(kind) and pa.types.is_string(field.type)
        ):
            raise LineageError(
                f"{path}: column {field.name!r} has type {col.type}, expected {field.type}"
            )
        if col.null_count:
            raise LineageError(f"{path}: column {field.name!r} has {col.null_count} null value(s)")
    table = table.select(SCHEMA.names).cast(SCHEMA)
    ids = table.column("agent_id").to_numpy()
    uniq, counts = np.unique(ids, return_counts=True)
    if (counts > 1).any():
        raise LineageError(f"{path}: duplicate agent id {uniq[np.argmax(counts > 1)]}")
    return table


def ancestry(table: pa.Table, agent_id: int) -> list[int]:
    """``[agent, parent, grandparent, …, founder]`` for one agent of a lineage table.

    On one island's table the chain ends at an immigrant whose parent lives on another
    island (concatenate the islands' tables to follow it further)."""
    ids = table.column("agent_id").to_numpy()
    parents = table.column("parent_id").to_numpy()
    order = np.argsort(ids, kind="stable")
    srt = ids[order]

    def row_of(a: int) -> int | None:
        pos = int(np.searchsorted(srt, a))
        return None if pos >= srt.size or srt[pos] != a else int(order[pos])

    def parent_of(a: int) -> int:
        row = row_of(a)
        if row is None:
            raise LineageError(f"agent {a} is not in the lineage")
        parent = int(parents[row])  # an id's range names the island it was born on
        foreign = parent != NO_PARENT and parent // ISLAND_ID_STRIDE != a // ISLAND_ID_STRIDE
        return NO_PARENT if foreign and row_of(parent) is None else parent

    chain = [int(agent_id)]
    parent = parent_of(chain[0])
    while parent != NO_PARENT:
        if len(chain) > ids.size:
            raise LineageError(f"agent {agent_id}: ancestry has a cycle")
        chain.append(parent)
        parent = parent_of(parent)
    return chain
