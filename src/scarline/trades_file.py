"""``trades.parquet``: every agent's round trips, from its fills, in exact cash units.

A trade opens when an (agent, instrument) position leaves zero and closes when it is back
at zero; a fill that crosses zero closes one trade and opens the next (its lots and fee split
between them). A trade still open at the end is marked at the last close (``open`` true).
``pnl`` is the trade's whole cash flow, ``Σ -(side × qty × price × lot value + fee)`` plus
that mark, so the trades of an agent sum to its equity change exactly (the books' identity
``equity = cash + marked position``): ``trades.parquet`` reconciles with the WAL's fills.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from scarline.execution.types import CASH_SCALE
from scarline.parquet_io import write_parquet_atomic

ROW_GROUP = 65_536


@dataclass
class _Open:
    """A trade being built (cash units, lots, ticks)."""

    agent: int
    instrument: int
    side: int
    entry_step: int
    entry_qty: int = 0
    entry_value: int = 0  # Σ qty × price × lot value of the entries
    exit_qty: int = 0
    exit_value: int = 0
    fees: int = 0
    flow: int = 0  # Σ -(side × notional + fee)


def round_trips(
    fills: dict[str, np.ndarray],
    unit_values: np.ndarray,
    last_close: np.ndarray,
    n_steps: int,
) -> list[tuple[_Open, int, int, bool]]:
    """The trades of ``fills`` (the recorder's, in fill order): ``(trade, exit step, mark,
    open)``; ``mark`` is an open trade's position value at ``last_close`` (cash units)."""
    rows: list[tuple[_Open, int, int, bool]] = []
    live: dict[tuple[int, int], _Open] = {}
    position: dict[tuple[int, int], int] = {}
    cols = [fills[k].tolist() for k in ("step", "agent", "instrument", "side", "qty", "price")]
    for step, agent, inst, side, qty, price, fee in zip(*cols, fills["fee"].tolist(), strict=True):
        key = (agent, inst)
        unit = int(price) * int(unit_values[inst])
        pos = position.get(key, 0)
        closing = min(abs(pos), qty) if pos * side < 0 else 0
        parts = []
        if closing:
            fee_close = fee * closing // qty
            parts.append((closing, fee_close))
            if qty > closing:
                parts.append((qty - closing, fee - fee_close))
        else:
            parts.append((qty, fee))
        for lots, part_fee in parts:
            trade = live.get(key)
            if trade is None:
                trade = live[key] = _Open(agent, inst, side, step)
            notional = lots * unit
            if side == trade.side:
                trade.entry_qty += lots
                trade.entry_value += notional
            else:
                trade.exit_qty += lots
                trade.exit_value += notional
            trade.fees += part_fee
            trade.flow -= side * notional + part_fee
            pos += side * lots
            if pos == 0:
                rows.append((live.pop(key), step, 0, False))
        position[key] = pos
    for key, trade in live.items():
        mark = position[key] * int(last_close[key[1]]) * int(unit_values[key[1]])
        rows.append((trade, n_steps - 1, mark, True))
    rows.sort(key=lambda r: (r[0].agent, r[0].entry_step, r[0].instrument))
    return rows


def trades_table(
    fills: dict[str, np.ndarray],
    unit_values: np.ndarray,
    last_close: np.ndarray,
    timestamps: np.ndarray,
    symbols: list[str],
    tick_sizes: np.ndarray,
) -> pa.Table:
    """The round trips as a table (currency units; prices per unit of the instrument)."""
    n_steps = len(timestamps)
    trips = round_trips(fills, unit_values, last_close, n_steps)
    per_tick = {i: float(tick_sizes[i]) / float(unit_values[i]) for i in range(len(symbols))}

    def price(value: int, qty: int, inst: int) -> float:
        return float("nan") if qty == 0 else value / qty * per_tick[inst]

    columns: dict[str, list] = {k: [] for k in _SCHEMA.names}
    for trade, exit_step, mark, is_open in trips:
        pnl = trade.flow + mark
        exit_price = (
            price(trade.exit_value, trade.exit_qty, trade.instrument)
            if not is_open
            else float(last_close[trade.instrument]) * float(tick_sizes[trade.instrument])
        )
        row = {
            "agent": trade.agent,
            "instrument": symbols[trade.instrument],
            "side": "long" if trade.side > 0 else "short",
            "qty": trade.entry_qty,
            "exit_qty": trade.exit_qty,
            "entry_step": trade.entry_step,
            "exit_step": exit_step,
            "entry_time": int(timestamps[trade.entry_step]),
            "exit_time": int(timestamps[exit_step]),
            "entry_price": price(trade.entry_value, trade.entry_qty, trade.instrument),
            "exit_price": exit_price,
            "pnl": pnl / CASH_SCALE,
            "fees": trade.fees / CASH_SCALE,
            "return_pct": 100.0 * pnl / trade.entry_value if trade.entry_value else 0.0,
            "bars_held": exit_step - trade.entry_step,
            "open": is_open,
        }
        for k, v in row.items():
            columns[k].append(v)
    return pa.table(columns, schema=_SCHEMA)


_SCHEMA = pa.schema(
    [
        ("agent", pa.int64()),
        ("instrument", pa.string()),
        ("side", pa.string()),
        ("qty", pa.int64()),
        ("exit_qty", pa.int64()),
        ("entry_step", pa.int64()),
        ("exit_step", pa.int64()),
        ("entry_time", pa.timestamp("ns", tz="UTC")),
        ("exit_time", pa.timestamp("ns", tz="UTC")),
        ("entry_price", pa.float64()),
        ("exit_price", pa.float64()),
        ("pnl", pa.float64()),
        ("fees", pa.float64()),
        ("return_pct", pa.float64()),
        ("bars_held", pa.int64()),
        ("open", pa.bool_()),
    ]
)


def write_trades(path: Path, table: pa.Table) -> Path:
    return write_parquet_atomic(table, path, ROW_GROUP)
