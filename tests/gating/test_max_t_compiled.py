"""The compiled resample statistic equals numpy's, float for float, so max-t p-values are
unchanged by it."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scarline.gating import spa
from scarline.gating.max_t_compiled import MIN_COLUMNS, max_resampled_t
from scarline.gating.spa import _max_resampled_t, max_t_pvalues
from scarline.stats import STD_EPSILON


@st.composite
def records(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """A ``[T, K]`` record of mixed magnitudes (some columns nearly flat, so a resample can
    be flat where the record is not) and one resample's row index."""
    t = draw(st.integers(10, 400))
    k = draw(st.integers(MIN_COLUMNS, 40))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = rng.standard_normal((t, k)) * 10.0 ** rng.uniform(-4, 1, size=k)
    sparse = rng.random(k) < 0.3  # columns that trade rarely: mostly zeros
    x[:, sparse] *= rng.random((t, int(sparse.sum()))) < 0.05
    return x, rng.integers(0, t, t)


@settings(max_examples=200, deadline=None)
@given(records(), st.booleans())
def test_the_compiled_statistic_is_numpys(record: tuple[np.ndarray, np.ndarray], stud: bool):
    x, index = record
    mean, sd = x.mean(axis=0), x.std(axis=0, ddof=1)
    reference = _max_resampled_t(x[index], mean, sd, stud)
    compiled = max_resampled_t(x, index, mean, sd, stud, STD_EPSILON)
    assert compiled == reference or (np.isneginf(compiled) and np.isneginf(reference))


@pytest.mark.parametrize("studentize", [True, False])
def test_p_values_are_those_of_the_numpy_path(monkeypatch: pytest.MonkeyPatch, studentize: bool):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((300, 12)) * 0.01
    x[:, 3] += 0.004  # an edge, so the p-values are not all near 1
    compiled = max_t_pvalues(x, [3, 7], reps=300, seed=2, studentize=studentize)
    monkeypatch.setattr(spa, "MIN_COLUMNS", 10**9)  # every resample through numpy
    assert max_t_pvalues(x, [3, 7], reps=300, seed=2, studentize=studentize) == compiled
    assert compiled[0] < 0.05 < compiled[1]
