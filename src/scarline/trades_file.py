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
import pyarrow.parquet as pq

from scarline.errors import ScarlineError
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
    open)``; ``mark`` is an open trade's position value at ``last_close`` (cash units).

    The reference: one fill at a time, as a person would book them. :func:`trips` is the
    vectorized version the runner uses; tests hold the two equal."""
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


@dataclass(frozen=True, eq=False)
class Trips:
    """The round trips as arrays (one entry per trade; cash units, lots, steps)."""

    agent: np.ndarray
    instrument: np.ndarray
    side: np.ndarray
    entry_step: np.ndarray
    exit_step: np.ndarray
    entry_qty: np.ndarray
    entry_value: np.ndarray
    exit_qty: np.ndarray
    exit_value: np.ndarray
    fees: np.ndarray
    pnl: np.ndarray  # flow + mark
    is_open: np.ndarray


def trips(
    fills: dict[str, np.ndarray], unit_values: np.ndarray, last_close: np.ndarray, n_steps: int
) -> Trips:
    """:func:`round_trips`, vectorized (a run has ~10^6 fills): sort the fills by (agent,
    instrument), split the fills that cross zero in two, number the trades where the position
    leaves zero, and sum each trade's contiguous rows exactly in int64."""
    m = max(int(unit_values.shape[0]), 1)
    key = fills["agent"].astype(np.int64) * m + fills["instrument"].astype(np.int64)
    order = np.argsort(key, kind="stable")  # fill order kept within a key
    key = key[order]
    side = fills["side"][order].astype(np.int64)
    qty = fills["qty"][order].astype(np.int64)
    fee = fills["fee"][order].astype(np.int64)
    step = fills["step"][order].astype(np.int64)
    inst = fills["instrument"][order].astype(np.int64)
    unit = fills["price"][order].astype(np.int64) * unit_values.astype(np.int64)[inst]
    before = _position_before(key, side * qty)
    after = before + side * qty
    crossing = (before != 0) & (after != 0) & (np.sign(after) != np.sign(before))
    # split each crossing fill: the lots that close (|before|) and the rest, which open
    reps = np.where(crossing, 2, 1)
    rows = np.repeat(np.arange(key.size), reps)
    second = np.zeros(rows.size, dtype=bool)
    second[np.cumsum(reps)[crossing] - 1] = True
    closing = np.abs(before)[rows]
    split = crossing[rows]
    first_lots = np.where(split, closing, qty[rows])
    lots = np.where(second, qty[rows] - closing, first_lots)
    fee_close = fee[rows] * closing // np.maximum(qty[rows], 1)
    fees = np.where(split, np.where(second, fee[rows] - fee_close, fee_close), fee[rows])
    key, side, step, inst, unit = key[rows], side[rows], step[rows], inst[rows], unit[rows]
    before = _position_before(key, side * lots)
    after = before + side * lots
    starts = np.flatnonzero(before == 0)  # a trade begins where the position leaves zero
    trade_side = np.repeat(side[starts], np.diff(np.append(starts, key.size)))
    entering = side == trade_side
    notional = lots * unit
    flow = -(side * notional + fees)
    ends = np.append(starts[1:], key.size)[: starts.size] - 1  # none without fills
    closed = after[ends] == 0
    agent, instrument = key[starts] // m, key[starts] % m
    mark = np.where(closed, 0, after[ends] * last_close.astype(np.int64)[instrument]
                    * unit_values.astype(np.int64)[instrument])  # fmt: skip

    def total(values: np.ndarray) -> np.ndarray:
        return np.add.reduceat(values, starts) if starts.size else values[:0]

    out = Trips(
        agent=agent,
        instrument=instrument,
        side=side[starts],
        entry_step=step[starts],
        exit_step=np.where(closed, step[ends], n_steps - 1),
        entry_qty=total(np.where(entering, lots, 0)),
        entry_value=total(np.where(entering, notional, 0)),
        exit_qty=total(np.where(entering, 0, lots)),
        exit_value=total(np.where(entering, 0, notional)),
        fees=total(fees),
        pnl=total(flow) + mark,
        is_open=~closed,
    )
    by = np.lexsort((out.instrument, out.entry_step, out.agent))
    return Trips(*(getattr(out, f)[by] for f in Trips.__dataclass_fields__))


