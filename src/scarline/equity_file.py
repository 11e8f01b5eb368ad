"""``equity.parquet``: every agent's equity at every step, so a finished run's curves can be
read (a dashboard, a notebook) without replaying it.

One row per step: ``ts`` (the bar's time, ns since the epoch) and one float64 column per
agent, named by its agent id, in currency units (the kernel's integer cash divided by
``CASH_SCALE``: exact to the cent and far below). Written once as the run closes, with
:func:`~scarline.parquet_io.write_parquet_atomic` so the same run gives the same bytes and the
manifest can bind it by sha256.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from scarline.errors import ScarlineError
from scarline.execution.types import CASH_SCALE
from scarline.parquet_io import write_parquet_atomic

TS = "ts"
ROW_GROUP = 4096


def write_equity(
    path: Path, timestamps: np.ndarray, agent_ids: np.ndarray, equity: np.ndarray
) -> Path:
    """Write ``equity`` (``int64[T, N]`` cash units, the recorder's) at ``timestamps[:T]``."""
    steps = equity.shape[0]
    columns = {TS: pa.array(np.asarray(timestamps[:steps], dtype=np.int64))}
    values = equity.astype(np.float64) / CASH_SCALE
    for k, agent in enumerate(np.asarray(agent_ids).tolist()):
        columns[str(agent)] = pa.array(values[:, k])
    return write_parquet_atomic(pa.table(columns), path, ROW_GROUP)


class EquityFileError(ScarlineError):
    """``equity.parquet`` cannot be read; ``str(err)`` names the file."""


def read_equity(path: Path) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """``(ts int64[T], {agent id: float64[T]})`` from a file :func:`write_equity` wrote."""
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as err:
        raise EquityFileError(f"{path}: cannot read the equity table ({err})") from err
    if TS not in table.column_names:
        raise EquityFileError(f"{path}: no {TS!r} column")
    ts = table.column(TS).to_numpy().astype(np.int64)
    curves: dict[int, np.ndarray] = {}
    for name in table.column_names:
        if name == TS:
            continue
        if not name.isdigit():
            raise EquityFileError(f"{path}: column {name!r} is not an agent id")
        curves[int(name)] = table.column(name).to_numpy().astype(np.float64)
    return ts, curves
