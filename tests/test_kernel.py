"""The kernel with broker, accounting and risk on: the execution-core acceptance items."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from list_journal import ListJournal

from scarline.assembly import kernel_for
from scarline.config import RunConfig
from scarline.events import (
    Deaths,
    Fills,
    KillSwitch,
    Orders,
    RiskChecks,
    RiskStateChange,
    Scars,
)
from scarline.kernel import Kernel
from scarline.market.stream import normalized
from scarline.market.synthetic import SynthSpec, generate
from scarline.operator import ReplayOperator
from scarline.replayer import replay_run
from scarline.risk.codes import OUTCOMES, RULES
from scarline.rundir import RunDir
from scarline.runner import execute_run, load_run_market
from scarline.session import SessionIds


def _kernel(cfg: RunConfig, market, kills: list[int] = ()) -> tuple[Kernel, ListJournal]:
    journal = ListJournal("test")
    ids = SessionIds("test", "s")
    operator = ReplayOperator(
        [
            KillSwitch(run_id="test", session_id="s", step=k, reason="test", source="cli")
            for k in kills
        ]
    )
    return kernel_for(cfg, market, ids, journal, operator), journal


def _synth(steps: int = 400, seed: int = 1, instruments: int = 2, volume: int = 10_000):
    return normalized(
        generate(SynthSpec(n_steps=steps, n_instruments=instruments, seed=seed, base_volume=volume))
    )


RANDOM = {
    "kind": "random-entry",
    "count": 6,
    "p_entry": 0.2,
    "p_exit": 0.1,
    "allow_short": True,
    "sizing": {"mode": "fraction", "fraction": 3.0},
}


def test_kill_switch_flattens_everything_and_nothing_opens_after() -> None:
    cfg = RunConfig(agents=[RANDOM, {"kind": "buy-and-hold"}])
    kernel, journal = _kernel(cfg, _synth(), kills=[200])
    kernel.run()
    assert kernel.killed_at == 200
    assert not kernel.accounts.position.any()  # flattened at the next open
    late = [o for o in journal.of(Orders) if o.step >= 200]
    assert late, "the kill must send flattening orders"
    # after the kill every fill shrinks a position: replay the fills from step 200 on
    held = kernel.accounts.position * 0
    for f in journal.of(Fills):
        for a, i, side, q in zip(
            f.agent.numpy(), f.instrument.numpy(), f.side.numpy(), f.qty.numpy(), strict=True
        ):
            before = held[a, i]
            held[a, i] += int(side) * int(q)
            if f.step > 200:
                assert abs(held[a, i]) < abs(before), "an order opened after the kill"
    killed = [RULES[r] for c in journal.of(RiskChecks) if c.step > 200 for r in c.rule.numpy()]
    assert set(killed) <= {"none", "kill_switch"}
    halts = [e for e in journal.of(RiskStateChange) if e.step == 200]
    assert halts and (halts[0].to_level.numpy() == 3).all()  # everyone to HALT


def test_drawdown_escalates_warn_throttle_halt_in_order() -> None:
    cfg = RunConfig(
        data={"source": "sp500", "start": "2007-06-01", "end": "2009-06-30"},
        agents=[{"kind": "buy-and-hold", "sizing": {"mode": "all-in"}}],
        risk={
            "ladder": {
                "warn_drawdown_pct": 10.0,
                "throttle_drawdown_pct": 20.0,
                "halt_drawdown_pct": 30.0,
                "global_drawdown": False,
            }
        },
    )
    kernel, journal = _kernel(cfg, load_run_market(cfg))
    kernel.run()
    path = [
        (e.step, int(to))
        for e in journal.of(RiskStateChange)
        for agent, to in zip(e.agent.numpy(), e.to_level.numpy(), strict=True)
        if agent == 0
    ]
    assert [level for _, level in path] == [1, 2, 3]  # WARN, THROTTLE, HALT
    steps = [s for s, _ in path]
    assert steps == sorted(steps) and len(set(steps)) == 3


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10_000), limit=st.integers(1, 400))
def test_no_position_ever_exceeds_its_limit(seed: int, limit: int) -> None:
    """Whatever the (random, oversized, long and short) policy does, the limit holds."""
    cfg = RunConfig(seed=seed, agents=[RANDOM], risk={"max_position_lots": limit})
    kernel, journal = _kernel(cfg, _synth(steps=150, seed=seed))
    journal.append(kernel._start, 0)
    for t in range(kernel.market.n_steps):
        kernel.step(t)
        assert np.abs(kernel.accounts.position).max() <= limit
    rejected = [
        RULES[r]
        for c in journal.of(RiskChecks)
        for r, o in zip(c.rule.numpy(), c.outcome.numpy(), strict=True)
        if OUTCOMES[o] != "pass"
    ]
    assert "max_position" in rejected  # the oversized policy did hit the limit


def test_two_agents_share_a_thin_bar_pro_rata() -> None:
    market = _synth(steps=60, instruments=1, volume=50)
    cfg = RunConfig(
        agents=[
            {"kind": "buy-and-hold", "sizing": {"mode": "fixed", "lots": 30}},
            {"kind": "buy-and-hold", "sizing": {"mode": "fixed", "lots": 90}},
        ],
        execution={"fill": {"participation_rate": 0.5}},
    )
    kernel, journal = _kernel(cfg, market)
    kernel.run()
    first = journal.of(Fills)[0]
    cap = int(0.5 * market.volume[first.step, 0])
    qty = first.qty.numpy()
    assert qty.sum() == cap < 120  # the bar was too thin for both
    assert first.agent.numpy().tolist() == [0, 1]
    assert abs(qty[1] - 3 * qty[0]) <= 3  # shared 1 : 3, like the requests


@pytest.mark.slow
def test_replay_parity_with_everything_on(tmp_path: Path) -> None:
    cfg = RunConfig(
        data={"source": "sp500", "start": "2004-01-01", "end": "2012-12-31"},
        agents=[
            RANDOM,
            {"kind": "sma-crossover", "fast": [5, 10], "slow": [30, 50]},
            {"kind": "buy-and-hold"},
            {"kind": "momentum"},
            {"kind": "mean-reversion"},
        ],
        execution={
            "fees": {"bps": 2.0, "minimum": 1.0},
            "slippage": {"fixed_bps": 1.0, "vol_coef": 0.5},
            "latency": {"steps": 1},
            "fill": {"participation_rate": 0.01},
        },
        risk={
            "max_position_lots": 3000,
            "max_gross_notional": 2_000_000.0,
            "max_orders_per_window": 3,
            "order_window_steps": 5,
            "ladder": {
                "warn_drawdown_pct": 5.0,
                "throttle_drawdown_pct": 10.0,
                "halt_drawdown_pct": 25.0,
                "breach_warn": 2,
                "breach_throttle": 4,
                "breach_halt": 8,
            },
        },
    )
    summary = execute_run(cfg, run_id="all-on", out_dir=tmp_path)
    result = replay_run(summary.run_dir)
    assert result.parity and result.wal_head_replayed == summary.wal_head


@pytest.mark.slow
def test_kill_flag_file_is_journaled_and_replays(tmp_path: Path) -> None:
    (tmp_path / RunDir.KILL).write_text("operator test")
    cfg = RunConfig(data={"source": "sp500", "end": "2000-12-31"}, agents=[RANDOM])
    summary = execute_run(cfg, run_id="killed", out_dir=tmp_path)
    assert summary.killed_at == 0
    result = replay_run(summary.run_dir)
    assert result.parity and result.wal_head_replayed == summary.wal_head


def test_quotes_feed_the_spread_rule() -> None:
    market = normalized(generate(SynthSpec(n_steps=200, seed=3, quotes=True)))
    cfg = RunConfig(agents=[RANDOM], risk={"max_spread_bps": 0.001})
    kernel, journal = _kernel(cfg, market)
    kernel.run()
    verdicts = {
        (RULES[r], OUTCOMES[o])
        for c in journal.of(RiskChecks)
        for r, o in zip(c.rule.numpy(), c.outcome.numpy(), strict=True)
    }
    assert ("spread", "reject") in verdicts
    assert not kernel.accounts.position.any()  # nothing could open through a 0.001 bps bound


def test_losses_scar_and_ruin_kills_and_the_dead_stop_trading() -> None:
    cfg = RunConfig(
        data={"source": "sp500", "start": "2007-06-01", "end": "2010-12-31"},
        agents=[
            {"kind": "buy-and-hold", "sizing": {"mode": "fraction", "fraction": 3.0}},
            {
                "kind": "random-entry",
                "count": 4,
                "p_entry": 0.3,
                "p_exit": 0.3,
                "allow_short": True,
            },
        ],
        scars={"drawdown_pct": 15.0, "ruin_fraction": 0.6},
    )
    kernel, journal = _kernel(cfg, load_run_market(cfg))
    kernel.run()
    scars = journal.of(Scars)
    deaths = journal.of(Deaths)
    assert scars and deaths
    assert 0 in {int(a) for d in deaths for a in d.agent.numpy()}  # the 3x levered holder
    died = next(d.step for d in deaths if 0 in d.agent.numpy())
    assert kernel.life.scars[0] >= 1 and not kernel.life.alive[0]
    assert kernel.life.floor[0] > 0  # its exploration floor rose for good
    late = [f for f in journal.of(Fills) if f.step > died + 1]
    assert all(0 not in f.agent.numpy() for f in late)  # flattened, then silent
    assert kernel.accounts.position[0].tolist() == [0]
