"""LineageBook: generations, deaths, schema, errors, deterministic Parquet, ancestry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from lineage_helpers import random_book, small_book

from scarline.errors import ScarlineError
from scarline.evolution.lineage import SCHEMA, LineageError, ancestry, read_lineage, write_lineage
from scarline.evolution.lineage_book import LineageBook

COLUMNS = [
    ("agent_id", pa.int64()),
    ("parent_id", pa.int64()),
    ("generation", pa.int32()),
    ("island", pa.int32()),
    ("slot", pa.int32()),
    ("birth_step", pa.int64()),
    ("death_step", pa.int64()),
    ("death_cause", pa.string()),
    ("genome_hash", pa.string()),
    ("final_hash", pa.string()),
    ("fitness", pa.float64()),
    ("scars", pa.int64()),
    ("trust", pa.float64()),
]


def _founders(n: int = 3) -> LineageBook:
    b = LineageBook()
    b.found(np.arange(n), np.arange(n), [f"g{i}" for i in range(n)], step=0)
    return b


def test_schema_is_exactly_the_documented_columns() -> None:
    table = small_book().table()
    assert [(f.name, f.type) for f in table.schema] == COLUMNS
    assert table.schema.equals(SCHEMA)


def test_trust_is_recorded_at_death_and_at_the_end(tmp_path: Path) -> None:
    b = _founders(3)
    b.died(np.array([1]), 4, "ruin", ["f1"], np.array([0.2]), np.array([2]), np.array([0.3]))
    b.finish(np.array([0, 2]), 9, ["f0", "f2"], np.zeros(2), np.zeros(2, int), np.array([0.6, 0.4]))
    assert b.table().column("trust").to_pylist() == [0.6, 0.3, 0.4]
    unknown = _founders(1)
    unknown.finish(np.array([0]), 9, ["f0"], np.zeros(1), np.zeros(1, int))  # not given: NaN
    assert np.isnan(unknown.table().column("trust").to_numpy()).all()
    # a lineage/1 file (written before trust was recorded) reads back with NaN trust
    path = tmp_path / "old.parquet"
    pq.write_table(b.table().drop_columns(["trust"]), path)
    assert np.isnan(read_lineage(path).column("trust").to_numpy()).all()
    with pytest.raises(LineageError, match="trust has shape"):
        _founders(1).finish(np.array([0]), 9, ["f0"], np.zeros(1), np.zeros(1, int), np.zeros(2))


def test_small_book_rows() -> None:
    d = small_book().table().to_pydict()
    assert d["agent_id"] == [0, 1, 2, 3, 4, 5, 6]
    assert d["parent_id"] == [-1, -1, -1, 0, 0, 4, 2]
    assert d["generation"] == [0, 0, 0, 1, 1, 2, 1]
    assert d["island"] == [0, 0, 0, 1, 1, 1, 0]
    assert d["slot"] == [0, 1, 2, 3, 4, 1, 0]
    assert d["birth_step"] == [0, 0, 0, 2, 2, 5, 7]
    assert d["death_step"] == [6, 4, -1, -1, 8, -1, -1]
    assert d["death_cause"] == ["culled", "ruin", "", "", "ruin", "", ""]
    assert d["genome_hash"] == ["g000000", "g000001", "g000002", "g3", "g4", "g5", "g6"]
    assert d["final_hash"] == ["f0", "f1", "f2", "f3", "f4", "f5", "f6"]
    assert d["scars"] == [0, 3, 0, 1, 2, 0, 4]
    fit = np.array(d["fitness"])
    assert np.isnan(fit[5])
    np.testing.assert_array_equal(np.delete(fit, 5), [0.1, -0.5, 1.5, 0.7, 0.3, 2.5])


def test_generation_is_parent_generation_plus_one_across_many_batches() -> None:
    table = random_book(steps=60, seed=3).table()
    ids = table.column("agent_id").to_numpy()
    parents = table.column("parent_id").to_numpy()
    gens = table.column("generation").to_numpy()
    assert len(table) > 64  # past the initial capacity: the columns grew
    np.testing.assert_array_equal(ids, np.arange(ids.size))
    child = parents >= 0
    np.testing.assert_array_equal(gens[child], gens[parents[child]] + 1)
    np.testing.assert_array_equal(gens[~child], 0)
    birth = table.column("birth_step").to_numpy()
    assert (birth[child] >= birth[parents[child]]).all()


def test_unordered_ids_are_sorted_in_the_table_and_still_found() -> None:
    b = LineageBook()
    b.found(np.array([50, 10, 30]), np.array([0, 1, 2]), ["a", "b", "c"], step=0)
    b.born(np.array([20, 5]), np.array([30, 50]), np.array([3, 4]), ["d", "e"], step=1)
    b.born(np.array([7]), np.array([20]), np.array([5]), ["f"], step=2)
    b.died(np.array([10, 7]), 3, ["ruin", "culled"], ["x", "y"], np.ones(2), np.zeros(2, int))
    d = b.table().to_pydict()
    assert d["agent_id"] == [5, 7, 10, 20, 30, 50]
    assert d["parent_id"] == [50, 20, -1, 30, -1, -1]
    assert d["generation"] == [1, 2, 0, 1, 0, 0]
    assert d["death_cause"] == ["", "culled", "ruin", "", "", ""]
    np.testing.assert_array_equal(b.alive_ids(), [5, 20, 30, 50])
    np.testing.assert_array_equal(b.generation_of(np.array([7, 50])), [2, 0])


def test_alive_until_finish_then_defaults() -> None:
    b = _founders()
    b.died(np.array([1]), 5, "ruin", ["h"], np.array([0.2]), np.array([1]))
    np.testing.assert_array_equal(b.alive_ids(), [0, 2])
    d = b.table().to_pydict()  # before finish: living rows have no final data yet
    assert d["death_step"] == [-1, 5, -1]
    assert d["final_hash"] == ["", "h", ""]
    assert np.isnan(d["fitness"][0]) and d["scars"] == [0, 1, 0]


def test_unknown_parent_names_child_and_parent() -> None:
    b = _founders()
    with pytest.raises(LineageError, match="agent 9: unknown parent id 42"):
        b.born(np.array([9]), np.array([42]), np.array([0]), ["x"], step=1)
    assert len(b) == 3  # nothing half-appended


@pytest.mark.parametrize(
    ("ids", "message"),
    [(np.array([1]), "1 \\(already recorded\\)"), (np.array([7, 7]), "7 in one batch")],
)
def test_duplicate_agent_id(ids: np.ndarray, message: str) -> None:
    b = _founders()
    with pytest.raises(LineageError, match=f"duplicate agent id {message}"):
        b.born(ids, np.zeros_like(ids), np.zeros_like(ids), ["x"] * ids.size, step=1)


def test_dying_twice_and_unknown_death() -> None:
    b = _founders()
    b.died(np.array([2]), 3, "ruin", ["h"], np.array([0.0]), np.array([0]))
    with pytest.raises(LineageError, match="agent 2 cannot die: it already died at step 3"):
        b.died(np.array([2]), 4, "culled", ["h"], np.array([0.0]), np.array([0]))
    with pytest.raises(LineageError, match="unknown agent id 99"):
        b.died(np.array([99]), 4, "ruin", ["h"], np.array([0.0]), np.array([0]))
    with pytest.raises(LineageError, match="agent 1 appears twice"):
        b.died(np.array([1, 1]), 4, "ruin", ["h", "h"], np.zeros(2), np.zeros(2, int))


def test_time_must_run_forward() -> None:
    b = _founders()
    b.born(np.array([3]), np.array([0]), np.array([0]), ["x"], step=5)
    with pytest.raises(LineageError, match="agent 3 cannot die at step 4: born at step 5"):
        b.died(np.array([3]), 4, "ruin", ["h"], np.array([0.0]), np.array([0]))
    with pytest.raises(LineageError, match="agent 4: parent 3 was born at step 5"):
        b.born(np.array([4]), np.array([3]), np.array([0]), ["x"], step=2)


def test_finish_must_name_every_living_agent_once() -> None:
    b = _founders()
    with pytest.raises(LineageError, match=r"1 living agent\(s\) not given \(e\.g\. agent 2\)"):
        b.finish(np.array([0, 1]), 9, ["a", "b"], np.zeros(2), np.zeros(2, int))
    b.finish(np.array([0, 1, 2]), 9, ["a", "b", "c"], np.zeros(3), np.zeros(3, int))
    with pytest.raises(LineageError, match="already called"):
        b.finish(np.array([], np.int64), 9, [], np.zeros(0), np.zeros(0, int))
    with pytest.raises(LineageError, match="agent 0 cannot die: it already was finished"):
        b.died(np.array([0]), 9, "ruin", ["h"], np.array([0.0]), np.array([0]))
    with pytest.raises(LineageError, match="born after finish"):
        b.born(np.array([7]), np.array([0]), np.array([0]), ["x"], step=9)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"slots": np.array([0, 1])}, "slots has shape \\[2\\], expected \\[3\\]"),
        ({"genome_hashes": ["a", "b"]}, "genome_hashes must hold 3 strings"),
        ({"genome_hashes": ["a", "b", 3]}, "genome_hashes must be a sequence of str"),
        ({"agent_ids": np.array([0.5, 1.0, 2.0])}, "agent_ids must be a 1-d integer array"),
        ({"step": -1}, "step must be >= 0"),
    ],
)
def test_bad_arguments_are_named(kwargs: dict, message: str) -> None:
    args = {
        "agent_ids": np.arange(3),
        "slots": np.arange(3),
        "genome_hashes": ["a", "b", "c"],
        "step": 0,
    }
    with pytest.raises(LineageError, match=message):
        LineageBook().found(**(args | kwargs))


def test_errors_are_value_errors_and_user_errors() -> None:
    assert issubclass(LineageError, ValueError) and issubclass(LineageError, ScarlineError)
    with pytest.raises(ValueError, match="death cause must be a non-empty string"):
        _founders().died(np.array([0]), 1, "", ["h"], np.zeros(1), np.zeros(1, int))


def test_parquet_bytes_are_deterministic(tmp_path: Path) -> None:
    a = random_book(seed=5).write(tmp_path / "a" / "lineage.parquet")
    b = random_book(seed=5).write(tmp_path / "b" / "lineage.parquet")
    c = random_book(seed=6).write(tmp_path / "c" / "lineage.parquet")
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()
    assert not list(tmp_path.rglob("*.tmp"))
    meta = pq.ParquetFile(a).metadata
    keys = set((meta.metadata or {}).keys())
    assert keys <= {b"ARROW:schema", b"scarline.schema"}  # no pandas block, no timestamps


def test_round_trip(tmp_path: Path) -> None:
    book = small_book()
    path = book.write(tmp_path / "lineage.parquet")
    back = read_lineage(path)
    assert back.schema.equals(SCHEMA, check_metadata=True)
    assert back.to_pandas().equals(book.table().to_pandas())  # NaN fitness compares equal


def test_read_lineage_reports_missing_and_mistyped_columns(tmp_path: Path) -> None:
    table = small_book().table()
    missing = tmp_path / "missing.parquet"
    pq.write_table(table.drop_columns(["scars"]), missing)
    with pytest.raises(LineageError, match=f"{missing}: missing column 'scars'"):
        read_lineage(missing)
    mistyped = tmp_path / "mistyped.parquet"
    bad = table.set_column(2, "generation", table.column("generation").cast(pa.float64()))
    pq.write_table(bad, mistyped)
    with pytest.raises(LineageError, match="column 'generation' has type double, expected int32"):
        read_lineage(mistyped)
    garbage = tmp_path / "garbage.parquet"
    garbage.write_bytes(b"not parquet")
    with pytest.raises(LineageError, match="not a readable Parquet file"):
        read_lineage(garbage)
    with pytest.raises(LineageError, match="no lineage file"):
        read_lineage(tmp_path / "nope.parquet")
    dup = tmp_path / "dup.parquet"
    with pytest.raises(LineageError, match="duplicate agent id 0"):  # never written either
        write_lineage(pa.concat_tables([table, table.slice(0, 1)]), tmp_path / "dup2.parquet")
    pq.write_table(pa.concat_tables([table, table.slice(0, 1)]), dup)
    with pytest.raises(LineageError, match="duplicate agent id 0"):
        read_lineage(dup)


def test_ancestry_runs_back_to_the_founder() -> None:
    table = small_book().table()
    assert ancestry(table, 5) == [5, 4, 0]
    assert ancestry(table, 6) == [6, 2]
    assert ancestry(table, 1) == [1]
    with pytest.raises(LineageError, match="agent 77 is not in the lineage"):
        ancestry(table, 77)


def test_ancestry_chain_length_is_generation_plus_one() -> None:
    table = random_book(seed=1).table()
    gens = table.column("generation").to_pylist()
    for agent in range(0, len(table), 7):
        chain = ancestry(table, agent)
        assert len(chain) == gens[agent] + 1
        assert gens[chain[-1]] == 0
