"""The compiled acting (schema 11 on): bit for bit a sequential float32 reference, the same
actions as torch off near ties, the same actions at any thread count."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_helpers import gen

from scarline.learning.acting import GROUP, MIN_BLOCK, _dense, _narrow_group, greedy_actions
from scarline.learning.buffer import assemble
from scarline.learning.config import QNetConfig
from scarline.learning.dqn import DQNLearner
from scarline.learning.qnet import QPopulation
from scarline.learning.row_split import RowSplit


def reference_q(
    net: QPopulation,
    market: np.ndarray,
    instrument: np.ndarray,
    private: np.ndarray,
    mask: np.ndarray | None,
) -> np.ndarray:
    """Each layer's sum in input order from zero, then the bias, float32 throughout (numpy's
    float32 ufuncs round every product and every sum, as the compiled loop does)."""
    h = np.concatenate([market[instrument], private], axis=1).astype(np.float32)
    if mask is not None:
        h = h * mask
    arrays = net.arrays()
    depth = len(arrays) // 2
    for k in range(depth):
        w, b = arrays[2 * k], arrays[2 * k + 1]
        acc = np.zeros((h.shape[0], w.shape[2]), dtype=np.float32)
        for j in range(w.shape[1]):
            acc = acc + h[:, j, None] * w[:, j, :]
        h = acc + b[:, 0, :]
        if k < depth - 1:
            h = np.where(h > 0, h, np.where(np.isnan(h), h, np.float32(0.0)))
    return h


@st.composite
def populations(draw: st.DrawFn) -> tuple:
    n = draw(st.integers(1, 24))
    m, f, p = draw(st.integers(1, 5)), draw(st.integers(1, 9)), draw(st.integers(0, 4))
    hidden = draw(st.lists(st.integers(1, 40), min_size=1, max_size=2))
    heads, per_head = draw(st.integers(1, 3)), draw(st.integers(1, 5))
    seed = draw(st.integers(0, 2**31 - 1))
    net = QPopulation(n, f + p, hidden, heads * per_head, gen(seed), requires_grad=False)
    rng = np.random.default_rng(seed)
    if draw(st.booleans()):  # ties everywhere: zero output weights, equal biases
        with torch.no_grad():
            net.weights[-1].zero_()
            net.biases[-1].fill_(0.25)
    market = rng.standard_normal((m, f), dtype=np.float32)
    if draw(st.booleans()):  # NaN features, as a feature table's warm-up rows hold
        market[rng.random((m, f)) < 0.2] = np.nan
    instrument = rng.integers(0, m, n)
    private = rng.standard_normal((n, p), dtype=np.float32)
    mask = (rng.random((n, f + p)) < 0.7).astype(np.float32) if draw(st.booleans()) else None
    return net, market, instrument, private, mask, heads, draw(st.integers(0, heads - 1))


@settings(max_examples=150, deadline=None)
@given(populations())
def test_actions_are_the_argmax_of_the_sequential_reference(case: tuple) -> None:
    net, market, instrument, private, mask, heads, head = case
    q = reference_q(net, market, instrument, private, mask)
    per_head = q.shape[1] // heads
    expected = np.argmax(q[:, head * per_head : (head + 1) * per_head], axis=1)  # first max
    got = greedy_actions(net, market, instrument, private, mask, heads, head)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, expected)


@settings(max_examples=100, deadline=None)
@given(
    st.integers(1, 40), st.integers(1, 15), st.integers(0, 3), st.integers(0, 2**31 - 1),
    st.booleans(),
)  # fmt: skip
def test_a_group_output_layer_is_each_agents_own_bit_for_bit(
    n_in: int, n_out: int, first: int, seed: int, specials: bool
) -> None:
    """The interleaved sums of GROUP agents' output layers are the very floats each agent's
    own layer gives (every sum in its order), infinities and signed zeros included; a NaN is
    a NaN in both, its sign and payload aside (the compiler may swap an add's operands, and
    so which NaN it passes on; any NaN wins the argmax alike)."""
    rng = np.random.default_rng(seed)
    n = first + GROUP + 1
    x = rng.standard_normal((GROUP, n_in), dtype=np.float32)
    w = rng.standard_normal((n, n_in, n_out), dtype=np.float32)
    b = rng.standard_normal((n, 1, n_out), dtype=np.float32)
    if specials:
        pick = rng.random(x.shape) < 0.1
        x[pick] = rng.choice(np.array([np.nan, np.inf, -np.inf, -0.0, 0.0], np.float32), pick.sum())
        w[rng.random(w.shape) < 0.05] = np.float32(1e38)
    together = np.empty((GROUP, n_out), dtype=np.float32)
    _narrow_group(x, w, b, first, together)
    alone = np.empty((GROUP, n_out), dtype=np.float32)
    for a in range(GROUP):
        _dense(x[a], w, b, first + a, alone[a], False)
    nan = np.isnan(alone)
    np.testing.assert_array_equal(np.isnan(together), nan)
    np.testing.assert_array_equal(together.view(np.uint32)[~nan], alone.view(np.uint32)[~nan])


def test_ties_go_to_the_lowest_action_and_a_nan_wins() -> None:
    net = QPopulation(3, 2, [4], 3, gen(0), requires_grad=False)
    with torch.no_grad():
        net.weights[-1].zero_()
        biases = [[[1.0, 1.0, 0.5]], [[0.0, 2.0, 2.0]], [[0.0, 0.0, 0.0]]]
        net.biases[-1].copy_(torch.tensor(biases))
        net.biases[-1][2, 0, 1] = float("nan")
    market = np.ones((1, 1), dtype=np.float32)
    got = greedy_actions(net, market, np.zeros(3, np.int64), np.ones((3, 1), np.float32), None)
    np.testing.assert_array_equal(got, [0, 1, 1])
    with torch.no_grad():
        torch_q = net.q_values(torch.ones(3, 2))
    np.testing.assert_array_equal(torch_q.argmax(dim=1).numpy(), got)


@pytest.mark.parametrize("hidden", [[32], [16, 8]])
def test_actions_agree_with_torch_off_near_ties(hidden: list[int]) -> None:
    """The two sum in different orders (MKL blocks a large layer), so they agree wherever
    the best action leads by more than rounding."""
    n, m, f, p = 500, 20, 15, 4
    net = QPopulation(n, f + p, hidden, 3, gen(3))
    table = torch.randn(9, m, f, generator=gen(4))
    instrument = torch.arange(n) % m
    private = torch.randn(n, p, generator=gen(5))
    with torch.no_grad():
        q = net.q_values(assemble(table, instrument, 6, private))
    top2 = q.topk(2, dim=1).values
    clear = (top2[:, 0] - top2[:, 1]).numpy() > 1e-5
    assert clear.mean() > 0.95
    got = greedy_actions(net, table[6].numpy(), instrument.numpy(), private.numpy(), None)
    np.testing.assert_array_equal(got[clear], q.argmax(dim=1).numpy()[clear])
    np.testing.assert_allclose(
        reference_q(net, table[6].numpy(), instrument.numpy(), private.numpy(), None),
        q.numpy(),
        rtol=0,
        atol=1e-5,
    )


def test_explore_makes_the_draws_act_makes() -> None:
    """``act`` is ``explore`` on the greedy actions: the same draws, in the same order."""
    net = QPopulation(64, 7, [8], 3, gen(1))
    obs = torch.randn(64, 7, generator=gen(2))
    epsilon = torch.full((64,), 0.5)
    a = net.act(obs, epsilon, gen(9))
    explored = net.explored.clone()
    b = net.explore(net.greedy(obs), epsilon, gen(9))
    assert torch.equal(a, b) and torch.equal(explored, net.explored)
    assert 0 < int(explored.sum()) < 64


def test_more_than_two_hidden_layers_is_refused() -> None:
    net = QPopulation(2, 3, [4, 4, 4], 2, gen(0))
    with pytest.raises(ValueError, match="one or two hidden layers"):
        greedy_actions(net, np.zeros((1, 3), np.float32), np.zeros(2, np.int64),
                       np.zeros((2, 0), np.float32), None)  # fmt: skip


@pytest.mark.parametrize("lr_scaled", [False, True])
def test_the_arrays_it_reads_follow_every_update(lr_scaled: bool) -> None:
    """It reads the weights through numpy views of the tensors: Adam's in-place steps (and
    the per-agent learning-rate rescale), a target sync and a row replacement all show."""
    cfg = QNetConfig(hidden=[8], train_every=1)
    net = QPopulation.from_config(6, 5, cfg, gen(0))
    dqn = DQNLearner(net, cfg)
    if lr_scaled:
        dqn.lr_scale = torch.linspace(0.5, 2.0, 6)
    g = gen(1)
    for _ in range(3):
        obs, next_obs = torch.randn(6, 4, 5, generator=g), torch.randn(6, 4, 5, generator=g)
        action = torch.randint(3, (6, 4), generator=g)
        dqn.update(obs, action, torch.randn(6, 4, generator=g), next_obs, torch.zeros(6, 4).bool())
    dqn.sync_target()
    net.replace_rows(torch.tensor([0]), dqn.target, torch.tensor([5]))
    for array, tensor in zip(net.arrays(), net.parameters(), strict=True):
        assert np.shares_memory(array, tensor.detach().numpy())
        assert np.array_equal(array, tensor.detach().numpy())
    market = np.random.default_rng(2).standard_normal((1, 3), dtype=np.float32)
    private = np.random.default_rng(3).standard_normal((6, 2), dtype=np.float32)
    instrument = np.zeros(6, np.int64)
    expected = np.argmax(reference_q(net, market, instrument, private, None), axis=1)
    np.testing.assert_array_equal(greedy_actions(net, market, instrument, private, None), expected)


@pytest.mark.parametrize("threads", [2, 3])
def test_a_population_split_over_threads_acts_as_on_one(threads: int) -> None:
    """Blocks of MIN_BLOCK agents or more on several threads: the same actions, in place."""
    n = threads * MIN_BLOCK + 7
    net = QPopulation(n, 6, [16, 8], 3, gen(3), requires_grad=False)
    rng = np.random.default_rng(3)
    market = rng.standard_normal((4, 4), dtype=np.float32)
    instrument = rng.integers(0, 4, n)
    private = rng.standard_normal((n, 2), dtype=np.float32)
    one = greedy_actions(net, market, instrument, private, None)
    split = RowSplit(threads)
    assert np.array_equal(greedy_actions(net, market, instrument, private, None, split=split), one)
    q = reference_q(net, market, instrument, private, None)
    assert np.array_equal(one, q.argmax(axis=1))
