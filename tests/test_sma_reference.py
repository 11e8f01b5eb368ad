"""The textbook SMA(10,30) backtest, checked against an independent plain-Python loop."""

from pathlib import Path

import numpy as np
import pytest

from scarline.config import load_config
from scarline.events import Fills
from scarline.execution.types import CASH_SCALE, unit_values
from scarline.journal import read_records
from scarline.journal.quiet_run import row_records
from scarline.market.datasets import load_dataset
from scarline.runner import execute_run

ROOT = Path(__file__).resolve().parents[1]
UV = int(unit_values(["0.01"], ["1"])[0])  # sp500: tick 0.01 x lot 1, in cash units


def reference_loop(o: list[int], c: list[int], cash: int) -> tuple[list[tuple], int]:
    """Long when SMA10 > SMA30 at a close, flat otherwise; all-in; fill at the next open.

    Sizing uses the decision close (all cash / close); if the next open is higher, the buy
    is cut to what the cash affords at that open. No fees, no slippage. Integer cents.
    """
    trades, pos, pending, prev = [], 0, None, 0
    for t in range(len(c)):
        if pending is not None:
            side, qty = pending
            if side > 0:
                qty = min(qty, cash // (o[t] * UV))
            if qty > 0:
                cash -= side * qty * o[t] * UV
                pos += side * qty
                trades.append((t, side, qty, o[t]))
            pending = None
        signal = 0
        if t >= 29 and sum(c[t - 9 : t + 1]) * 30 > sum(c[t - 29 : t + 1]) * 10:
            signal = 1
        if signal != prev:
            if signal == 1:
                qty = cash // (c[t] * UV)
                pending = (1, qty) if qty > 0 else None
            elif pos > 0:
                pending = (-1, pos)
        prev = signal
    return trades, cash + pos * c[-1] * UV


def wal_trades(run_dir: Path) -> list[tuple]:
    """Every fill the WAL holds, those its quiet runs stand for included."""
    out = []
    for rec in row_records(read_records(run_dir / "wal", kinds=("Fills", "QuietRun"))):
        if not isinstance(rec.data, Fills):
            continue
        f = rec.data
        for side, qty, price in zip(f.side.numpy(), f.qty.numpy(), f.price.numpy(), strict=True):
            out.append((f.step, int(side), int(qty), int(price)))
    return out


@pytest.mark.slow
def test_sma_crossover_matches_the_reference_to_the_cent(tmp_path: Path) -> None:
    cfg = load_config(ROOT / "configs" / "sma-crossover.toml")
    summary = execute_run(cfg, run_id="sma", out_dir=tmp_path)
    market = load_dataset("sp500")
    expected_trades, expected_final = reference_loop(
        market.open[:, 0].tolist(), market.close[:, 0].tolist(), 1_000_000 * CASH_SCALE
    )
    assert wal_trades(summary.run_dir) == expected_trades
    assert len(expected_trades) > 100
    (agent,) = summary.agents()
    assert round(agent["final_equity"], 2) == round(expected_final / CASH_SCALE, 2)
    assert agent["trades"] == len(expected_trades)
    assert agent["fees"] == 0.0


@pytest.mark.slow
def test_fees_and_slippage_explain_the_whole_equity_difference(tmp_path: Path) -> None:
    """Fixed-size trades are the same with or without costs, so the equity gap is the costs."""
    base = load_config(ROOT / "configs" / "sma-crossover.toml").with_overrides(
        **{"agents.0.sizing.mode": "fixed", "agents.0.sizing.lots": 100}
    )
    costly = base.with_overrides(
        **{
            "execution.fees.bps": 5.0,
            "execution.fees.minimum": 1.0,
            "execution.slippage.fixed_bps": 3.0,
            "execution.slippage.vol_coef": 0.2,
        }
    )
    free = execute_run(base, run_id="free", out_dir=tmp_path).agents()[0]
    paid = execute_run(costly, run_id="paid", out_dir=tmp_path).agents()[0]
    assert free["trades"] == paid["trades"] > 100
    assert paid["fees"] > 0 and paid["slippage"] > 0
    gap = free["final_equity"] - paid["final_equity"]
    assert gap == pytest.approx(paid["fees"] + paid["slippage"], abs=1e-6)
    assert np.isclose(free["fees"] + free["slippage"], 0.0)
