"""``k_nearest``: each row's k nearest distances, the same bits as the whole ``torch.cdist``
matrix's k smallest (the reference novelty used), ties and duplicates included."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from scarline.evolution.nearest import MARGIN, SPARE, k_nearest, k_nearest_reference

MODE = "donot_use_mm_for_euclid_dist"


@st.composite
def points(draw: st.DrawFn) -> tuple[np.ndarray, int, int]:
    """Up to 40 points of 1–9 coordinates; some repeated, some on a coarse grid (exact
    ties in distance), some wide apart; a split into archive and population, and a k."""
    u = draw(st.integers(2, 40))
    d = draw(st.integers(1, 9))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    kind = draw(st.sampled_from(["normal", "grid", "wide"]))
    if kind == "normal":
        z = rng.standard_normal((u, d))
    elif kind == "grid":
        z = rng.integers(-2, 3, (u, d)).astype(np.float64)
    else:
        z = rng.standard_normal((u, d)) * 10.0 ** rng.integers(-8, 8, (u, 1))
    repeats = draw(st.integers(0, u // 2))
    z[rng.integers(0, u, repeats)] = z[rng.integers(0, u, repeats)]
    first = draw(st.integers(0, u - 1))
    k = draw(st.integers(1, u - 1))
    return z, first, k


@settings(max_examples=300, deadline=None)
@given(points())
def test_the_k_nearest_are_the_whole_matrix_ones_bit_for_bit(case) -> None:
    z, first, k = case
    assert k_nearest(z, first, k).tobytes() == k_nearest_reference(z, first, k).tobytes()


def test_rows_with_more_ties_than_room_take_the_whole_row() -> None:
    # 3 + SPARE + 5 copies of one point: each copy's candidates are all the others at 0
    z = np.zeros((3 + SPARE + 6, 4))
    z[-1] = 1.0
    got = k_nearest(z, 0, 3)
    assert got.tobytes() == k_nearest_reference(z, 0, 3).tobytes()
    assert np.array_equal(got[:-1], np.zeros((z.shape[0] - 1, 3)))


def test_a_pairs_distance_is_the_same_in_any_call() -> None:
    # the premise: torch.cdist computes each pair on its own, so the candidates' distances
    # in a small batched call are the whole matrix's
    rng = np.random.default_rng(7)
    for d in (3, 4, 5, 7, 8):
        x = torch.from_numpy(rng.standard_normal((40, d)))
        full = torch.cdist(x, x, compute_mode=MODE)
        pick = torch.from_numpy(rng.integers(0, 40, (40, 6)))
        batched = torch.cdist(x.unsqueeze(1), x[pick], compute_mode=MODE).squeeze(1)
        assert torch.equal(batched, full.gather(1, pick))


def test_the_margin_covers_the_gap_between_summation_orders() -> None:
    # the candidates' own sums differ from torch's by a few units of 2**-52 (relative)
    rng = np.random.default_rng(3)
    for d in (5, 7, 9):
        x = rng.standard_normal((200, d)) * 10.0 ** rng.integers(-3, 4, (200, 1))
        torch_sq = torch.cdist(torch.from_numpy(x), torch.from_numpy(x), compute_mode=MODE)
        torch_sq = torch_sq.numpy() ** 2
        own = np.zeros((200, 200))
        for c in range(d):
            own += (x[None, :, c] - x[:, None, c]) ** 2
        gap = np.abs(own - torch_sq) / np.maximum(own, 1e-300)
        assert gap.max() < MARGIN / 1e5


def test_k_out_of_range_is_refused_and_no_rows_give_no_rows() -> None:
    with pytest.raises(ValueError, match="k must be in"):
        k_nearest(np.zeros((3, 2)), 0, 3)
    assert k_nearest(np.zeros((3, 2)), 3, 2).shape == (0, 2)
