"""The diary's columns (:data:`SCHEMA`, see docs/diary.md) and its errors (its file is
:attr:`scarline.rundir.RunDir.diary`)."""

from __future__ import annotations

import pyarrow as pa

from scarline.errors import ScarlineError

DEFAULT_HORIZON = 5
MAX_HORIZON = 2**31 - 1
"""The largest outcome horizon: ``outcome_horizon`` is an int32 column."""
"""Bars between a decision's close and the close its outcome is measured at."""
COVERAGE_TARGET = 0.95
NO_ORDER = "no-order"
"""``risk_outcome`` of a decision cell that produced no order intent."""
CONFIG_TEMPLATE = "config"
"""``risk_template`` of agents whose risk limits are the run config's alone (no genes)."""

_TEXT = pa.dictionary(pa.int32(), pa.string())
"""Text columns are dictionary-encoded (few distinct values; DuckDB reads them as VARCHAR)."""

SCHEMA = pa.schema(
    [
        pa.field("step", pa.int64(), nullable=False),
        pa.field("ts", pa.timestamp("ns"), nullable=False),
        pa.field("wal_seq", pa.int64(), nullable=False),
        pa.field("decision_id", _TEXT, nullable=False),
        pa.field("agent", pa.int64(), nullable=False),
        pa.field("group", _TEXT, nullable=False),
        pa.field("kind", _TEXT, nullable=False),
        pa.field("instrument", _TEXT, nullable=False),
        pa.field("policy_hash", _TEXT, nullable=False),
        pa.field("lineage_id", pa.int64()),
        pa.field("regime", _TEXT),
        pa.field("profile", _TEXT),
        pa.field("features_hash", _TEXT),
        pa.field("risk_template", _TEXT, nullable=False),
        pa.field("action", pa.float64(), nullable=False),
        pa.field("prev_target_qty", pa.int64(), nullable=False),
        pa.field("target_qty", pa.int64(), nullable=False),
        pa.field("reason", _TEXT, nullable=False),
        pa.field("trust", pa.float64()),
        pa.field("order_id", pa.int64()),
        pa.field("orders", pa.int32(), nullable=False),
        pa.field("risk_outcome", _TEXT, nullable=False),
        pa.field("risk_rule", _TEXT),
        pa.field("requested_qty", pa.int64(), nullable=False),
        pa.field("approved_qty", pa.int64(), nullable=False),
        pa.field("filled_qty", pa.int64(), nullable=False),
        pa.field("avg_fill_price", pa.float64()),
        pa.field("outcome_horizon", pa.int32(), nullable=False),
        pa.field("outcome_return", pa.float64()),
    ],
    metadata={"scarline.schema": "diary/2"},
)
"""Columns of ``diary.parquet``, in order (see docs/diary.md)."""


class DiaryError(ScarlineError):
    """The diary cannot be built or read (missing run directory, WAL, config or file)."""


class MissingDiary(DiaryError):
    """The run directory or its diary does not exist."""

    exit_code = 2
