"""A DataFrame a user hands to ``backtest`` becomes a source file the run can name.

A run must be able to re-read its input (replay, the gates' G0), so a DataFrame is written as
the long CSV every loader reads (``timestamp,symbol,open,high,low,close,volume``), named by the
sha256 of its bytes under ``<out_dir>/inputs/`` (the same data is written once). Accepted
shapes: long (a ``symbol`` column), wide (columns ``(field, symbol)``, as ``data`` is in
``Strategy.signals``), or one symbol's OHLCV columns; the time is the index or a
``timestamp``/``date``/``datetime``/``time`` column.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd

from scarline.errors import DataError

FIELDS = ("open", "high", "low", "close", "volume")
TIME_NAMES = ("timestamp", "date", "datetime", "time")


def _with_time(frame: pd.DataFrame) -> pd.DataFrame:
    lower = {str(c).lower(): c for c in frame.columns}
    for name in TIME_NAMES:
        if name in lower:
            return frame.rename(columns={lower[name]: "timestamp"})
    if isinstance(frame.index, pd.DatetimeIndex):
        return frame.rename_axis("timestamp").reset_index()
    raise DataError("data: no time (a DatetimeIndex or a timestamp/date/datetime/time column)")


def long_frame(data: pd.DataFrame, symbol: str = "ASSET") -> pd.DataFrame:
    """``data`` in long format (``timestamp, symbol`` and the price/volume columns)."""
    if isinstance(data.columns, pd.MultiIndex):
        if data.columns.nlevels != 2:
            raise DataError("data: MultiIndex columns must be (field, symbol)")
        stacked = data.stack(level=1, future_stack=True)
        stacked.index = stacked.index.set_names(["timestamp", "symbol"])
        out = stacked.reset_index()
        out = out.dropna(subset=[c for c in ("close",) if c in out.columns])
    else:
        out = _with_time(data)
        if "symbol" not in {str(c).lower() for c in out.columns}:
            out = out.assign(symbol=symbol)
    out.columns = [str(c).lower() for c in out.columns]
    if "timestamp" not in out.columns:
        out = _with_time(out)
    missing = [c for c in ("close",) if c not in out.columns]
    if missing:
        raise DataError(f"data: no {', '.join(missing)} column")
    keep = ["timestamp", "symbol", *[f for f in FIELDS if f in out.columns]]
    out = out[keep].copy()
    ts = pd.to_datetime(out["timestamp"], utc=True)
    out["timestamp"] = ts.dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    for f in FIELDS[:4]:
        if f in out.columns:
            out[f] = out[f].astype(float).round(8)
    return out


def frame_source(data: pd.DataFrame, out_dir: Path, symbol: str = "ASSET") -> Path:
    """Write ``data`` as a long CSV under ``out_dir/inputs`` (named by content); its path."""
    text = long_frame(data, symbol).to_csv(index=False, lineterminator="\n")
    raw = text.encode("utf-8")
    path = out_dir / "inputs" / f"frame-{hashlib.sha256(raw).hexdigest()[:16]}.csv"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(raw)
        tmp.replace(path)
    return path