def _position_before(key: np.ndarray, signed: np.ndarray) -> np.ndarray:
    """The position of each row's (agent, instrument) before it (rows sorted by key)."""
    running = np.cumsum(signed)
    first = np.ones(key.size, dtype=bool)
    first[1:] = key[1:] != key[:-1]
    base = np.maximum.accumulate(np.where(first, np.arange(key.size), 0))
    offset = running[base] - signed[base]  # the running sum before each key's first row
    return running - signed - offset


def trades_table(
    fills: dict[str, np.ndarray],
    unit_values: np.ndarray,
    last_close: np.ndarray,
    timestamps: np.ndarray,
    symbols: list[str],
    tick_sizes: np.ndarray,
) -> pa.Table:
    """The round trips as a table (currency units; prices per unit of the instrument)."""
    t = trips(fills, unit_values, last_close, len(timestamps))
    per_tick = np.asarray(tick_sizes, dtype=np.float64) / unit_values.astype(np.float64)
    scale = per_tick[t.instrument]
    with np.errstate(invalid="ignore", divide="ignore"):
        entry_price = np.where(t.entry_qty > 0, t.entry_value / t.entry_qty * scale, np.nan)
        exit_price = np.where(t.exit_qty > 0, t.exit_value / t.exit_qty * scale, np.nan)
        ret = np.where(t.entry_value > 0, 100.0 * t.pnl / t.entry_value, 0.0)
    marked = last_close.astype(np.float64)[t.instrument] * np.asarray(tick_sizes)[t.instrument]
    columns = {
        "agent": t.agent,
        "instrument": np.asarray(symbols, dtype=object)[t.instrument],
        "side": np.where(t.side > 0, "long", "short"),
        "qty": t.entry_qty,
        "exit_qty": t.exit_qty,
        "entry_step": t.entry_step,
        "exit_step": t.exit_step,
        "entry_time": np.asarray(timestamps, dtype=np.int64)[t.entry_step],
        "exit_time": np.asarray(timestamps, dtype=np.int64)[t.exit_step],
        "entry_price": entry_price,
        "exit_price": np.where(t.is_open, marked, exit_price),
        "pnl": t.pnl / CASH_SCALE,
        "fees": t.fees / CASH_SCALE,
        "return_pct": ret,
        "bars_held": t.exit_step - t.entry_step,
        "open": t.is_open,
    }
    arrays = [pa.array(columns[f.name], type=f.type) for f in _SCHEMA]
    return pa.Table.from_arrays(arrays, schema=_SCHEMA)


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


class TradesFileError(ScarlineError):
    """``trades.parquet`` cannot be read, or is not a trades table; ``str(err)`` names the
    file (and the column)."""


def read_trades(path: Path) -> pa.Table:
    """The table :func:`write_trades` wrote, checked against its schema (every column, with
    its type; the schema has not changed since the file exists), so a torn, foreign or edited
    file is one :class:`TradesFileError` here rather than a ``KeyError`` in whatever reads a
    column later."""
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as err:
        raise TradesFileError(f"{path}: cannot read the trades table ({err})") from err
    check_trades_schema(path, table.schema)
    return table


def check_trades_schema(path: Path, schema: pa.Schema) -> None:
    """Raise :class:`TradesFileError` naming the first missing or mistyped column."""
    missing = [f.name for f in _SCHEMA if f.name not in schema.names]
    if missing:
        raise TradesFileError(
            f"{path}: not a trades table: no column {', '.join(map(repr, missing))}"
        )
    for field in _SCHEMA:
        found = schema.field(field.name).type
        if found != field.type:
            raise TradesFileError(
                f"{path}: column {field.name!r} is {found}, expected {field.type}"
            )
