"""``shuffle_rewards``: the label-shuffle placebo keeps each agent's rewards, breaks their link.

With it on, a batch's rewards are other transitions' rewards from the same agent's buffer, so
an agent can no longer learn which situation and action earn; on a market with a learnable
edge its out-of-sample return collapses. Off, sampling is exactly as before.
"""

import numpy as np
import pytest
import torch
from torch_helpers import gen

from scarline.assembly import kernel_for
from scarline.config import RunConfig
from scarline.journal import HashOnlyWal
from scarline.kernel import Kernel
from scarline.learning.buffer import ReplayBuffers
from scarline.learning.config import QNetConfig
from scarline.learning.dqn import Batch, DQNLearner
from scarline.learning.qnet import QPopulation
from scarline.market.stream import normalized
from scarline.market.synthetic import SynthSpec, generate
from scarline.operator import ReplayOperator
from scarline.report.metrics import split_returns
from scarline.session import SessionIds

N, T, F = 4, 50, 3


def _reward_of(action: torch.Tensor, agent: torch.Tensor) -> torch.Tensor:
    """A reward that names its action and its agent: 10·action + 100·agent."""
    return (10 * action + 100 * agent).to(torch.float32)


def _filled(capacity: int = 64, steps: int = T) -> ReplayBuffers:
    buffers = ReplayBuffers(N, capacity, private_dim=1)
    g, agents = gen(11), torch.arange(N)
    for t in range(steps):
        action = torch.randint(3, (N,), generator=g)
        private = torch.zeros(N, 1)
        done = torch.zeros(N, dtype=torch.bool)
        buffers.add(t, private, action, _reward_of(action, agents), t + 1, private, done)
    return buffers


def _learner(shuffle: bool, seed: int = 0) -> DQNLearner:
    cfg = QNetConfig(batch_size=256, shuffle_rewards=shuffle)
    return DQNLearner(QPopulation.from_config(N, F + 1, cfg, gen(seed)), cfg)


def _sample(dqn: DQNLearner, buffers: ReplayBuffers, seed: int) -> Batch:
    table = torch.randn(T + 1, 1, F, generator=gen(5))
    return dqn.sample(buffers, table, torch.zeros(N, dtype=torch.int64), gen(seed))


def test_shuffled_rewards_are_the_agents_own_but_no_longer_aligned() -> None:
    buffers = _filled()
    agents = torch.arange(N).unsqueeze(1)
    kept = _sample(_learner(False), buffers, seed=3)
    assert torch.equal(kept.reward, _reward_of(kept.action, agents))
    shuffled = _sample(_learner(True), buffers, seed=3)
    assert torch.equal(shuffled.action, kept.action)  # the batch itself is the same draw
    stored = buffers.gather(torch.arange(T).expand(N, T)).reward
    for i in range(N):
        assert set(shuffled.reward[i].tolist()) <= set(stored[i].tolist())  # own rewards only
    aligned = (shuffled.reward == _reward_of(shuffled.action, agents)).float().mean(1)
    assert torch.all(aligned < 0.6), aligned  # ~1/3 by chance with three actions
    assert torch.all(shuffled.reward.std(1) > 0)


def test_shuffled_rewards_come_only_from_filled_slots() -> None:
    buffers = _filled(capacity=64, steps=40)
    buffers.clear_rows(torch.tensor([1]))
    buffers.record[1, :40, 2 * buffers.private_dim] = -1.0  # forgotten: must never be drawn
    g, agents = gen(12), torch.arange(N)
    for t in range(40, 45):  # agent 1 now holds these five transitions only
        action = torch.randint(3, (N,), generator=g)
        private, done = torch.zeros(N, 1), torch.zeros(N, dtype=torch.bool)
        buffers.add(t, private, action, _reward_of(action, agents), t + 1, private, done)
    shuffled = _sample(_learner(True), buffers, seed=4)
    own = set(buffers.gather(torch.arange(40, 45).expand(N, 5)).reward[1].tolist())
    assert set(shuffled.reward[1].tolist()) <= own


def test_shuffle_is_deterministic_and_off_draws_nothing_extra() -> None:
    buffers = _filled()
    a, b = _sample(_learner(True), buffers, seed=6), _sample(_learner(True), buffers, seed=6)
    for x, y in zip(a, b, strict=True):
        assert (x is None and y is None) or torch.equal(x, y)
    g_off, g_plain = gen(6), gen(6)
    table = torch.randn(T + 1, 1, F, generator=gen(5))
    _learner(False).sample(buffers, table, torch.zeros(N, dtype=torch.int64), g_off)
    buffers.sample(256, g_plain)
    assert torch.equal(g_off.get_state(), g_plain.get_state())


def test_shuffled_learning_is_deterministic() -> None:
    buffers, table = _filled(), torch.randn(T + 1, 1, F, generator=gen(5))
    inst = torch.zeros(N, dtype=torch.int64)
    nets = []
    for _ in range(2):
        dqn, g = _learner(True, seed=2), gen(8)
        for _ in range(5):
            dqn.learn(buffers, table, inst, g)
        nets.append(dqn.online.parameters())
    for x, y in zip(*nets, strict=True):
        assert torch.equal(x, y)


COMPACT = {"return_windows": [1], "vol_windows": [20], "momentum_windows": [20]}
QNET = {"gamma": 0.0, "lr": 3e-4, "train_every": 2, "warmup_steps": 32}
QNET |= {"epsilon_decay_steps": 500}


def _kernel(seed: int, shuffle: bool, n_steps: int, count: int) -> tuple[Kernel, RunConfig]:
    qnet = QNET | {"shuffle_rewards": shuffle}
    group = {"kind": "q-network", "count": count, "qnet": qnet, "features": COMPACT}
    cfg = RunConfig(seed=seed, agents=[group], evaluation={"oos_fraction": 0.3})
    spec = SynthSpec(planted_ic=0.3, random_walk=True, n_steps=n_steps, n_instruments=4, seed=seed)
    market = normalized(generate(spec))
    ids, wal = SessionIds("shuffle", "s"), HashOnlyWal("shuffle")
    return kernel_for(cfg, market, ids, wal, ReplayOperator([])), cfg


def test_a_shuffled_run_replays_identically() -> None:
    equities = []
    for _ in range(2):
        kernel, _ = _kernel(seed=1, shuffle=True, n_steps=300, count=4)
        kernel.run()
        equities.append(kernel.recorder.equity.copy())
    np.testing.assert_array_equal(*equities)


def _oos_returns(shuffle: bool) -> np.ndarray:
    kernel, cfg = _kernel(seed=2, shuffle=shuffle, n_steps=1500, count=32)
    kernel.run()
    split = cfg.evaluation.split_step(kernel.market.n_steps)
    assert split is not None
    equity = kernel.recorder.equity.astype(np.float64)
    return split_returns(equity, kernel.accounts.initial_cash, split)["oos_return"]


@pytest.mark.slow
def test_shuffled_rewards_take_the_learnable_edge_away() -> None:
    """IC 0.3 on a driftless walk: learners earn out of sample, the placebo does not."""
    real, placebo = _oos_returns(False), _oos_returns(True)
    assert real.mean() > 0.3
    assert placebo.mean() < 0.5 * real.mean()
    assert real.mean() - placebo.mean() > 0.3
