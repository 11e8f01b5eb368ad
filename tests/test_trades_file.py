"""``trades.parquet`` reconciles with the WAL's fills: per agent, its trades' lots and fees
are the fills', and their pnl sums to the agent's equity change, exactly enough to the cent."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scarline.config import RunConfig
from scarline.equity_file import read_equity
from scarline.events import Fills
from scarline.execution.types import CASH_SCALE
from scarline.journal import read_records
from scarline.runner import execute_run
from scarline.trades_file import (
    TradesFileError,
    read_trades,
    round_trips,
    trades_table,
    trips,
    write_trades,
)


def test_trades_reconcile_with_the_fills_and_the_equity(tmp_path: Path) -> None:
    cfg = RunConfig(
        seed=4,
        data={"source": "sp500-20", "start": "2018-01-01", "end": "2019-12-31"},
        report=False,
        agents=[
            {"kind": "sma-crossover", "fast": [5], "slow": [20], "allow_short": True},
            {"kind": "random-entry", "count": 4, "allow_short": True},
            {"kind": "momentum", "lookbacks": [10], "allow_short": True},
        ],
    )
    summary = execute_run(cfg, run_id="trades", out_dir=tmp_path)
    trades = pq.read_table(summary.run_dir / "trades.parquet").to_pandas()
    _, curves = read_equity(summary.run_dir / "equity.parquet")
    lots: Counter[int] = Counter()
    fees: Counter[int] = Counter()
    for rec in read_records(summary.run_dir / "wal", kinds=("Fills",)):
        f = rec.data
        assert isinstance(f, Fills)
        for a, q, fee in zip(f.agent.numpy(), f.qty.numpy(), f.fee.numpy(), strict=True):
            lots[int(a)] += int(q)
            fees[int(a)] += int(fee)
    assert len(trades) > 50 and (trades["side"] == "short").any() and trades["open"].any()
    for agent, curve in curves.items():
        mine = trades[trades["agent"] == agent]
        closed = mine[~mine["open"]]
        assert abs(mine["pnl"].sum() - (curve[-1] - curve[0])) < 1e-6, agent
        assert round(mine["fees"].sum() * CASH_SCALE) == fees[agent]
        assert (closed["entry_step"] <= closed["exit_step"]).all()
        # every lot filled either entered or left a trade: entries + exits = fills
        assert mine["qty"].sum() + mine["exit_qty"].sum() == lots[agent]
        assert (closed["qty"] == closed["exit_qty"]).all()
    assert (trades["bars_held"] >= 0).all() and (trades["entry_price"] > 0).all()


fills_strategy = st.lists(
    st.tuples(st.sampled_from([-1, 1]), st.integers(1, 9), st.integers(90, 110), st.integers(0, 5)),
    min_size=1,
    max_size=40,
)


@given(fills_strategy, st.integers(90, 110))
@settings(max_examples=200, deadline=None)
def test_round_trips_sum_to_the_books_cash_flow(
    rows: list[tuple[int, int, int, int]], last: int
) -> None:
    """One (agent, instrument): the trades' pnl = Σ fills' cash flow + the open mark, and
    positions cross zero only between trades."""
    n = len(rows)
    fills = {
        "step": np.arange(n, dtype=np.int64),
        "agent": np.zeros(n, dtype=np.int64),
        "instrument": np.zeros(n, dtype=np.int64),
        "side": np.array([r[0] for r in rows], dtype=np.int8),
        "qty": np.array([r[1] for r in rows], dtype=np.int64),
        "price": np.array([r[2] for r in rows], dtype=np.int64),
        "fee": np.array([r[3] for r in rows], dtype=np.int64),
    }
    unit = np.array([7], dtype=np.int64)
    trips = round_trips(fills, unit, np.array([last]), n)
    flow = sum(-(s * q * p * 7 + f) for s, q, p, f in rows)
    position = sum(s * q for s, q, _, _ in rows)
    total = sum(trade.flow + mark for trade, _, mark, _ in trips)
    assert total == flow + position * last * 7
    assert sum(trade.fees for trade, *_ in trips) == sum(r[3] for r in rows)
    assert sum(is_open for *_, is_open in trips) == (position != 0)
    for trade, *_ in trips:
        assert trade.entry_qty >= trade.exit_qty  # a trade never reverses inside itself


many_fills = st.lists(
    st.tuples(
        st.integers(0, 2),  # agent
        st.integers(0, 1),  # instrument
        st.sampled_from([-1, 1]),
        st.integers(1, 9),
        st.integers(90, 110),
        st.integers(0, 5),
    ),
    min_size=1,
    max_size=60,
)


@given(many_fills, st.integers(90, 110))
@settings(max_examples=300, deadline=None)
def test_the_vectorized_trips_equal_the_reference(
    rows: list[tuple[int, int, int, int, int, int]], last: int
) -> None:
    n = len(rows)
    fills = {
        "step": np.arange(n, dtype=np.int64) // 2,  # two fills may share a step
        "agent": np.array([r[0] for r in rows], dtype=np.int64),
        "instrument": np.array([r[1] for r in rows], dtype=np.int64),
        "side": np.array([r[2] for r in rows], dtype=np.int8),
        "qty": np.array([r[3] for r in rows], dtype=np.int64),
        "price": np.array([r[4] for r in rows], dtype=np.int64),
        "fee": np.array([r[5] for r in rows], dtype=np.int64),
    }
    unit, close = np.array([7, 3], dtype=np.int64), np.array([last, last + 1])
    ref = round_trips(fills, unit, close, n)
    got = trips(fills, unit, close, n)
    assert len(ref) == got.agent.size
    for k, (trade, exit_step, mark, is_open) in enumerate(ref):
        assert (trade.agent, trade.instrument, trade.side) == (
            got.agent[k],
            got.instrument[k],
            got.side[k],
        )
        assert (trade.entry_step, exit_step, is_open) == (
            got.entry_step[k],
            got.exit_step[k],
            got.is_open[k],
        )
        assert (trade.entry_qty, trade.entry_value, trade.exit_qty, trade.exit_value) == (
            got.entry_qty[k],
            got.entry_value[k],
            got.exit_qty[k],
            got.exit_value[k],
        )
        assert (trade.fees, trade.flow + mark) == (got.fees[k], got.pnl[k])


def test_no_fills_no_trades() -> None:
    empty = {k: np.zeros(0, dtype=np.int64) for k in ("step", "agent", "instrument", "qty")}
    empty |= {"side": np.zeros(0, np.int8), "price": np.zeros(0, np.int64)}
    empty["fee"] = np.zeros(0, np.int64)
    got = trips(empty, np.array([5]), np.array([100]), 10)
    assert got.agent.size == 0 and got.pnl.size == 0


def _table() -> pa.Table:
    fills = {
        "step": np.array([0, 2]),
        "agent": np.array([0, 0]),
        "instrument": np.array([0, 0]),
        "side": np.array([1, -1]),
        "qty": np.array([3, 3]),
        "price": np.array([100, 110]),
        "fee": np.array([5, 5]),
    }
    return trades_table(
        fills, np.array([10**6]), np.array([110]), np.arange(3) * 10**9, ["X"], np.array([0.01])
    )


def test_read_trades_gives_back_what_was_written(tmp_path: Path) -> None:
    table = _table()
    path = write_trades(tmp_path / "trades.parquet", table)
    assert read_trades(path).equals(table) and table.num_rows == 1


def test_a_torn_or_foreign_trades_file_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "trades.parquet"
    path.write_bytes(b"PAR1 not really")
    with pytest.raises(TradesFileError, match=r"trades\.parquet: cannot read the trades table"):
        read_trades(path)
    pq.write_table(pa.table({"x": [1]}), path)
    with pytest.raises(TradesFileError, match=r"not a trades table: no column 'agent', "):
        read_trades(path)
    table = _table()
    pq.write_table(
        table.set_column(table.schema.get_field_index("pnl"), "pnl", pa.array(["1"])), path
    )
    with pytest.raises(TradesFileError, match=r"column 'pnl' is string, expected double"):
        read_trades(path)
