"""Per-symbol lot sizes for files (``[data] lot_sizes``): fractional crypto volumes count in
exact lots, the instruments carry the lot, and a run trades fractional quantities."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from scarline.config import RunConfig
from scarline.errors import ConfigError
from scarline.journal import read_records
from scarline.market.io import load_market
from scarline.rundir import RunDir
from scarline.runner import execute_run, load_run_market


def _csv(path: Path) -> Path:
    lines = ["timestamp,symbol,open,high,low,close,volume"]
    for day in range(1, 29):
        p = 30000 + 37 * day
        lines.append(f"2024-01-{day:02d},BTC/USDT,{p},{p + 50},{p - 50},{p},1.23456")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_volumes_count_in_the_configured_lot(tmp_path: Path) -> None:
    market = load_market(_csv(tmp_path / "btc.csv"), lot_sizes={"BTC/USDT": "0.00001"})
    assert market.instruments[0].lot_size == "0.00001"
    assert int(market.volume[0, 0]) == 123456
    assert load_market(tmp_path / "btc.csv").instruments[0].lot_size == "1"


def test_a_run_buys_a_fractional_amount_and_an_unknown_symbol_is_refused(tmp_path: Path) -> None:
    data = str(_csv(tmp_path / "btc.csv"))
    cfg = RunConfig(
        data={"source": data, "lot_sizes": {"BTC/USDT": "0.00001"}, "calendar": "24/7"},
        agents=[{"kind": "buy-and-hold"}],
        accounts={"initial_cash": 1000.0},
        report=False,
    )
    summary = execute_run(cfg, run_id="lots", out_dir=tmp_path / "runs")
    fills = [r.data for r in read_records(RunDir(summary.run_dir).wal, kinds=("Fills",))]
    btc = Decimal(int(fills[0].qty.numpy()[0])) * Decimal("0.00001")
    assert Decimal("0.02") < btc < Decimal("0.04")  # ~1,000 USDT of BTC, not a whole coin
    with pytest.raises(ConfigError, match="ETH/USDT"):
        load_run_market(cfg.with_overrides(**{"data.lot_sizes": {"ETH/USDT": "0.001"}}))
