import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_helpers import gen

from scarline.learning.buffer import ReplayBuffers, assemble
from scarline.learning.row_split import RowSplit


def add_step(buf: ReplayBuffers, t: int) -> None:
    """One transition per agent whose every field encodes (agent, t)."""
    n, p = buf.n_agents, buf.private_dim
    agent = torch.arange(n, dtype=torch.float32)
    private = (agent * 1000 + t).unsqueeze(1).expand(n, p).contiguous()
    buf.add(
        t=t,
        private=private,
        action=torch.full((n,), t % 3, dtype=torch.int64),
        reward=agent * 1000 + t,
        next_t=t + 1,
        next_private=private + 1,
        done=torch.full((n,), t % 2 == 1),
    )


def test_ring_wraps_around_and_keeps_the_latest_capacity_transitions() -> None:
    buf = ReplayBuffers(n_agents=3, capacity=4, private_dim=2)
    for t in range(6):
        add_step(buf, t)
    assert buf.size.tolist() == [4, 4, 4] and buf.pos == 2
    assert buf.t.tolist() == [4, 5, 2, 3]  # slots 0, 1 overwritten by t = 4, 5
    batch = buf.gather(buf.sample(200, gen()))
    assert set(batch.t.flatten().tolist()) == {2, 3, 4, 5}
    assert batch.t.shape == (3, 200) and batch.private.shape == (3, 200, 2)
    agent = torch.arange(3).unsqueeze(1)
    # each agent sees its own rows, consistent across fields
    torch.testing.assert_close(batch.reward, (agent * 1000 + batch.t).float())
    torch.testing.assert_close(batch.private[..., 1], batch.reward)
    torch.testing.assert_close(batch.next_private[..., 0], batch.reward + 1)
    assert torch.equal(batch.next_t, batch.t + 1)
    assert torch.equal(batch.action, batch.t % 3)
    assert torch.equal(batch.done, batch.t % 2 == 1)
    assert batch.action.dtype == torch.int64 and batch.done.dtype == torch.bool


def test_sampling_uses_only_each_agents_filled_slots() -> None:
    buf = ReplayBuffers(n_agents=2, capacity=8, private_dim=1)
    for t in range(3):
        add_step(buf, t)
    idx = buf.sample(500, gen())
    assert set(idx.flatten().tolist()) == {0, 1, 2}  # never the empty slots 3..7
    buf.clear_rows(torch.tensor([1]))
    with pytest.raises(ValueError, match="no transitions"):
        buf.sample(4, gen())
    add_step(buf, 3)
    add_step(buf, 4)
    assert buf.size.tolist() == [5, 2]
    t = buf.gather(buf.sample(500, gen())).t
    assert set(t[0].tolist()) == {0, 1, 2, 3, 4}
    assert set(t[1].tolist()) == {3, 4}  # a cleared row forgets what came before


@settings(max_examples=40, deadline=None)
@given(
    capacity=st.integers(1, 9),
    steps=st.integers(1, 30),
    seed=st.integers(0, 2**31 - 1),
)
def test_samples_always_come_from_the_latest_transitions(
    capacity: int, steps: int, seed: int
) -> None:
    buf = ReplayBuffers(n_agents=2, capacity=capacity, private_dim=1)
    for t in range(steps):
        add_step(buf, t)
    filled = min(steps, capacity)
    assert buf.size.tolist() == [filled, filled]
    t = buf.gather(buf.sample(64, gen(seed))).t
    assert t.min() >= steps - filled and t.max() <= steps - 1


def test_sampling_is_deterministic_given_the_generator() -> None:
    buf = ReplayBuffers(n_agents=4, capacity=16, private_dim=1)
    for t in range(20):
        add_step(buf, t)
    assert torch.equal(buf.sample(32, gen(7)), buf.sample(32, gen(7)))
    assert not torch.equal(buf.sample(32, gen(7)), buf.sample(32, gen(8)))


def test_assemble_looks_up_each_agents_instrument_in_the_shared_table() -> None:
    t_n, m, f, n, p = 5, 3, 2, 4, 1
    table = torch.arange(t_n * m * f, dtype=torch.float32).reshape(t_n, m, f)
    instrument = torch.tensor([2, 0, 1, 2])
    private = torch.full((n, p), -1.0)
    obs = assemble(table, instrument, 3, private)  # acting: one time index for all
    assert obs.shape == (n, f + p)
    torch.testing.assert_close(obs[:, :f], table[3, instrument])
    t_idx = torch.tensor([[0, 4], [1, 1], [2, 3], [4, 0]])
    batch = assemble(table, instrument, t_idx, private.unsqueeze(1).expand(n, 2, p))
    assert batch.shape == (n, 2, f + p)
    for i in range(n):
        for b in range(2):
            torch.testing.assert_close(batch[i, b, :f], table[t_idx[i, b], instrument[i]])
    assert torch.all(batch[..., f:] == -1.0)


