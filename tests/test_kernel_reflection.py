"""The kernel's regime stage and drift sentry, end to end: a regime flip switches the profile
at that very step (in the WAL and in the decision diary), injected alpha decay fires the
sentry (freeze + halved size in the WAL, a theory packet on disk), and a run with all of it on
replays with parity."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from list_journal import ListJournal

from scarline.assembly import kernel_for
from scarline.config import RunConfig
from scarline.diary.query import query_diary
from scarline.events import EXPLORE, FORCED_FLAT, Decision, DriftAlarms, Orders, RegimeChange
from scarline.execution.types import LIMIT
from scarline.journal import read_records
from scarline.kernel import Kernel
from scarline.market.frame import MarketData
from scarline.market.io import write_market
from scarline.market.stream import normalized
from scarline.market.synthetic import SynthSpec, generate
from scarline.operator import ReplayOperator
from scarline.reflect.theory import read_packet
from scarline.regime.hmm import REGIME_NAMES
from scarline.replayer import replay_run
from scarline.runner import execute_run
from scarline.session import SessionIds

STAY = 0.99
CHANGE = 300  # the bar where the decaying market turns


def run(cfg: RunConfig, market: MarketData) -> tuple[Kernel, ListJournal]:
    journal = ListJournal()
    kernel = kernel_for(cfg, market, SessionIds("test", "s"), journal, ReplayOperator([]))
    kernel.run()
    return kernel, journal


def sticky_market() -> MarketData:
    jump = (1.0 - STAY) / 2
    transition = tuple(tuple(STAY if i == j else jump for j in range(3)) for i in range(3))
    spec = SynthSpec(n_steps=1200, n_instruments=4, seed=0, transition=transition, garch_beta=0.5)
    return normalized(generate(spec))


REGIME_ROUTER = {
    "hmm": {"enabled": True, "min_history": 400},
    "router": {
        "enabled": True,
        "rules": [
            {"regime": "chaos", "profile": "defensive"},
            {"regime": "trend", "profile": "trend"},
            {"profile": "normal"},
        ],
    },
}
RANDOM = {"kind": "random-entry", "count": 8, "p_entry": 0.3, "p_exit": 0.2}


def test_a_regime_flip_switches_the_profile_at_that_very_step() -> None:
    cfg = RunConfig(agents=[RANDOM], regime=REGIME_ROUTER, report=False)
    kernel, journal = run(cfg, sticky_market())
    names = kernel.regimes.table.names  # type: ignore[union-attr]
    expected = {"calm": "normal", "trend": "trend", "chaos": "defensive"}
    decisions = {d.step: d for d in journal.of(Decision)}
    for d in decisions.values():  # every decision carries the regime and profile in force
        assert d.profiles is not None and d.features_hash
        assert {names[p] for p in d.profiles.numpy()} == {expected[REGIME_NAMES[d.regime]]}
    flips = journal.of(RegimeChange)
    assert len(flips) >= 5
    for flip in flips:
        before, at = decisions[flip.step - 1], decisions[flip.step]
        assert REGIME_NAMES[before.regime] == flip.from_regime
        assert REGIME_NAMES[at.regime] == flip.to_regime
        assert names[at.profiles.numpy()[0]] == expected[flip.to_regime]  # type: ignore[union-attr]
    # "defensive" is a maker profile: its opening orders join the book at the last close
    defensive = {s for s, d in decisions.items() if REGIME_NAMES[d.regime] == "chaos"}
    buys = [
        (o.order_type.numpy()[o.side.numpy() > 0], o.limit_price.numpy()[o.side.numpy() > 0], o)
        for o in journal.of(Orders)
        if o.step in defensive
    ]
    assert sum(len(types) for types, _, _ in buys) > 10
    close = kernel.market.close
    for types, prices, o in buys:
        assert (types == LIMIT).all()
        inst = o.instrument.numpy()[o.side.numpy() > 0]
        assert np.array_equal(prices, close[o.step, inst])


def decaying_market() -> MarketData:
    """One instrument drifting up +0.5 %/bar (1 % noise) until CHANGE, then down as much."""
    base = normalized(generate(SynthSpec(n_steps=600, n_instruments=1, seed=3, random_walk=True)))
    rng = np.random.default_rng(7)
    drift = np.where(np.arange(600) < CHANGE, 0.005, -0.005)
    log_close = np.log(100.0) + np.cumsum(drift + 0.01 * rng.standard_normal(600))
    tick = float(base.instruments[0].tick_size)
    close = np.round(np.exp(log_close) / tick).astype(np.int64)[:, None]
    opens = np.vstack([close[:1], close[:-1]])
    return dataclasses.replace(
        base,
        open=opens,
        high=np.maximum(opens, close),
        low=np.minimum(opens, close),
        close=close,
    )


DRIFT = {"drift": {"enabled": True}}
HEADS = {"warmup_steps": 16, "train_every": 4, "regime_heads": True}  # the macro regime's head acts
LEARNERS = {
    "kind": "q-network",
    "count": 16,
    "qnet": {"warmup_steps": 16, "train_every": 4},
    "sizing": {"mode": "fraction", "fraction": 0.5},
}


def test_injected_alpha_decay_fires_the_sentry_freezes_and_halves() -> None:
    cfg = RunConfig(
        agents=[
            {"kind": "buy-and-hold", "sizing": {"mode": "fraction", "fraction": 0.5}},
            LEARNERS,
        ],
        reflect=DRIFT,
        report=False,
    )
    kernel, journal = run(cfg, decaying_market())
    alarms = journal.of(DriftAlarms)
    holder = [a for a in alarms if 0 in a.agent.numpy().tolist()]
    assert holder, "buy-and-hold's returns turned from +0.5 to -0.5 sd: the sentry must fire"
    first = holder[0]
    assert CHANGE < first.step <= CHANGE + 60  # within the detectors' delay (docs/drift.md)
    assert first.actions == ["freeze_exploration", "halve_size"]
    assert first.size_scale.numpy()[first.agent.numpy().tolist().index(0)] == 0.5
    # the halved size is in the very step's decision: buy-and-hold (fraction 0.5 of equity)
    # re-sizes to a quarter of its equity at the alarm step
    (cell,) = [
        d.target_qty.numpy()[d.agents.numpy() == 0]
        for d in journal.of(Decision)
        if d.step == first.step and (d.agents.numpy() == 0).any()
    ]
    lot_value = float(kernel.accounts.unit_values[0]) * float(kernel.market.close[first.step, 0])
    assert kernel.recorder.equity is not None
    share = float(cell[0]) * lot_value / float(kernel.recorder.equity[first.step, 0])
    assert share == pytest.approx(0.25, rel=0.01)
    # a frozen learner never explores again (until a newborn takes its slot)
    frozen_at: dict[int, int] = {}
    for a in alarms:
        for row in a.agent.numpy().tolist():
            if row >= 1:
                frozen_at.setdefault(row, a.step)
    assert frozen_at, "some learners' returns decayed too"
    explored_after = [
        (d.step, int(agent))
        for d in journal.of(Decision)
        if d.reasons is not None
        for agent, reason in zip(d.agents.numpy(), d.reasons.numpy(), strict=True)
        if reason == EXPLORE and d.step > frozen_at.get(int(agent), 10**9)
    ]
    assert explored_after == []
    assert any((d.reasons.numpy() == EXPLORE).any() for d in journal.of(Decision) if d.reasons)
    assert all(
        d.reasons is not None and FORCED_FLAT not in d.reasons.numpy() for d in journal.of(Decision)
    )
    assert kernel.theory and {p.agent for p in kernel.theory} >= {0}


@pytest.mark.slow
def test_theory_packets_are_written_and_everything_on_replays(tmp_path: Path) -> None:
    path = write_market(decaying_market(), tmp_path / "decay.csv")
    cfg = RunConfig(
        data={"source": str(path)},
        agents=[{"kind": "buy-and-hold"}, {**LEARNERS, "count": 8, "qnet": HEADS}],
        regime={
            "hmm": {"enabled": True, "min_history": 200, "refit_every": 100},
            "router": {"enabled": True},
        },
        reflect=DRIFT,
        report=False,
    )
    summary = execute_run(cfg, run_id="reflect", out_dir=tmp_path / "runs")
    packets = sorted((summary.run_dir / "theory").glob("*.json"))
    assert packets
    packet = read_packet(packets[0])
    manifest = json.loads((summary.run_dir / "manifest.json").read_text())
    assert f"theory/{packets[0].name}" in json.dumps(manifest)
    (ev,) = packet.evidence
    assert ev.from_seq <= ev.to_seq and packet.change_step < packet.fired_step
    result = replay_run(summary.run_dir)
    assert result.parity and result.wal_head_replayed == summary.wal_head


@pytest.mark.slow
def test_the_profile_switch_at_a_regime_flip_is_in_the_diary(tmp_path: Path) -> None:
    path = write_market(sticky_market(), tmp_path / "sticky.csv")
    cfg = RunConfig(data={"source": str(path)}, agents=[RANDOM], regime=REGIME_ROUTER, report=False)
    summary = execute_run(cfg, run_id="flip", out_dir=tmp_path / "runs")
    flips = [rec.data for rec in read_records(summary.run_dir / "wal", kinds=("RegimeChange",))]
    assert len(flips) >= 5
    expected = {"calm": "normal", "trend": "trend", "chaos": "defensive"}
    rows = query_diary(
        summary.run_dir, "SELECT step, regime, profile FROM diary GROUP BY ALL ORDER BY step"
    ).rows
    by_step: dict[int, set[tuple[str, str]]] = {}
    for step, regime, profile in rows:
        by_step.setdefault(int(step), set()).add((regime, profile))
    seen = 0
    for flip in flips:
        if flip.step in by_step:  # the diary holds the cells that changed at that step
            seen += 1
            assert by_step[flip.step] == {(flip.to_regime, expected[flip.to_regime])}
        earlier = [s for s in by_step if s < flip.step]
        assert by_step[max(earlier)] == {(flip.from_regime, expected[flip.from_regime])}
    assert seen >= 0.8 * len(flips)
    assert summary.diary is not None and summary.diary.coverage == 1.0
