"""Who emigrates (the best scored living) and who makes room (the worst living, not newborn)."""

import numpy as np

from scarline.evolution.migration import ISLAND_ID_STRIDE, displaced_rows, emigrant_rows, island_of

NAN = np.nan


def test_emigrants_are_the_best_scored_living_ties_by_row() -> None:
    fitness = np.array([1.0, 3.0, NAN, 3.0, 5.0, 0.5])
    alive = np.array([True, True, True, True, False, True])
    # row 4 is dead, row 2 unscored; rows 1 and 3 tie: the lower row first
    assert emigrant_rows(fitness, alive, 3).tolist() == [1, 3, 0]
    assert emigrant_rows(fitness, alive, 10).tolist() == [1, 3, 0, 5]
    assert emigrant_rows(np.full(3, NAN), np.ones(3, bool), 2).size == 0


def test_displaced_are_the_worst_living_never_a_newborn() -> None:
    fitness = np.array([0.1, -2.0, 4.0, -2.0, -9.0, NAN])
    alive = np.array([True, True, True, True, False, True])
    newborn = np.array([True, False, False, False, False, False])
    # row 4 is dead; row 5 is living but unscored: it counts as the worst
    assert displaced_rows(fitness, alive, newborn, 3).tolist() == [5, 1, 3]
    assert 0 not in displaced_rows(fitness, alive, newborn, 6).tolist()


def test_island_of_reads_the_id_range() -> None:
    ids = np.array([0, ISLAND_ID_STRIDE - 1, ISLAND_ID_STRIDE, 2 * ISLAND_ID_STRIDE + 5])
    assert island_of(ids).tolist() == [0, 0, 1, 2]
