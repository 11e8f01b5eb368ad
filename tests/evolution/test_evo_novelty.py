import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scarline.evolution.fitness import fitness
from scarline.evolution.nearest import k_smallest
from scarline.evolution.novelty import NoveltyArchive, behaviour_descriptors


def descriptors(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return behaviour_descriptors(
        turnover=rng.uniform(0, 0.2, n),
        holding_time=rng.uniform(1, 50, n),
        long_fraction=rng.uniform(0, 1, n),
        max_drawdown=rng.uniform(0, 0.5, n),
        regime_returns=rng.normal(0, 1e-3, (n, 2)),
    )


def test_descriptors_columns_and_errors() -> None:
    d = behaviour_descriptors(
        np.array([0.1, 0.2]), np.array([0.0, 9.0]), np.array([0.5, 1.0]), np.array([0.1, 0.3])
    )
    assert d.shape == (2, 4) and d.dtype == np.float64
    assert np.allclose(d[:, 1], np.log([1.0, 10.0]))
    assert descriptors(5).shape == (5, 6)
    with pytest.raises(ValueError, match="long_fraction"):
        behaviour_descriptors(np.zeros(2), np.zeros(2), np.array([0.5, np.nan]), np.zeros(2))
    with pytest.raises(ValueError, match="regime_returns"):
        behaviour_descriptors(np.zeros(2), np.zeros(2), np.zeros(2), np.zeros(2), np.zeros((3, 1)))


def test_an_outlier_is_the_most_novel() -> None:
    d = descriptors(40)
    d[17] = d.mean(axis=0) + 10 * d.std(axis=0)
    novelty = NoveltyArchive(k=5).score(d)
    assert novelty.shape == (40,) and novelty.argmax() == 17


def test_duplicates_have_zero_novelty_with_k1() -> None:
    d = descriptors(6)
    d[3] = d[1]
    novelty = NoveltyArchive(k=1).score(d)
    assert novelty[1] == 0.0 and novelty[3] == 0.0 and np.all(np.delete(novelty, [1, 3]) > 0)
    # a behaviour already in the archive is no longer novel either
    archive = NoveltyArchive(k=1)
    archive.add(d[:1], np.array([1.0]), np.random.default_rng(0))
    assert archive.score(d[:1])[0] == 0.0


def test_score_is_standardized_and_matches_a_brute_force_reference() -> None:
    archive = NoveltyArchive(k=3, quota=4)
    archive.add(descriptors(10, 1), np.arange(10.0), np.random.default_rng(0))
    d = descriptors(7, 2) * np.array([1000.0, 1, 1, 1, 1, 1])  # a unit change is harmless
    union = np.concatenate([archive.descriptors, d])
    z = (union - union.mean(0)) / union.std(0)
    dist = np.sqrt(((z[:, None] - z[None]) ** 2).sum(-1))
    np.fill_diagonal(dist, np.inf)
    expected = np.sort(dist[4:], axis=1)[:, :3].mean(1)
    assert np.allclose(archive.score(d), expected, rtol=1e-12)
    assert np.array_equal(archive.score(d), archive.score(d))


def test_small_populations_use_the_neighbours_they_have() -> None:
    assert NoveltyArchive(k=15).score(descriptors(1)).tolist() == [0.0]
    assert np.all(NoveltyArchive(k=15).score(descriptors(3)) > 0)


def test_add_keeps_the_most_novel_up_to_the_quota_fifo_to_capacity() -> None:
    archive = NoveltyArchive(k=2, capacity=5, quota=2)
    d = np.arange(12.0).reshape(6, 2)
    added = archive.add(d, np.array([0.1, 0.9, 0.0, 0.5, np.nan, 0.7]), np.random.default_rng(0))
    assert added.tolist() == [1, 5] and len(archive) == 2
    assert np.array_equal(archive.descriptors, d[[1, 5]])
    added = archive.add(d, np.array([0.3, 0.0, 0.2, 0.0, 0.0, 0.0]), np.random.default_rng(0))
    assert added.tolist() == [0, 2]
    archive.add(d + 100, np.array([1.0, 2.0, 0, 0, 0, 0]), np.random.default_rng(0))
    assert len(archive) == 5  # 6 added, the oldest one dropped
    assert np.array_equal(archive.descriptors, np.concatenate([d[[5, 0, 2]], d[[1, 0]] + 100]))
    # zero novelty (a duplicate) never enters; ties broken by the generator, reproducibly
    tied = [
        NoveltyArchive(quota=1).add(d, np.ones(6), np.random.default_rng(s)).tolist()
        for s in (1, 1, 2, 3, 4)
    ]
    assert tied[0] == tied[1] and len({t[0] for t in tied}) > 1
    with pytest.raises(ValueError, match="columns"):
        archive.score(np.zeros((2, 3)))


def test_fitness_adds_the_novelty_bonus_and_keeps_the_dead_dead() -> None:
    out = fitness(np.array([0.5, np.nan, -0.2]), np.array([1.0, 2.0, np.nan]), 0.1)
    assert np.allclose(out[[0, 2]], [0.6, -0.2]) and np.isnan(out[1])
    assert np.array_equal(fitness(np.array([1.0]), np.array([5.0]), 0.0), [1.0])
    with pytest.raises(ValueError, match="lam"):
        fitness(np.zeros(2), np.zeros(2), -1.0)


@settings(max_examples=150, deadline=None)
@given(
    rows=st.integers(1, 12),
    cols=st.integers(1, 60),
    data=st.data(),
)
def test_k_smallest_is_numpys_partition_then_sort(rows: int, cols: int, data) -> None:
    """Ties, zeros and infinities (the diagonal) included: the very same array."""
    k = data.draw(st.integers(1, cols))
    values = st.sampled_from([0.0, 0.5, 1.0, 2.0, np.inf]) | st.floats(0.0, 1e6)
    d = np.array(data.draw(st.lists(values, min_size=rows * cols, max_size=rows * cols)))
    d = d.reshape(rows, cols)
    want = np.sort(np.partition(d, k - 1, axis=1)[:, :k], axis=1)
    got = k_smallest(d, k)
    assert got.tobytes() == want.tobytes()


def test_k_smallest_refuses_a_k_out_of_range() -> None:
    with pytest.raises(ValueError, match="k must be in"):
        k_smallest(np.zeros((2, 3)), 4)
