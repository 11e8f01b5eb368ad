import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scarline.evolution.selection import mu_plus_lambda, replacement_rows, tournament

fitness_lists = st.lists(
    st.one_of(st.floats(-10, 10), st.just(float("nan"))), min_size=2, max_size=30
)


@settings(max_examples=60, deadline=None)
@given(values=fitness_lists, seed=st.integers(0, 2**32 - 1), k=st.integers(1, 5))
def test_tournament_never_picks_the_dead_and_is_deterministic(
    values: list[float], seed: int, k: int
) -> None:
    fitness = np.array(values)
    if not np.isfinite(fitness).any():
        with pytest.raises(ValueError, match="no agent with a finite fitness"):
            tournament(fitness, 4, k, np.random.default_rng(seed))
        return
    parents = tournament(fitness, 50, k, np.random.default_rng(seed))
    assert parents.dtype == np.int64 and parents.shape == (50,)
    assert np.isfinite(fitness[parents]).all()
    assert np.array_equal(parents, tournament(fitness, 50, k, np.random.default_rng(seed)))


@settings(max_examples=30, deadline=None)
@given(
    values=st.lists(st.floats(-10, 10), min_size=2, max_size=20, unique=True),
    seed=st.integers(0, 2**32 - 1),
)
def test_tournament_favours_the_best_over_the_worst(values: list[float], seed: int) -> None:
    fitness = np.array(values)
    counts = np.bincount(
        tournament(fitness, 4000, 2, np.random.default_rng(seed)), minlength=len(values)
    )
    assert counts[fitness.argmax()] > counts[fitness.argmin()]
    assert counts[fitness.argmin()] < 4000 / len(values)  # the worst wins only against itself


def test_tournament_k1_is_uniform_over_the_living() -> None:
    fitness = np.array([1.0, np.nan, 3.0, 2.0])
    counts = np.bincount(tournament(fitness, 30000, 1, np.random.default_rng(0)), minlength=4)
    assert counts[1] == 0 and np.all(np.abs(counts[[0, 2, 3]] / 30000 - 1 / 3) < 0.02)
    with pytest.raises(ValueError, match="k must be >= 1"):
        tournament(fitness, 3, 0, np.random.default_rng(0))


def test_mu_plus_lambda_keeps_the_best_of_the_union_with_stable_ties() -> None:
    parents = np.array([1.0, 5.0, np.nan, 3.0])
    children = np.array([4.0, 3.0, 0.5])
    kept_p, kept_c = mu_plus_lambda(parents, children, 3)
    assert kept_p.tolist() == [1, 3] and kept_c.tolist() == [0]  # 5, 4, 3 (parent wins tie)
    kept_p, kept_c = mu_plus_lambda(parents, children, 7)
    assert kept_p.tolist() == [0, 1, 2, 3] and kept_c.tolist() == [0, 1, 2]
    kept_p, kept_c = mu_plus_lambda(parents, children, 6)  # the dead parent goes
    assert kept_p.tolist() == [0, 1, 3]
    with pytest.raises(ValueError, match="mu"):
        mu_plus_lambda(parents, children, 8)


@settings(max_examples=50, deadline=None)
@given(parents=fitness_lists, children=fitness_lists, data=st.data())
def test_mu_plus_lambda_keeps_exactly_the_mu_best(
    parents: list[float], children: list[float], data: st.DataObject
) -> None:
    p, c = np.array(parents), np.array(children)
    mu = data.draw(st.integers(0, p.size + c.size))
    kept_p, kept_c = mu_plus_lambda(p, c, mu)
    assert kept_p.size + kept_c.size == mu
    union = np.concatenate([p, c])
    kept = np.zeros(union.size, bool)
    kept[np.concatenate([kept_p, kept_c + p.size])] = True
    worst_kept = np.nan_to_num(union[kept], nan=-np.inf).min(initial=np.inf)
    best_dropped = np.nan_to_num(union[~kept], nan=-np.inf).max(initial=-np.inf)
    assert worst_kept >= best_dropped


def test_replacement_rows_dead_first_then_worst_living() -> None:
    fitness = np.array([2.0, np.nan, 0.5, 0.5, 9.0, -1.0])
    alive = np.array([True, False, True, True, True, False])
    assert replacement_rows(fitness, alive, 6).tolist() == [1, 5, 2, 3, 0, 4]
    assert replacement_rows(fitness, alive, 3).tolist() == [1, 5, 2]
    assert replacement_rows(fitness, alive, 0).size == 0
    with pytest.raises(ValueError, match="n_births"):
        replacement_rows(fitness, alive, 7)
