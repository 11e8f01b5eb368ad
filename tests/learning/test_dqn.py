"""The torch DQN update (``update = "torch"``, and "auto" before schema 12): the reference
that ``test_update_kernel.py`` holds the compiled update to."""

import torch
import torch.nn.functional as F
from torch_helpers import gen

from scarline.learning.buffer import ReplayBuffers, assemble
from scarline.learning.config import QNetConfig
from scarline.learning.dqn import Batch, DQNLearner, clip_grad_norm_per_agent_
from scarline.learning.qnet import QPopulation
from scarline.rng import SeedTree

EXPOSURE = torch.tensor([-1.0, 0.0, 1.0])


def bandit_batch(n: int, b: int, d: int, g: torch.Generator) -> tuple[torch.Tensor, ...]:
    """A contextual bandit: reward = sign(feature 0) x exposure of the action; one-step episodes."""
    obs = torch.randn(n, b, d, generator=g)
    action = torch.randint(3, (n, b), generator=g)
    reward = torch.sign(obs[..., 0]) * EXPOSURE[action]
    done = torch.ones(n, b, dtype=torch.bool)
    return obs, action, reward, torch.randn(n, b, d, generator=g), done


def learner(n: int, d: int, cfg: QNetConfig, seed: int = 0) -> DQNLearner:
    return DQNLearner(QPopulation.from_config(n, d, cfg, gen(seed)), cfg, compiled_auto=False)


def test_loss_falls_over_the_first_100_updates_on_a_contextual_bandit() -> None:
    cfg = QNetConfig()
    dqn = learner(8, 4, cfg)
    g = gen(1)
    losses = torch.stack([dqn.update(*bandit_batch(8, 32, 4, g)) for _ in range(100)])
    assert losses.shape == (100, 8) and losses.dtype == torch.float32
    first, last = losses[:10].mean(0), losses[-10:].mean(0)
    assert torch.all(last < 0.8 * first), (first, last)  # every agent learns
    assert last.mean() < 0.65 * first.mean()
    obs = torch.randn(8, 256, 4, generator=g)
    greedy = dqn.online.forward(obs).argmax(2)
    hit = (greedy == torch.where(obs[..., 0] > 0, 2, 0)).float().mean(1)
    assert torch.all(hit > 0.75), hit  # chance is 1/3


def test_returned_loss_is_per_agent_huber_to_the_td_target() -> None:
    cfg = QNetConfig(gamma=0.9, huber_delta=0.5)
    dqn = learner(3, 4, cfg)
    obs, action, _, next_obs, _ = bandit_batch(3, 6, 4, gen(1))
    reward = torch.randn(3, 6, generator=gen(2)) * 3
    done = torch.rand(3, 6, generator=gen(3)) < 0.5
    expected = []
    for i in range(3):  # one agent at a time, from its own state
        s = dqn.online.agent_state(i)

        def q(x: torch.Tensor, s: dict[str, torch.Tensor] = s) -> torch.Tensor:
            return F.linear(F.relu(F.linear(x, s["w0"].T, s["b0"])), s["w1"].T, s["b1"])

        target = reward[i] + 0.9 * q(next_obs[i]).max(1).values * (~done[i]).float()
        taken = q(obs[i]).gather(1, action[i, :, None]).squeeze(1)
        expected.append(F.huber_loss(taken, target, delta=0.5))
    loss = dqn.update(obs, action, reward, next_obs, done)
    torch.testing.assert_close(loss, torch.stack(expected), atol=1e-6, rtol=1e-6)


def test_agents_are_independent_even_when_one_has_a_huge_loss() -> None:
    cfg = QNetConfig(lr=1e-2, grad_clip=1.0)
    a, b = learner(3, 4, cfg), learner(3, 4, cfg)
    for step in range(5):
        batch = bandit_batch(3, 16, 4, gen(step))
        obs, action, reward, next_obs, done = batch
        a.update(*batch)
        wild_reward = reward.clone()
        wild_reward[1] *= 1e6  # agent 1 sees a different, huge-loss world
        wild_obs = obs.clone()
        wild_obs[1] = torch.randn(16, 4, generator=gen(100 + step)) * 50
        b.update(wild_obs, action, wild_reward, next_obs, done)
        assert b.grad_norm[1] > 10 * cfg.grad_clip  # it is clipped, …
    for i in (0, 2):  # … and the other agents' weights and Adam moments are bit-identical
        for key, value in a.online.agent_state(i).items():
            assert torch.equal(b.online.agent_state(i)[key], value), key
    for pa, pb in zip(a.online.parameters(), b.online.parameters(), strict=True):
        for key in ("exp_avg", "exp_avg_sq"):
            sa, sb = a.optimizer.state[pa][key], b.optimizer.state[pb][key]
            assert torch.equal(sa[[0, 2]], sb[[0, 2]])
    assert not torch.equal(a.online.weights[0][1], b.online.weights[0][1])


