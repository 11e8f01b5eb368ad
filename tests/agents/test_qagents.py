"""Learning agents inside the kernel: they learn, stay deterministic and replay exactly."""

from pathlib import Path

import numpy as np
import pytest

from scarline.agents import qagents
from scarline.assembly import kernel_for
from scarline.config import RunConfig
from scarline.events import COMPILED_ACTING_SCHEMA, COMPILED_UPDATE_SCHEMA
from scarline.journal import HashOnlyWal
from scarline.learning.qnet import QPopulation
from scarline.market.stream import normalized
from scarline.market.synthetic import SynthSpec, generate
from scarline.operator import ReplayOperator
from scarline.replayer import replay_run
from scarline.runner import execute_run
from scarline.session import SessionIds

Q = {
    "kind": "q-network",
    "count": 16,
    "qnet": {"warmup_steps": 16, "train_every": 2, "epsilon_decay_steps": 200},
}


def _market(seed: int = 5):
    return normalized(generate(SynthSpec(n_steps=400, n_instruments=2, seed=seed, planted_ic=0.1)))


def _run(cfg: RunConfig, market):
    kernel = kernel_for(cfg, market, SessionIds("q", "s"), HashOnlyWal("q"), ReplayOperator([]))
    result = kernel.run()
    return kernel, result


def test_agents_learn_and_the_same_seed_gives_the_same_run() -> None:
    cfg = RunConfig(seed=3, agents=[Q], evaluation={"oos_fraction": 0.25})
    market = _market()
    k1, r1 = _run(cfg, market)
    k2, r2 = _run(cfg, market)
    group = k1.population.learners[0][1]
    assert len(group.losses) > 50  # it trained, every 2 steps after warm-up, until the split
    assert r1.decision_trace_hash == r2.decision_trace_hash and r1.wal_head == r2.wal_head
    for a, b in zip(
        group.net.parameters(), k2.population.learners[0][1].net.parameters(), strict=True
    ):
        assert np.array_equal(a.detach().numpy(), b.detach().numpy())
    other = _run(cfg.with_overrides(seed=4), market)[1]
    assert other.decision_trace_hash != r1.decision_trace_hash


def test_no_learning_or_exploration_after_the_split() -> None:
    cfg = RunConfig(seed=1, agents=[Q], evaluation={"oos_fraction": 0.5}, scars={"floor_step": 0.0})
    kernel, _ = _run(cfg, _market())
    group = kernel.population.learners[0][1]
    updates_at_split = group.learner.updates
    assert group.frozen_from == 200
    # every update happened before the split; acting afterwards changes no weight
    assert updates_at_split == len(group.losses) > 0
    weights = [p.detach().clone() for p in group.net.parameters()]
    group.decide(399)
    assert all(
        np.array_equal(w.numpy(), p.detach().numpy())
        for w, p in zip(weights, group.net.parameters(), strict=True)
    )


def test_agents_trade_their_own_instrument_only() -> None:
    cfg = RunConfig(agents=[Q])
    kernel, _ = _run(cfg, _market())
    exposure = kernel.population.decide(10)
    assert exposure.shape == (16, 2)
    own = np.arange(16) % 2
    assert not exposure[np.arange(16), 1 - own].any()


@pytest.mark.slow
@pytest.mark.parametrize("update", ["torch", "compiled"])
def test_a_learning_run_replays_with_parity(tmp_path: Path, update: str) -> None:
    learner = {**Q, "qnet": {**Q["qnet"], "update": update}}  # type: ignore[dict-item]
    cfg = RunConfig(
        seed=2,
        data={"source": "sp500-20", "start": "2019-01-01"},
        agents=[learner, {"kind": "buy-and-hold"}, {"kind": "random-entry", "count": 4}],
        execution={"fees": {"bps": 1.0}, "slippage": {"fixed_bps": 1.0}},
        evaluation={"oos_fraction": 0.3},
    )
    summary = execute_run(cfg, run_id="q-replay", out_dir=tmp_path)
    assert summary.oos() is not None and summary.best_agent_id() < 16
    result = replay_run(summary.run_dir)
    assert result.parity and result.wal_head_replayed == summary.wal_head


@pytest.mark.parametrize("schema", [COMPILED_ACTING_SCHEMA - 1, COMPILED_ACTING_SCHEMA])
def test_the_run_schema_picks_how_the_networks_act(
    schema: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Schema 11 on: one compiled call per decision; older runs replay through torch."""
    calls = {"compiled": 0, "torch": 0}
    compiled, in_torch = qagents.greedy_actions, QPopulation.q_values

    def counted_compiled(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["compiled"] += 1
        return compiled(*args, **kwargs)

    def counted_torch(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["torch"] += 1
        return in_torch(*args, **kwargs)

    monkeypatch.setattr(qagents, "greedy_actions", counted_compiled)
    monkeypatch.setattr(QPopulation, "q_values", counted_torch)
    cfg = RunConfig(seed=3, agents=[Q], evaluation={"oos_fraction": 0.25})
    market = _market()
    ids, operator = SessionIds("q", "s"), ReplayOperator([])
    kernel = kernel_for(cfg, market, ids, HashOnlyWal("q"), operator, schema_version=schema)
    result = kernel.run()
    decisions = market.n_steps
    if schema >= COMPILED_ACTING_SCHEMA:
        assert calls == {"compiled": decisions, "torch": 0}
    else:
        assert calls == {"compiled": 0, "torch": decisions}
    # the two sum a layer in different orders; off near ties (none in this run) they act alike
    assert result.decision_trace_hash == _run(cfg, market)[1].decision_trace_hash


@pytest.mark.parametrize(
    ("schema", "update", "compiled"),
    [
        (COMPILED_UPDATE_SCHEMA - 1, "auto", False),  # an older run replays through torch
        (COMPILED_UPDATE_SCHEMA, "auto", True),
        (COMPILED_UPDATE_SCHEMA, "torch", False),
        (COMPILED_UPDATE_SCHEMA - 1, "compiled", True),
    ],
)
def test_the_run_schema_picks_the_update_auto_means(
    schema: int, update: str, compiled: bool
) -> None:
    """``qnet.update = "auto"`` (the default) is compiled from schema 12 on, torch before;
    a named update is that update whatever the schema."""
    learner = {**Q, "qnet": {**Q["qnet"], "update": update}}  # type: ignore[dict-item]
    cfg = RunConfig(seed=3, agents=[learner], evaluation={"oos_fraction": 0.25})
    market = _market()
    ids, operator = SessionIds("q", "s"), ReplayOperator([])
    kernel = kernel_for(cfg, market, ids, HashOnlyWal("q"), operator, schema_version=schema)
    kernel.run()
    group = kernel.population.learners[0][1]
    assert group.learner.updates > 0
    assert (group.learner.moments is not None) is compiled
    assert (group.learner.optimizer is None) is compiled
