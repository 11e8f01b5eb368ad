"""Rounds and key ids of a batch: the fast paths for sorted input equal the general ones."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from scarline.risk.batch import agent_rounds, dense_ids

agents = hnp.arrays(np.int64, st.integers(1, 30), elements=st.integers(0, 6))


def _rounds_by_definition(agent: np.ndarray) -> list[list[int]]:
    seen: dict[int, int] = {}
    rank = []
    for a in agent.tolist():
        rank.append(seen.get(a, 0))
        seen[a] = rank[-1] + 1
    return [[i for i, r in enumerate(rank) if r == k] for k in range(max(rank) + 1)]


@given(agents, st.booleans())
def test_round_r_holds_every_agents_rth_row_in_row_order(agent: np.ndarray, sort: bool) -> None:
    agent = np.sort(agent) if sort else agent
    assert [r.tolist() for r in agent_rounds(agent)] == _rounds_by_definition(agent)


@given(agents, st.booleans())
def test_dense_ids_equal_unique_with_inverse(values: np.ndarray, sort: bool) -> None:
    values = np.sort(values) if sort else values
    uniques, inverse = dense_ids(values)
    want_u, want_i = np.unique(values, return_inverse=True)
    np.testing.assert_array_equal(uniques, want_u)
    np.testing.assert_array_equal(inverse, want_i)
