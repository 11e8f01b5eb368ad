"""Clustering of trials into distinct strategies (the DSR's N, PBO's population)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scarline.gating.clusters import (
    UNCORRELATED,
    cluster_trials,
    correlation_distance,
    representatives,
    silhouettes,
)

T = 600


def groups(rng: np.random.Generator, sizes: list[int], rho: float) -> np.ndarray:
    """Independent groups; inside a group every pair has correlation ``rho``."""
    blocks = []
    for n in sizes:
        common = rng.normal(size=(T, 1))
        blocks.append(np.sqrt(rho) * common + np.sqrt(1 - rho) * rng.normal(size=(T, n)))
    return np.concatenate(blocks, axis=1)


def test_identical_strategies_are_one_cluster() -> None:
    rng = np.random.default_rng(0)
    x = np.repeat(rng.normal(size=(T, 1)), 12, axis=1) + 1e-9 * rng.normal(size=(T, 12))
    c = cluster_trials(x)
    assert c.n_clusters == 1 and c.flat_label is None
    assert c.silhouette > 0.99
    np.testing.assert_allclose(c.representatives[:, 0], x.mean(axis=1))


def test_uncorrelated_strategies_all_count() -> None:
    c = cluster_trials(np.random.default_rng(1).normal(size=(T, 15)))
    assert c.n_clusters == 15  # no structure: nothing is merged (conservative for the DSR)
    assert c.silhouette == 0.0


@pytest.mark.parametrize("seed", range(5))
def test_three_planted_groups_are_three_clusters(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = groups(rng, [4, 6, 5], rho=0.8)
    perm = rng.permutation(x.shape[1])
    c = cluster_trials(x[:, perm])
    assert c.n_clusters == 3
    truth = np.repeat([0, 1, 2], [4, 6, 5])[perm]
    for g in range(3):  # each planted group is exactly one cluster
        assert np.unique(c.labels[truth == g]).size == 1
    for label in range(3):
        members = c.labels == label
        np.testing.assert_allclose(c.representatives[:, label], x[:, perm][:, members].mean(1))


def test_a_group_among_independents_keeps_the_independents_apart() -> None:
    rng = np.random.default_rng(7)
    x = np.concatenate([groups(rng, [6], rho=0.9), rng.normal(size=(T, 5))], axis=1)
    c = cluster_trials(x)
    assert c.n_clusters == 6  # the group, and five strategies of their own
    assert np.unique(c.labels[:6]).size == 1


def test_opposite_strategies_are_two() -> None:
    base = np.random.default_rng(8).normal(size=(T, 1))
    assert cluster_trials(np.hstack([base, -base, base, -base])).n_clusters == 2


def test_flat_trials_form_one_trivial_cluster() -> None:
    rng = np.random.default_rng(9)
    x = np.concatenate([np.zeros((T, 3)), rng.normal(size=(T, 2)), np.zeros((T, 1))], axis=1)
    c = cluster_trials(x)
    assert c.n_clusters == 3 and c.flat_label == 2
    assert list(c.labels) == [2, 2, 2, 0, 1, 2]
    assert not c.representatives[:, 2].any()
    assert c.varying().shape == (T, 2) and (c.n_distinct, c.n_flat) == (2, 4)
    only_flat = cluster_trials(np.zeros((T, 4)))
    assert only_flat.n_clusters == 1 and only_flat.flat_label == 0
    assert only_flat.varying().shape == (T, 0) and only_flat.n_distinct == 0


def test_equicorrelated_population_merges_only_when_clearly_alike() -> None:
    rng = np.random.default_rng(10)
    assert cluster_trials(groups(rng, [16], rho=0.9)).n_clusters == 1
    assert cluster_trials(groups(rng, [16], rho=0.2)).n_clusters == 16


def test_distance_and_silhouettes() -> None:
    rng = np.random.default_rng(11)
    a = rng.normal(size=(T, 1))
    d = correlation_distance(np.hstack([a, a, -a]))
    np.testing.assert_allclose(d, [[0, 0, 1], [0, 0, 1], [1, 1, 0]], atol=1e-12)
    assert correlation_distance(rng.normal(size=(50_000, 2)))[0, 1] == pytest.approx(
        UNCORRELATED, abs=0.01
    )
    s = silhouettes(d, np.array([0, 0, 1]))
    np.testing.assert_allclose(s, [1.0, 1.0, 0.0])  # b is capped at sqrt(1/2); singleton 0
    one = silhouettes(d, np.zeros(3, dtype=int))  # k = 1: b = sqrt(1/2)
    assert one[0] == pytest.approx((UNCORRELATED - 0.5) / UNCORRELATED)
    assert one[2] < 0
    with pytest.raises(ValueError, match="no variation"):
        correlation_distance(np.zeros((10, 2)))


@settings(max_examples=40, deadline=None)
@given(
    k=st.integers(1, 9),
    t=st.integers(3, 60),
    seed=st.integers(0, 2**32 - 1),
    flat=st.integers(0, 2),
    copies=st.integers(0, 3),
)
def test_cluster_invariants(k: int, t: int, seed: int, flat: int, copies: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(t, k))
    x = np.concatenate([x, np.repeat(x[:, :1], copies, axis=1), np.zeros((t, flat))], axis=1)
    c = cluster_trials(x)
    n = x.shape[1]
    assert 1 <= c.n_clusters <= n and c.labels.shape == (n,)
    assert set(c.labels.tolist()) == set(range(c.n_clusters))  # labels 0..C-1, none empty
    assert -1.0 <= c.silhouette <= 1.0
    for label in range(c.n_clusters):  # a representative is its members' average
        np.testing.assert_allclose(c.representatives[:, label], x[:, c.labels == label].mean(1))
    assert np.unique(c.labels[[0, *range(k, k + copies)]]).size == 1  # copies stay together
    if flat:
        assert c.flat_label is not None and set(c.labels[n - flat :]) == {c.flat_label}
    # the partition does not depend on the order of the trials
    perm = rng.permutation(n)
    assert cluster_trials(x[:, perm]).n_clusters == c.n_clusters


def test_representatives_over_other_bars() -> None:
    x = np.arange(12.0).reshape(4, 3)
    expected = np.column_stack([x[:, 1], (x[:, 0] + x[:, 2]) / 2])
    np.testing.assert_allclose(representatives(x, np.array([1, 0, 1])), expected)
