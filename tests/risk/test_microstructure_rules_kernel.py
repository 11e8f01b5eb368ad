"""End to end: planted spread shocks are refused in the WAL (``spread_shock``); off, they trade."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from list_journal import ListJournal

from scarline.assembly import kernel_for
from scarline.config import RunConfig
from scarline.events import Orders, RiskChecks
from scarline.features.microstructure import microstructure_table
from scarline.journal import read_records
from scarline.kernel import Kernel
from scarline.market.frame import MarketData, Quotes
from scarline.market.io import write_market
from scarline.market.stream import normalized
from scarline.market.synthetic import SynthSpec, generate
from scarline.operator import ReplayOperator
from scarline.replayer import replay_run
from scarline.risk.codes import OUTCOMES, RULES
from scarline.runner import execute_run
from scarline.session import SessionIds

SHOCK = (60, 100, 140, 180, 220)  # bars whose spread is widened to 200 ticks
SHOCK_Z = 25.0
# a short memory: a shock inflates the spread std, and the next one must stand out again
MICRO = {"spread_shock_z": SHOCK_Z, "spread_halflife": 4.0}
LONG_ONLY = {
    "kind": "random-entry",
    "count": 12,
    "p_entry": 0.3,
    "p_exit": 0.2,
    "sizing": {"mode": "fraction", "fraction": 0.5},
}


def shocked_market() -> MarketData:
    market = normalized(generate(SynthSpec(n_steps=280, n_instruments=2, seed=5, quotes=True)))
    q = market.quotes
    assert q is not None
    bid, ask = q.bid.copy(), q.ask.copy()
    rows = list(SHOCK)
    bid[rows], ask[rows] = market.close[rows] - 100, market.close[rows] + 100
    return dataclasses.replace(market, quotes=Quotes(bid, ask, q.bid_size, q.ask_size))


def run(cfg: RunConfig, market: MarketData) -> tuple[Kernel, ListJournal]:
    journal = ListJournal("test")
    kernel = kernel_for(cfg, market, SessionIds("test", "s"), journal, ReplayOperator([]))
    kernel.run()
    return kernel, journal


def verdicts(journal: ListJournal) -> list[tuple[int, str, str]]:
    return [
        (c.step, RULES[r], OUTCOMES[o])
        for c in journal.of(RiskChecks)
        for r, o in zip(c.rule.numpy(), c.outcome.numpy(), strict=True)
    ]


def buys_at(journal: ListJournal, steps: set[int]) -> int:
    return sum(int((o.side.numpy() > 0).sum()) for o in journal.of(Orders) if o.step in steps)


def test_the_planted_shock_is_what_the_table_sees() -> None:
    cfg = RunConfig(risk={"microstructure": MICRO})
    table = microstructure_table(shocked_market(), cfg.risk.microstructure)
    over = {int(t) for t in np.flatnonzero((table.spread_z > SHOCK_Z).any(axis=1))}
    assert over == set(SHOCK)


def test_orders_at_shock_bars_are_rejected_with_spread_shock_and_trade_when_off() -> None:
    market = shocked_market()
    on_cfg = RunConfig(agents=[LONG_ONLY], risk={"microstructure": MICRO})
    _, on = run(on_cfg, market)
    shock = set(SHOCK)
    seen = verdicts(on)
    shocked = [(s, r, o) for s, r, o in seen if r == "spread_shock"]
    assert shocked, "intents at the shock bars must meet the filter"
    assert {s for s, _, _ in shocked} <= shock  # only the planted bars
    assert all(o == "reject" for _, _, o in shocked)
    at_shock = [(r, o) for s, r, o in seen if s in shock]
    assert {r for r, _ in at_shock} <= {"none", "spread_shock"}
    # long-only agents: a buy opens, so none is approved at a shock bar; sells (closing) are
    assert buys_at(on, shock) == 0
    assert any(o.step in shock and (o.side.numpy() < 0).any() for o in on.of(Orders))

    off_cfg = RunConfig(agents=[LONG_ONLY])
    _, off = run(off_cfg, market)
    assert buys_at(off, shock) > 0  # the same market with the filters off trades there
    assert not any(r == "spread_shock" for _, r, _ in verdicts(off))


def test_vpin_throttles_are_in_the_wal() -> None:
    market = shocked_market()
    cfg = RunConfig(agents=[LONG_ONLY], risk={"microstructure": {"vpin_throttle": 0.0}})
    _, journal = run(cfg, market)
    rows = [
        (req, app)
        for c in journal.of(RiskChecks)
        for r, o, req, app in zip(
            c.rule.numpy(), c.outcome.numpy(), c.requested.numpy(), c.approved.numpy(), strict=True
        )
        if RULES[r] == "vpin"
    ]
    assert len(rows) > 20
    assert all(app == req // 2 for req, app in rows)  # throttle_factor 0.5, floored
    assert "vpin" in journal.of(RiskChecks)[0].rules


@pytest.mark.slow
def test_replay_parity_with_microstructure_filters_on(tmp_path: Path) -> None:
    path = write_market(shocked_market(), tmp_path / "shocked.csv")
    cfg = RunConfig(
        data={"source": str(path)},
        agents=[LONG_ONLY, {"kind": "momentum"}],
        risk={
            "microstructure": {
                **MICRO,
                "vpin_throttle": 0.6,
                "vpin_block": 0.8,
                "max_imbalance": 0.6,
                "max_stale_bars": 3,
                "block_invalid_quotes": True,
            }
        },
        report=False,
    )
    summary = execute_run(cfg, run_id="micro", out_dir=tmp_path / "runs")
    wal = summary.run_dir / "wal"
    hit = {
        (RULES[r], OUTCOMES[o])
        for rec in read_records(wal, kinds=("RiskChecks",))
        for r, o in zip(rec.data.rule.numpy(), rec.data.outcome.numpy(), strict=True)
    }
    assert {("spread_shock", "reject"), ("vpin", "throttle")} <= hit  # the filters acted
    result = replay_run(summary.run_dir)
    assert result.parity and result.wal_head_replayed == summary.wal_head
    assert result.config_matches_manifest