def test_per_agent_clipping_matches_clip_grad_norm_on_each_agents_own_network() -> None:
    pop = QPopulation(4, 3, [5], 2, gen())
    scales = torch.tensor([0.01, 1.0, 10.0, 1000.0])
    for p in pop.parameters():
        p.grad = torch.randn(p.shape, generator=gen(p.dim())) * scales.view(
            -1, *[1] * (p.dim() - 1)
        )
    singles = []
    for i in range(4):
        grads = [p.grad[i].clone().requires_grad_() for p in pop.parameters()]
        for g in grads:
            g.grad = g.detach().clone()
        norm = torch.nn.utils.clip_grad_norm_(grads, max_norm=2.0)
        singles.append((norm, [g.grad for g in grads]))
    norms = clip_grad_norm_per_agent_(pop.parameters(), 2.0)
    for i, (norm, grads) in enumerate(singles):
        torch.testing.assert_close(norms[i], norm)
        for p, g in zip(pop.parameters(), grads, strict=True):
            torch.testing.assert_close(p.grad[i], g)
    after = torch.stack([p.grad.pow(2).flatten(1).sum(1) for p in pop.parameters()]).sum(0)
    assert torch.all(after.sqrt() <= 2.0 + 1e-4)
    torch.testing.assert_close(after.sqrt()[0], norms[0])  # small gradients are left alone


def test_target_network_syncs_every_target_update_every_updates() -> None:
    cfg = QNetConfig(target_update_every=3)
    dqn = learner(2, 4, cfg)
    initial = dqn.target.weights[0].clone()
    g = gen(1)
    for _ in range(2):
        dqn.update(*bandit_batch(2, 8, 4, g))
    assert torch.equal(dqn.target.weights[0], initial)
    assert not torch.equal(dqn.online.weights[0], initial)
    dqn.update(*bandit_batch(2, 8, 4, g))
    assert dqn.updates == 3
    for p, q in zip(dqn.target.parameters(), dqn.online.parameters(), strict=True):
        assert torch.equal(p, q)
        assert not q.requires_grad or p.data_ptr() != q.data_ptr()


def test_reset_rows_zeroes_moments_and_copies_the_target_for_those_rows_only() -> None:
    dqn = learner(3, 4, QNetConfig())
    g = gen(1)
    for _ in range(3):
        dqn.update(*bandit_batch(3, 8, 4, g))
    w0 = dqn.online.weights[0]
    old_moment = dqn.optimizer.state[w0]["exp_avg"][0].clone()
    dqn.reset_rows(torch.tensor([1]))
    assert torch.all(dqn.optimizer.state[w0]["exp_avg"][1] == 0)
    assert torch.all(dqn.optimizer.state[w0]["exp_avg_sq"][1] == 0)
    assert torch.equal(dqn.optimizer.state[w0]["exp_avg"][0], old_moment)
    assert torch.equal(dqn.target.weights[0][1], w0[1].detach())
    assert not torch.equal(dqn.target.weights[0][0], w0[0].detach())


def test_due_respects_warmup_and_train_every() -> None:
    dqn = learner(1, 2, QNetConfig(warmup_steps=10, train_every=4))
    assert [s for s in range(25) if dqn.due(s)] == [12, 16, 20, 24]


