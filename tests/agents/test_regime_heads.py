"""Regime heads: the macro regime picks the block of action values that acts, and each
transition trains only its own regime's block."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch_helpers import gen

from scarline.agents.config import QNetGroup
from scarline.agents.qagents import QAgents
from scarline.config import RunConfig
from scarline.errors import ConfigError
from scarline.learning.buffer import assemble
from scarline.learning.config import QNetConfig
from scarline.learning.dqn import Batch, DQNLearner, select_head
from scarline.learning.qnet import QPopulation
from scarline.market.stream import normalized
from scarline.market.synthetic import SynthSpec, generate
from scarline.rng import SeedTree

MARKET = normalized(generate(SynthSpec(n_steps=120, n_instruments=2, seed=1)))


def test_select_head_takes_each_samples_own_block() -> None:
    q = torch.arange(2 * 3 * 6, dtype=torch.float32).view(2, 3, 6)  # 3 heads x 2 actions
    head = torch.tensor([[0, 1, 2], [2, 2, 0]])
    out = select_head(q, head, heads=3)
    for i in range(2):
        for b in range(3):
            h = int(head[i, b])
            assert out[i, b].tolist() == q[i, b, 2 * h : 2 * h + 2].tolist()


def test_the_regime_in_force_picks_the_acting_head() -> None:
    regime = np.arange(MARKET.n_steps) % 3
    group = QNetGroup(count=6, learn=False, qnet={"regime_heads": True})
    agents = QAgents(MARKET, group, SeedTree(0), 0, 252.0, regime)
    assert agents.net.n_actions == 3 * 3  # three heads of (short, flat, long)
    levels = np.asarray(group.qnet.actions)
    for t in (30, 31, 32):
        exposure = agents.decide(t)
        obs = assemble(agents.feature_table, agents._inst_t, t, agents._private)
        q = agents.net.q_values(obs).view(6, 3, 3)[:, regime[t]]
        chosen = exposure[np.arange(6), agents.instrument]
        assert np.array_equal(chosen, levels[q.argmax(dim=1).numpy()])


def test_a_transition_trains_only_its_own_regimes_head() -> None:
    cfg = QNetConfig(hidden=[8])
    net = QPopulation(4, 5, [8], 3 * 3, gen(3))
    learner = DQNLearner(net, cfg)
    learner.heads = 3
    g = gen(4)
    obs, next_obs = torch.randn(4, 16, 5, generator=g), torch.randn(4, 16, 5, generator=g)
    head = torch.ones(4, 16, dtype=torch.int64)  # every sample in the trend regime
    batch = Batch(
        obs,
        torch.randint(3, (4, 16), generator=g),
        torch.randn(4, 16, generator=g),
        next_obs,
        torch.zeros(4, 16, dtype=torch.bool),
        head,
        head,
    )
    learner.td_loss(net, batch).sum().backward()
    grad = net.weights[-1].grad
    assert grad is not None
    blocks = grad.view(4, 8, 3, 3)
    assert blocks[:, :, 1].abs().sum() > 0
    assert blocks[:, :, 0].abs().sum() == 0 and blocks[:, :, 2].abs().sum() == 0


def test_regime_heads_need_the_hmm_and_refuse_evolution() -> None:
    group = QNetGroup(count=2, qnet={"regime_heads": True})
    with pytest.raises(ConfigError, match=r"agents\[0\].qnet.regime_heads needs the macro"):
        QAgents(MARKET, group, SeedTree(0), 0)
    evolving = QNetGroup(count=2, qnet={"regime_heads": True}, evolution={"enabled": True})
    with pytest.raises(ConfigError, match="not supported with evolution yet"):
        QAgents(MARKET, evolving, SeedTree(0), 0, 252.0, np.zeros(120, dtype=np.int64))
    assert RunConfig(agents=[group]).agents[0].qnet.regime_heads  # type: ignore[union-attr]
