import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from torch_helpers import gen

from scarline.learning.config import QNetConfig
from scarline.learning.qnet import (
    EpsilonSchedule,
    QPopulation,
    configure_torch,
    linear_epsilon,
)


def loop_forward(pop: QPopulation, obs: torch.Tensor) -> torch.Tensor:
    """The same agents stepped one by one as plain MLPs (torch.nn.functional.linear)."""
    out = []
    for i in range(pop.n_agents):
        state = pop.agent_state(i)
        n_layers = len(state) // 2
        h = obs[i]
        for k in range(n_layers):
            h = F.linear(h, state[f"w{k}"].T, state[f"b{k}"])
            if k < n_layers - 1:
                h = F.relu(h)
        out.append(h)
    return torch.stack(out)


@pytest.mark.parametrize("hidden", [[32], [24, 8]])
def test_vectorized_forward_equals_the_agents_stepped_one_by_one(hidden: list[int]) -> None:
    pop = QPopulation(n_agents=17, obs_dim=16, hidden=hidden, n_actions=3, generator=gen())
    obs = torch.randn(17, 5, 16, generator=gen(1))
    q = pop.forward(obs)
    assert q.shape == (17, 5, 3) and q.dtype == torch.float32
    torch.testing.assert_close(q, loop_forward(pop, obs), atol=1e-6, rtol=0)
    single = pop.q_values(obs[:, 0])
    assert single.shape == (17, 3) and not single.requires_grad
    torch.testing.assert_close(single, q[:, 0].detach(), atol=1e-6, rtol=0)


def test_init_is_deterministic_and_nn_linear_scaled() -> None:
    a = QPopulation(8, 16, [32], 3, gen(5))
    b = QPopulation(8, 16, [32], 3, gen(5))
    c = QPopulation(8, 16, [32], 3, gen(6))
    assert all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters(), strict=True))
    assert not torch.equal(a.weights[0], c.weights[0])
    assert a.weights[0].abs().max() <= 1 / 16**0.5
    assert a.weights[1].abs().max() <= 1 / 32**0.5
    assert [tuple(p.shape) for p in a.parameters()] == [
        (8, 16, 32),
        (8, 1, 32),
        (8, 32, 3),
        (8, 1, 3),
    ]
    assert a.sizes == [16, 32, 3] and a.obs_dim == 16 and a.n_actions == 3


def test_epsilon_zero_is_greedy_and_ties_go_to_the_lowest_action() -> None:
    pop = QPopulation(64, 6, [8], 4, gen())
    obs = torch.randn(64, 6, generator=gen(1))
    actions = pop.act(obs, torch.zeros(64), gen(2))
    assert actions.dtype == torch.int64 and actions.shape == (64,)
    assert torch.equal(actions, pop.q_values(obs).argmax(1))
    for p in pop.parameters():
        p.data.zero_()  # every Q-value equal
    assert torch.equal(pop.act(obs, torch.zeros(64), gen(2)), torch.zeros(64, dtype=torch.int64))


@pytest.mark.parametrize("heads", [1, 2])
def test_greedy_acts_as_epsilon_zero_without_drawing(heads: int) -> None:
    pop = QPopulation(64, 6, [8], 3 * heads, gen())
    obs = torch.randn(64, 6, generator=gen(1))
    for head in range(heads):
        actions = pop.greedy(obs, heads, head)
        assert torch.equal(actions, pop.act(obs, torch.zeros(64), gen(2), heads, head))
        assert not pop.explored.any()
    for p in pop.parameters():
        p.data.zero_()  # ties: the lowest action, as act
    assert torch.equal(pop.greedy(obs), torch.zeros(64, dtype=torch.int64))


def test_epsilon_one_is_uniform_and_per_agent_epsilons_are_respected() -> None:
    n, a = 6000, 3
    pop = QPopulation(n, 4, [8], a, gen())
    obs = torch.randn(n, 4, generator=gen(1))
    greedy = pop.q_values(obs).argmax(1)
    uniform = pop.act(obs, torch.ones(n), gen(3))
    counts = torch.bincount(uniform, minlength=a).float() / n
    assert torch.all((counts - 1 / a).abs() < 0.03), counts
    eps = torch.where(torch.arange(n) % 2 == 0, 0.0, 1.0)
    mixed = pop.act(obs, eps, gen(3))
    assert torch.equal(mixed[0::2], greedy[0::2])  # epsilon 0: always greedy
    off_greedy = (mixed[1::2] != greedy[1::2]).float().mean()
    assert abs(off_greedy - (a - 1) / a) < 0.03  # epsilon 1: random, greedy only by chance


def test_act_draws_the_same_stream_whatever_the_epsilons() -> None:
    pop = QPopulation(10, 4, [8], 3, gen())
    obs = torch.randn(10, 4, generator=gen(1))
    g1, g2 = gen(9), gen(9)
    pop.act(obs, torch.zeros(10), g1)
    pop.act(obs, torch.ones(10), g2)
    assert torch.equal(g1.get_state(), g2.get_state())
    assert torch.equal(
        pop.act(obs, torch.full((10,), 0.5), gen(4)), pop.act(obs, torch.full((10,), 0.5), gen(4))
    )


def test_linear_epsilon_schedule() -> None:
    cfg = QNetConfig(epsilon_start=1.0, epsilon_end=0.1, epsilon_decay_steps=100)
    eps = linear_epsilon(cfg, torch.tensor([0, 50, 100, 10_000]))
    torch.testing.assert_close(eps, torch.tensor([1.0, 0.55, 0.1, 0.1]))
    assert eps.dtype == torch.float32


