"""Immigrants in a lineage book: a parent from another island's book, its generation given."""

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from scarline.evolution.lineage import LineageError, ancestry
from scarline.evolution.lineage_book import LineageBook
from scarline.evolution.migration import ISLAND_ID_STRIDE
from scarline.report.lineage_plot import write_lineage_graphml, write_lineage_png

BASE = ISLAND_ID_STRIDE  # island 1


def _island_one() -> LineageBook:
    book = LineageBook()
    book.found(BASE + np.arange(3), np.arange(3), ["a", "b", "c"], 0, island=1)
    return book


def test_an_immigrant_takes_its_origin_generation_plus_one() -> None:
    book = _island_one()
    book.born(np.array([BASE + 3]), np.array([BASE + 1]), np.array([1]), ["d"], 50, island=1)
    book.died(np.array([BASE + 2]), 100, "culled", ["c2"], np.array([-1.0]), np.array([0]))
    book.arrived(np.array([BASE + 4]), np.array([7]), np.array([4]), np.array([2]), ["x"], 100, 1)
    table = book.table().to_pandas().set_index("agent_id")
    assert table.parent_id[BASE + 4] == 7 and table.generation[BASE + 4] == 5
    assert table.island[BASE + 4] == 1 and table.birth_step[BASE + 4] == 100
    assert table.generation[BASE + 3] == 1  # local births still look their parent up
    # a child of the immigrant is a local birth again
    book.born(np.array([BASE + 5]), np.array([BASE + 4]), np.array([0]), ["y"], 150, island=1)
    assert book.generation_of(np.array([BASE + 5])).tolist() == [6]


def test_arrival_rejects_local_parents_and_bad_generations() -> None:
    book = _island_one()
    with pytest.raises(LineageError, match="is in this lineage; record it with born"):
        book.arrived(np.array([BASE + 3]), np.array([BASE]), np.array([0]), np.array([0]), ["d"], 1)
    with pytest.raises(LineageError, match="negative parent generation"):
        book.arrived(np.array([BASE + 3]), np.array([5]), np.array([-1]), np.array([0]), ["d"], 1)
    with pytest.raises(LineageError, match="needs a parent id"):
        book.arrived(np.array([BASE + 3]), np.array([-1]), np.array([0]), np.array([0]), ["d"], 1)
    with pytest.raises(LineageError, match="duplicate agent id"):
        book.arrived(np.array([BASE]), np.array([5]), np.array([0]), np.array([0]), ["d"], 1)
    # local births keep their check: an unknown local parent is still an error
    with pytest.raises(LineageError, match="unknown parent id 5"):
        book.born(np.array([BASE + 3]), np.array([5]), np.array([0]), ["d"], 1)


def test_one_islands_tree_draws_with_immigrants_as_roots(tmp_path: Path) -> None:
    book = _island_one()
    book.arrived(np.array([BASE + 3]), np.array([7]), np.array([2]), np.array([0]), ["x"], 50, 1)
    book.born(np.array([BASE + 4]), np.array([BASE + 3]), np.array([1]), ["y"], 100, 1)
    table = book.table()
    assert ancestry(table, BASE + 4) == [BASE + 4, BASE + 3]
    assert write_lineage_png(table, tmp_path / "t.png").stat().st_size > 0
    write_lineage_graphml(table, tmp_path / "t.graphml")
    # a parent missing from the agent's *own* island is still a broken lineage
    broken = table.set_column(1, "parent_id", pa.array([-1, -1, -1, BASE + 9, BASE + 3]))
    with pytest.raises(LineageError, match="is not in the lineage"):
        write_lineage_png(broken, tmp_path / "b.png")
