"""The compiled ladder screen finds the rows numpy's formula finds, and a ladder using it
moves exactly as one screening in numpy (levels and transitions are journaled)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import scarline.risk.ladder as ladder_module
from scarline.risk import LadderConfig, RiskConfig
from scarline.risk.ladder import _HAIR, Ladder
from scarline.risk.ladder_screen import peaks_and_screen


def numpy_screen(
    peak: np.ndarray, equity: np.ndarray, next_dd: np.ndarray, level: np.ndarray, hair: float,
    hit: np.ndarray,
) -> int:  # fmt: skip
    """What ``Ladder.update`` computed before the screen was compiled."""
    np.maximum(peak, equity, out=peak)
    hit[:] = (peak - equity) * 100.0 >= next_dd[level] * (peak * hair)
    return int(np.count_nonzero(hit))


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 50))
def test_the_screen_finds_numpys_rows(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    peak = rng.integers(1, 10**15, n)
    equity = peak - rng.integers(-(10**12), 10**15, n) // rng.integers(1, 50, n)
    next_dd = np.array([10.0, 20.0, 30.0, np.inf])
    level = rng.integers(0, 4, n).astype(np.int8)
    p1, p2 = peak.copy(), peak.copy()
    h1, h2 = np.zeros(n, bool), np.zeros(n, bool)
    assert peaks_and_screen(p1, equity, next_dd, level, _HAIR, h1) == numpy_screen(
        p2, equity, next_dd, level, _HAIR, h2
    )
    assert np.array_equal(h1, h2) and np.array_equal(p1, p2)


@pytest.mark.parametrize("breaches", [False, True])
def test_a_ladder_moves_as_with_the_numpy_screen(
    breaches: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    ladder_cfg = LadderConfig(
        warn_drawdown_pct=5.0,
        throttle_drawdown_pct=10.0,
        halt_drawdown_pct=20.0,
        breach_warn=3 if breaches else None,
    )
    cfg = RiskConfig(ladder=ladder_cfg, max_drawdown_pct=25.0)
    rng = np.random.default_rng(7)
    n = 64
    equity = np.full(n, 10**12, np.int64)
    fast = Ladder(cfg, n)
    slow = Ladder(cfg, n)
    for step in range(300):
        equity = equity + rng.integers(-(10**10), 9 * 10**9, n)
        if breaches:
            counts = rng.integers(0, 2, n)
            fast.breaches.add(step, counts)
            slow.breaches.add(step, counts)
        a = fast.update(step, equity, frozen=False)
        with monkeypatch.context() as m:
            m.setattr(ladder_module, "peaks_and_screen", numpy_screen)
            b = slow.update(step, equity, frozen=False)
        for field in ("agent", "from_level", "to_level", "cause", "value", "limit"):
            assert np.array_equal(getattr(a, field), getattr(b, field)), (step, field)
        assert np.array_equal(fast.level, slow.level) and np.array_equal(fast.peak, slow.peak)
    assert fast.level.max() > 0  # the walk reached the ladder