@settings(max_examples=60, deadline=None)
@given(
    start=st.floats(0.0, 1.0),
    span=st.floats(0.0, 1.0),
    decay=st.integers(1, 100_000),
    ages=st.lists(st.integers(0, 300_000), min_size=1, max_size=6),
    n=st.integers(1, 70),
)
def test_the_epsilon_table_is_the_population_schedule_bit_for_bit(
    start: float, span: float, decay: int, ages: list[int], n: int
) -> None:
    """Read from the table (computed once over every age) or computed for a population
    of one age, as the decision did before: the same float32 for every config."""
    cfg = QNetConfig(epsilon_start=start, epsilon_end=start * (1 - span), epsilon_decay_steps=decay)
    table = EpsilonSchedule(cfg)
    for age in ages:
        population = linear_epsilon(cfg, torch.full((n,), age, dtype=torch.int64)).numpy()
        assert np.array_equal(population.view(np.uint32), np.full(n, table(age)).view(np.uint32))


def _explore_in_torch(pop: QPopulation, greedy, epsilon, generator, heads):
    """The draws, comparison and choice as torch made them (the reference)."""
    n = greedy.shape[0]
    explore = torch.rand(n, generator=generator) < epsilon
    random_action = torch.randint(pop.n_actions // heads, (n,), generator=generator)
    return torch.where(explore, random_action, greedy), explore


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 50), heads=st.sampled_from([1, 2]))
def test_explore_in_numpy_draws_and_chooses_as_torch(seed: int, n: int, heads: int) -> None:
    pop = QPopulation(n, 4, [8], 6, gen())
    rng = np.random.default_rng(seed)
    greedy = torch.from_numpy(rng.integers(0, 6 // heads, n))
    values = np.array([0.0, 0.05, 0.5, 1.0, np.nan], np.float32)
    epsilon = rng.choice(values, n).astype(np.float32)
    g1, g2 = gen(seed), gen(seed)
    want, explored = _explore_in_torch(pop, greedy, torch.from_numpy(epsilon), g1, heads)
    got = pop.explore_numpy(greedy.numpy(), epsilon, g2, heads)
    assert np.array_equal(got, want.numpy()) and got.dtype == np.int64
    assert torch.equal(pop.explored, explored)
    assert torch.equal(g1.get_state(), g2.get_state())


def test_clone_copy_and_agent_state_round_trip() -> None:
    pop = QPopulation(4, 5, [6, 7], 3, gen())
    target = pop.clone()
    assert not any(p.requires_grad for p in target.parameters())
    assert all(p.requires_grad for p in pop.parameters())
    with torch.no_grad():
        pop.weights[0].add_(1.0)
    assert not torch.equal(target.weights[0], pop.weights[0])  # a real copy
    target.copy_(pop)
    assert all(
        torch.equal(x, y) for x, y in zip(target.parameters(), pop.parameters(), strict=True)
    )

    state = pop.agent_state(2)
    assert {k: tuple(v.shape) for k, v in state.items()} == {
        "w0": (5, 6),
        "b0": (6,),
        "w1": (6, 7),
        "b1": (7,),
        "w2": (7, 3),
        "b2": (3,),
    }
    other = QPopulation(4, 5, [6, 7], 3, gen(1))
    other.set_agent_state(0, state)
    obs = torch.randn(4, 3, 5, generator=gen(2))
    torch.testing.assert_close(other.forward(obs[2:3].expand(4, 3, 5))[0], pop.forward(obs)[2])
    with pytest.raises(ValueError, match="shape"):
        other.set_agent_state(0, {**state, "w0": torch.zeros(6, 5)})
    with pytest.raises(ValueError, match="keys"):
        other.set_agent_state(0, {"w0": state["w0"]})


def test_index_select_and_replace_rows_copy_whole_agents() -> None:
    pop = QPopulation(5, 4, [8], 3, gen())
    donors = QPopulation(3, 4, [8], 3, gen(1))
    picked = pop.index_select(torch.tensor([4, 1]))
    assert picked.n_agents == 2
    torch.testing.assert_close(picked.agent_state(0)["w0"], pop.agent_state(4)["w0"])
    before = pop.agent_state(0)
    pop.replace_rows(torch.tensor([1, 3]), donors, torch.tensor([2, 0]))
    for key, value in donors.agent_state(2).items():
        assert torch.equal(pop.agent_state(1)[key], value)
    for key, value in donors.agent_state(0).items():
        assert torch.equal(pop.agent_state(3)[key], value)
    for key, value in before.items():
        assert torch.equal(pop.agent_state(0)[key], value)  # untouched rows stay


def test_configure_torch_sets_threads_and_determinism() -> None:
    configure_torch(1)
    assert torch.get_num_threads() == 1
    assert torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(2)
    configure_torch(0)  # 0: the process's setting stays
    assert torch.get_num_threads() == 2
    with pytest.raises(ValueError):
        configure_torch(-1)


def test_config_validation() -> None:
    cfg = QNetConfig()
    assert cfg.hidden == [32] and cfg.actions == [-1.0, 0.0, 1.0] and cfg.n_actions == 3
    assert cfg.init == "kaiming-uniform"
    with pytest.raises(ValidationError, match="hidden"):
        QNetConfig(hidden=[8, 8, 8])
    with pytest.raises(ValidationError, match="epsilon_end"):
        QNetConfig(epsilon_start=0.1, epsilon_end=0.5)
    with pytest.raises(ValidationError):
        QNetConfig(learning_rate=0.1)
    with pytest.raises(ValidationError):
        QNetConfig(actions=[1.0, 1.0])