def test_add_rejects_wrong_private_shapes_and_nbytes_counts_every_tensor() -> None:
    buf = ReplayBuffers(n_agents=3, capacity=4, private_dim=2)
    with pytest.raises(ValueError, match="private"):
        buf.add(
            0,
            torch.zeros(2),
            torch.zeros(3, dtype=torch.int64),
            torch.zeros(3),
            1,
            torch.zeros(3, 2),
            torch.zeros(3, dtype=torch.bool),
        )
    # per slot: t, next_t shared (8 + 8 B); per agent and slot: 2 x private, reward, action,
    # done packed as 2 * 2 + 3 float32; plus the per-agent size counter
    assert buf.nbytes() == 4 * 16 + 3 * 4 * (2 * 2 + 3) * 4 + 3 * 8


@settings(max_examples=30, deadline=None)
@given(steps=st.integers(0, 9), data=st.data())
def test_copy_rows_gives_a_newborn_exactly_its_parents_memory(
    steps: int, data: st.DataObject
) -> None:
    """Before and after the ring wraps, a copied row samples as its source row did."""
    buf = ReplayBuffers(n_agents=4, capacity=5, private_dim=2)
    for t in range(steps):
        add_step(buf, t)
    buf.clear_rows(torch.tensor([3]))
    src = data.draw(st.lists(st.integers(0, 3), min_size=1, max_size=3))
    rows = data.draw(st.permutations(range(4)))[: len(src)]
    before = buf.record.clone(), buf.size.clone()
    buf.copy_rows(torch.tensor(rows), torch.tensor(src))
    for row, s in zip(rows, src, strict=True):
        assert torch.equal(buf.record[row], before[0][s]) and buf.size[row] == before[1][s]
    untouched = sorted(set(range(4)) - set(rows))
    assert torch.equal(buf.record[untouched], before[0][untouched])


def test_records_are_stored_slot_major_and_record_is_the_agent_major_view() -> None:
    """A step's add writes one contiguous block of the ring; ``record`` reads the same
    memory agent by agent (no copy), so a write through either is seen by the other."""
    buf = ReplayBuffers(n_agents=3, capacity=4, private_dim=2)
    assert buf.ring.shape == (4, 3, 7) and buf.ring.is_contiguous()
    assert buf.record.shape == (3, 4, 7) and buf.record.data_ptr() == buf.ring.data_ptr()
    add_step(buf, 0)
    assert torch.equal(buf.record[:, 0], buf.ring[0])
    buf.record[2, 1, 0] = 5.0
    assert buf.ring[1, 2, 0] == 5.0


def test_copy_rows_checks_its_rows_as_torch_indexing_would() -> None:
    buf = ReplayBuffers(n_agents=4, capacity=5, private_dim=2)
    for t in range(3):
        add_step(buf, t)
    before = buf.record.clone()
    buf.copy_rows(torch.tensor([-1]), torch.tensor([0]))  # the last agent, counted from the end
    assert torch.equal(buf.record[3], before[0])
    with pytest.raises(IndexError, match="out of range for 4 agents"):
        buf.copy_rows(torch.tensor([4]), torch.tensor([0]))
    with pytest.raises(ValueError, match="2 rows but 1 source rows"):
        buf.copy_rows(torch.tensor([1, 2]), torch.tensor([0]))


def torch_add(buf: ReplayBuffers, t, private, action, reward, next_t, next_private, done):  # type: ignore[no-untyped-def]
    """``ReplayBuffers.add`` before it was compiled: the reference it is held to."""
    s = buf.pos
    buf.t[s] = t
    buf.next_t[s] = next_t
    scalars = torch.stack([reward, action.to(torch.float32), done.to(torch.float32)], 1)
    buf.record[:, s] = torch.cat([private, next_private, scalars], 1)
    buf.pos = (s + 1) % buf.capacity
    buf.written = min(buf.written + 1, buf.capacity)
    buf.size.add_(1).clamp_(max=buf.capacity)


@settings(max_examples=80, deadline=None)
@given(
    n=st.integers(1, 7),
    capacity=st.integers(1, 9),
    p=st.integers(0, 3),
    adds=st.integers(1, 20),
    wide=st.booleans(),
    seed=st.integers(0, 2**31 - 1),
)
def test_add_stores_what_the_torch_ops_stored(
    n: int, capacity: int, p: int, adds: int, wide: bool, seed: int
) -> None:
    """float64 inputs round to float32 once, big actions round as int64 → float32 does."""
    g = gen(seed)
    dtype = torch.float64 if wide else torch.float32
    compiled, reference = ReplayBuffers(n, capacity, p), ReplayBuffers(n, capacity, p)
    for t in range(adds):
        args = (
            t,
            torch.randn(n, p, generator=g, dtype=dtype) * 1e3,
            torch.randint(-(2**40), 2**40, (n,), generator=g),
            torch.randn(n, generator=g, dtype=dtype) / 3,
            t + 1,
            torch.randn(n, p, generator=g, dtype=dtype),
            torch.rand(n, generator=g) < 0.5,
        )
        compiled.add(*args)
        torch_add(reference, *args)
        if t == adds // 2:
            compiled.clear_rows(torch.tensor([0]))
            reference.clear_rows(torch.tensor([0]))
    assert torch.equal(compiled.record.view(torch.int32), reference.record.view(torch.int32))
    for name in ("t", "next_t", "size"):
        assert torch.equal(getattr(compiled, name), getattr(reference, name))
    assert (compiled.pos, compiled.written) == (reference.pos, reference.written)


