"""The compiled DQN update (``qnet.update = "compiled"``) is torch's update within rounding,
the same bits at any thread count, and keeps its own Adam moments."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_helpers import gen

from scarline.learning.buffer import ReplayBuffers
from scarline.learning.config import QNetConfig
from scarline.learning.dqn import DQNLearner
from scarline.learning.qnet import QPopulation
from scarline.learning.row_split import RowSplit

OBS = 7


def _learners(
    n: int, hidden: list[int], actions: int, heads: int, double: bool, seed: int
) -> tuple[DQNLearner, DQNLearner]:
    """A torch and a compiled learner on the same weights and target weights."""
    net = QPopulation(n, OBS, hidden, actions * heads, gen(seed))
    cfg = QNetConfig(
        hidden=hidden, actions=[float(a) for a in range(actions)], double=double, update="torch"
    )
    torch_learner = DQNLearner(net, cfg)
    compiled = DQNLearner(net.clone(), cfg.model_copy(update={"update": "compiled"}))
    for learner in (torch_learner, compiled):
        learner.heads = heads
    return torch_learner, compiled


def _batch(n: int, size: int, actions: int, heads: int, seed: int) -> tuple:
    g = gen(seed)
    head = torch.randint(heads, (n, size), generator=g) if heads > 1 else None
    next_head = torch.randint(heads, (n, size), generator=g) if heads > 1 else None
    return (
        torch.randn(n, size, OBS, generator=g),
        torch.randint(actions, (n, size), generator=g),
        torch.randn(n, size, generator=g) * 3,  # past the Huber threshold sometimes
        torch.randn(n, size, OBS, generator=g),
        torch.rand(n, size, generator=g) < 0.1,
        head,
        next_head,
    )


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    n=st.integers(1, 9),
    hidden=st.lists(st.integers(1, 40), min_size=1, max_size=2),
    actions=st.integers(2, 5),
    heads=st.integers(1, 3),
    double=st.booleans(),
    size=st.integers(1, 40),
    seed=st.integers(0, 2**16),
)
def test_the_compiled_update_is_torchs_within_rounding(
    n: int, hidden: list[int], actions: int, heads: int, double: bool, size: int, seed: int
) -> None:
    reference, compiled = _learners(n, hidden, actions, heads, double, seed)
    lr_scale = torch.rand(n, generator=gen(seed + 1)) + 0.5
    reference.lr_scale = compiled.lr_scale = lr_scale
    for step in range(3):
        batch = _batch(n, size, actions, heads, seed + 2 + step)
        want, got = reference.update(*batch), compiled.update(*batch)
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(compiled.grad_norm, reference.grad_norm, rtol=1e-4, atol=1e-6)
    lr = reference.cfg.lr
    for ours, theirs in zip(
        compiled.online.parameters(), reference.online.parameters(), strict=True
    ):
        diff = (ours.detach() - theirs.detach()).abs()
        # Adam divides by the gradient's own size: where a gradient sums to nearly nothing
        # its rounding can move one step by up to ~lr; every other weight agrees closely
        assert float(diff.max()) <= 6 * lr * 1.5
        assert float((diff > 1e-5).float().mean()) <= 0.01


def _weights(learner: DQNLearner) -> list[np.ndarray]:
    assert learner.moments is not None
    arrays = [p.detach().numpy().copy() for p in learner.online.parameters()]
    return [*arrays, learner.moments.first.copy(), learner.moments.second.copy()]


@pytest.mark.parametrize("hidden", [[32], [12, 9]])
def test_the_compiled_update_is_the_same_bits_at_any_thread_count(hidden: list[int]) -> None:
    runs = []
    for threads in (1, 2, 3):
        _, learner = _learners(23, hidden, 3, 2, True, seed=4)
        learner.split = RowSplit(threads)
        losses = [learner.update(*_batch(23, 16, 3, 2, seed)).numpy() for seed in range(4)]
        runs.append((losses, learner.grad_norm.numpy(), _weights(learner)))
    for losses, norm, weights in runs[1:]:
        assert all(np.array_equal(a, b) for a, b in zip(losses, runs[0][0], strict=True))
        assert np.array_equal(norm, runs[0][1])
        assert all(np.array_equal(a, b) for a, b in zip(weights, runs[0][2], strict=True))


def test_a_reset_row_starts_with_zero_moments_and_its_own_target() -> None:
    _, learner = _learners(5, [8], 3, 1, False, seed=1)
    learner.update(*_batch(5, 8, 3, 1, seed=2))
    assert learner.moments is not None and learner.optimizer is None
    assert np.abs(learner.moments.first).sum() > 0
    with torch.no_grad():
        learner.online.weights[0][2] += 1.0
    learner.reset_rows(torch.tensor([2]))
    assert not learner.moments.first[2].any() and not learner.moments.second[2].any()
    assert learner.moments.first[1].any()
    assert torch.equal(learner.target.weights[0][2], learner.online.weights[0][2].detach())
    assert not torch.equal(learner.target.weights[0][1], learner.online.weights[0][1].detach())


@settings(max_examples=15, deadline=None, derandomize=True)
@given(
    hidden=st.lists(st.integers(1, 20), min_size=1, max_size=2),
    heads=st.integers(1, 2),
    masked=st.booleans(),
    shuffled=st.booleans(),
    double=st.booleans(),
    threads=st.integers(1, 3),
)
def test_learn_reads_each_agents_batch_from_its_buffer_as_sample_builds_it(
    hidden: list[int], heads: int, masked: bool, shuffled: bool, double: bool, threads: int
) -> None:
    """The compiled ``learn`` (no population-wide batch written) is ``sample`` then
    ``update``, bit for bit."""
    n, features, p, bars = 6, 5, OBS - 5, 9
    g = gen(3)
    buffers = ReplayBuffers(n, 16, p)
    for t in range(12):
        private = torch.randn(n, p, generator=g)
        action = torch.randint(3, (n,), generator=g)
        done = torch.rand(n, generator=g) < 0.2
        buffers.add(t % bars, private, action, torch.randn(n, generator=g), (t + 1) % bars,
                    private * 2, done)  # fmt: skip
    table = torch.randn(bars, 2, features, generator=g)
    instrument = torch.randint(2, (n,), generator=g)
    mask = (torch.rand(n, OBS, generator=g) < 0.8).float() if masked else None
    cfg = QNetConfig(hidden=hidden, double=double, shuffle_rewards=shuffled, batch_size=7,
                     update="compiled")  # fmt: skip
    net = QPopulation(n, OBS, hidden, 3 * heads, gen(4))
    fused, split = DQNLearner(net, cfg), DQNLearner(net.clone(), cfg)
    for learner in (fused, split):
        learner.split = RowSplit(threads)
        if heads > 1:
            learner.heads = heads
            learner.head_of_t = torch.randint(heads, (bars,), generator=gen(5))
    for step in range(3):
        want = split.update(*split.sample(buffers, table, instrument, gen(step), None, mask))
        got = fused.learn(buffers, table, instrument, gen(step), mask)
        assert torch.equal(got, want)
    assert all(np.array_equal(a, b) for a, b in zip(_weights(fused), _weights(split), strict=True))