def run(seed: int) -> tuple[list[torch.Tensor], list[torch.Tensor], torch.Tensor]:
    """A tiny act → store → learn loop, every draw from the seed tree."""
    cfg = QNetConfig(batch_size=8, buffer_capacity=16, warmup_steps=8, train_every=2)
    seeds = SeedTree(seed)
    n, m, f, p = 6, 2, 3, 2
    table = torch.randn(40, m, f, generator=seeds.torch_generator("market"))
    instrument = torch.arange(n) % m
    pop = QPopulation.from_config(n, f + p, cfg, seeds.torch_generator("init"))
    dqn = DQNLearner(pop, cfg, compiled_auto=False)
    buffers = ReplayBuffers(n, cfg.buffer_capacity, p)
    act_g, learn_g = seeds.torch_generator("act"), seeds.torch_generator("learn")
    private = torch.zeros(n, p)
    actions, losses = [], []
    for t in range(39):
        a = pop.act(assemble(table, instrument, t, private), torch.full((n,), 0.3), act_g)
        reward = table[t + 1, instrument, 0] * EXPOSURE[a]
        next_private = torch.stack([EXPOSURE[a], private[:, 1] + reward], 1)
        buffers.add(t, private, a, reward, t + 1, next_private, torch.zeros(n, dtype=torch.bool))
        private = next_private
        actions.append(a)
        if dqn.due(t):
            losses.append(dqn.learn(buffers, table, instrument, learn_g))
    return actions, losses, torch.cat([x.detach().flatten() for x in pop.parameters()])


def test_same_seed_gives_bit_identical_actions_losses_and_weights() -> None:
    a1, l1, w1 = run(3)
    a2, l2, w2 = run(3)
    _, _, w3 = run(4)
    assert len(l1) == 16
    assert all(torch.equal(x, y) for x, y in zip(a1, a2, strict=True))
    assert all(torch.equal(x, y) for x, y in zip(l1, l2, strict=True))
    assert torch.equal(w1, w2)
    assert not torch.equal(w1, w3)


def test_lr_scale_gives_each_agent_its_own_adam_learning_rate() -> None:
    """Row i with lr_scale s_i trains like a population of one with learning rate s_i · lr."""
    cfg = QNetConfig(lr=1e-3)
    together = learner(2, 4, cfg)
    together.lr_scale = torch.tensor([1.0, 0.25])
    alone = [learner(2, 4, cfg), learner(2, 4, QNetConfig(lr=2.5e-4))]
    g = gen(3)
    for _ in range(20):
        batch = bandit_batch(2, 8, 4, g)
        together.update(*batch)
        for dqn in alone:
            dqn.update(*batch)
    for row, dqn in enumerate(alone):
        for p, q in zip(together.online.parameters(), dqn.online.parameters(), strict=True):
            torch.testing.assert_close(p[row], q[row], rtol=1e-5, atol=1e-6)


def test_double_dqn_values_the_online_argmax_with_the_target_network() -> None:
    """Double DQN: the next action is the online network's argmax, its value the target's;
    with the two networks apart, the target differs from plain DQN's max."""
    cfg = QNetConfig(gamma=0.9, double=True)
    dqn = learner(2, 4, cfg)
    with torch.no_grad():  # move the target away from the online network
        for p in dqn.target.parameters():
            p.add_(torch.randn(p.shape, generator=gen(7)))
    obs, action, reward, next_obs, _ = bandit_batch(2, 8, 4, gen(1))
    done = torch.zeros(2, 8, dtype=torch.bool)
    with torch.no_grad():
        best = dqn.online.forward(next_obs).argmax(2, keepdim=True)
        value = dqn.target.forward(next_obs).gather(2, best).squeeze(2)
        taken = dqn.online.forward(obs).gather(2, action.unsqueeze(2)).squeeze(2)
        plain = dqn.target.forward(next_obs).max(2).values
    expected = F.huber_loss(taken, reward + 0.9 * value, reduction="none").mean(1)
    not_double = F.huber_loss(taken, reward + 0.9 * plain, reduction="none").mean(1)
    loss = dqn.td_loss(dqn.online, Batch(obs, action, reward, next_obs, done))
    torch.testing.assert_close(loss, expected, atol=1e-6, rtol=1e-6)
    assert not torch.allclose(loss, not_double)


def test_the_multi_tensor_adam_is_bit_identical_to_the_per_parameter_loop() -> None:
    """Runs recorded with torch's per-parameter Adam replay under ``foreach=True``."""
    cfg = QNetConfig(hidden=[16, 8])
    fast = learner(64, 5, cfg)
    slow = learner(64, 5, cfg)
    slow.optimizer = torch.optim.Adam(slow.online.parameters(), lr=cfg.lr, foreach=False)
    g = gen(5)
    for _ in range(30):
        batch = bandit_batch(64, 8, 5, g)
        fast.update(*batch)
        slow.update(*batch)
    for p, q in zip(fast.online.parameters(), slow.online.parameters(), strict=True):
        assert torch.equal(p, q)