def test_add_rejects_per_agent_fields_of_the_wrong_shape() -> None:
    buf = ReplayBuffers(n_agents=3, capacity=4, private_dim=1)
    private = torch.zeros(3, 1)
    with pytest.raises(ValueError, match=r"reward must be \(3,\)"):
        buf.add(0, private, torch.zeros(3, dtype=torch.int64), torch.zeros(2), 1, private,
                torch.zeros(3, dtype=torch.bool))  # fmt: skip


def torch_slots(buf: ReplayBuffers, u: torch.Tensor) -> torch.Tensor:
    """``ReplayBuffers.sample``'s slots before they were compiled: the reference."""
    size = buf.size.unsqueeze(1)
    back = torch.minimum((u * size).to(torch.int64), size - 1)
    return (buf.pos - 1 - back) % buf.capacity


def _filled(n: int, capacity: int, p: int, adds: int, seed: int) -> ReplayBuffers:
    g = gen(seed)
    buf = ReplayBuffers(n, capacity, p)
    for t in range(adds):
        buf.add(
            t % 6,
            torch.randn(n, p, generator=g),
            torch.randint(0, 5, (n,), generator=g),
            torch.randn(n, generator=g),
            (t + 1) % 6,
            torch.randn(n, p, generator=g),
            torch.rand(n, generator=g) < 0.3,
        )
        if t == adds // 2 and t < adds - 1 and n > 1:
            buf.clear_rows(torch.tensor([n - 1]))  # one agent fills again from here
    return buf


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 6),
    capacity=st.integers(1, 40),
    adds=st.integers(1, 60),
    seed=st.integers(0, 2**31 - 1),
)
def test_sample_picks_the_slots_the_torch_formula_picked(
    n: int, capacity: int, adds: int, seed: int
) -> None:
    buf = _filled(n, capacity, 1, adds, seed)
    u = buf.draw(50, gen(seed))
    assert torch.equal(buf.sample(50, gen(seed)), torch_slots(buf, u))


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 6),
    capacity=st.integers(1, 12),
    p=st.integers(0, 3),
    features=st.integers(0, 4),  # 0: a table with no market columns
    instruments=st.integers(1, 3),
    adds=st.integers(1, 30),
    masked=st.booleans(),
    shuffled=st.booleans(),
    threads=st.integers(1, 3),
    seed=st.integers(0, 2**31 - 1),
)
def test_batch_is_gather_and_assemble_bit_for_bit(
    n: int,
    capacity: int,
    p: int,
    features: int,
    instruments: int,
    adds: int,
    masked: bool,
    shuffled: bool,
    threads: int,
    seed: int,
) -> None:
    """The compiled batch equals the torch ops it replaced, at any thread count."""
    buf = _filled(n, capacity, p, adds, seed)
    g = gen(seed + 1)
    table = torch.randn(6, instruments, features, generator=g)
    instrument = torch.randint(instruments, (n,), generator=g)
    mask = (torch.rand(n, features + p, generator=g) < 0.7).float() if masked else None
    draw = buf.draw(9, gen(seed))
    reward_draw = buf.draw(9, gen(seed + 2)) if shuffled else None
    got = buf.batch(draw, table, instrument, mask, RowSplit(threads), reward_draw)

    want = buf.gather(torch_slots(buf, draw))
    obs = assemble(table, instrument, want.t, want.private)
    next_obs = assemble(table, instrument, want.next_t, want.next_private)
    if mask is not None:
        obs, next_obs = obs * mask.unsqueeze(1), next_obs * mask.unsqueeze(1)
    reward = want.reward
    if reward_draw is not None:
        reward = buf.gather(torch_slots(buf, reward_draw)).reward
    for name, ours, theirs in [
        ("obs", got.obs, obs),
        ("next_obs", got.next_obs, next_obs),
        ("reward", got.reward, reward),
    ]:
        assert torch.equal(ours.view(torch.int32), theirs.view(torch.int32)), name
    for name in ("action", "done", "t", "next_t"):
        assert torch.equal(getattr(got, name), getattr(want, name)), name
