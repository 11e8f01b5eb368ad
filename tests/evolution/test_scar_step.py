"""The compiled scar pass equals the numpy reference bit for bit (scars and trust are journaled)."""

import copy

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from scarline.evolution.scars import ScarConfig, ScarTracker


def _bits(a: np.ndarray | None) -> tuple[str, tuple[int, ...], bytes] | None:
    return None if a is None else (a.dtype.str, a.shape, np.ascontiguousarray(a).tobytes())


def _state(t: ScarTracker) -> list[object]:
    return [_bits(x) for x in (t._mean, t._var, t._peak, t.alive, t.scars, t.trust)]


@settings(max_examples=80, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 40),
    steps=st.integers(1, 60),
    cash=st.sampled_from([1, 1_000, 1_000_000, 2**40]),
)
def test_compiled_pass_equals_the_numpy_reference(seed: int, n: int, steps: int, cash: int) -> None:
    """Random cash paths through zero and below (ruin, non-positive peaks and prices),
    closed trades, evolved sensitivities, the dead: every measure and state array equal."""
    rng = np.random.default_rng(seed)
    cfg = ScarConfig(drawdown_pct=5.0, trade_loss_pct=1.0, ruin_fraction=0.5, floor_step=0.1)
    fast, ref = ScarTracker(n, cfg, cash), ScarTracker(n, cfg, cash)
    ref._measure = ref._measure_numpy  # type: ignore[method-assign]
    equity = np.full(n, cash, np.int64)
    realized = np.zeros(n, np.int64)
    for t in range(steps):
        equity = equity + rng.integers(-cash // 4 - 1, cash // 5 + 2, n)
        if rng.random() < 0.4:
            realized = realized + rng.integers(-cash, cash // 2 + 1, n) * (rng.random(n) < 0.5)
        sens = rng.uniform(0.3, 3.0, n) if rng.random() < 0.2 else np.ones(n)
        fast.sensitivity[:] = ref.sensitivity[:] = sens
        a = copy.deepcopy(fast)._measure(fast._last_equity, equity, realized)
        b = copy.deepcopy(ref)._measure(ref._last_equity, equity, realized)
        for name in ("drawdown", "trade_loss", "by_dd", "scarred", "dying"):
            assert _bits(getattr(a, name)) == _bits(getattr(b, name)), name
        assert (a.scars, a.deaths) == (b.scars, b.deaths)
        ea, eb = fast.update(t, equity, realized), ref.update(t, equity, realized)
        for name in ("scar_agent", "scar_cause", "scar_value", "death_agent", "death_trust"):
            assert _bits(getattr(ea, name)) == _bits(getattr(eb, name)), name
        assert _state(fast) == _state(ref), t
        assert fast.all_alive == bool(fast.alive.all()), t  # the kernel's per-step question
        if not fast.all_alive and rng.random() < 0.2:  # a newborn in a dead slot
            rows = np.flatnonzero(~fast.alive)[:1]
            fast.reborn(rows, equity)
            ref.reborn(rows, equity)
            assert fast.all_alive == bool(fast.alive.all()), t


def test_other_integer_cash_takes_the_numpy_path() -> None:
    tracker = ScarTracker(3, ScarConfig(), 100)
    equity = np.array([90, 100, 120], np.int32)
    m = tracker._measure(tracker._last_equity, equity, np.zeros(3, np.int32))
    assert m.drawdown.tolist() == [10.0, 0.0, 0.0]
    assert tracker._buffers is None  # the compiled pass's buffers were never made


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 300),
    decay=st.floats(0.01, 1.0),
    floor_step=st.floats(0.0, 0.5),
)
def test_scarred_rows_refresh_as_a_full_recompute(
    seed: int, n: int, decay: float, floor_step: float
) -> None:
    """A scar refreshes the floor and trust's scar factor of its rows only: the same floats
    as recomputing every row (trust is journaled), and arrays handed out before stay as
    they were."""
    rng = np.random.default_rng(seed)
    cfg = ScarConfig(scar_decay=decay, floor_step=floor_step)
    tracker = ScarTracker(n, cfg, 1_000)
    for _ in range(5):
        before = tracker.floor
        kept = before.copy()
        rows = np.flatnonzero(rng.random(n) < 0.3)
        tracker.scars[rows] += rng.integers(1, 40)
        tracker._scars_changed(rows)
        full = ScarTracker(n, cfg, 1_000)
        full.scars[:] = tracker.scars
        full._scars_changed()
        assert _bits(tracker.floor) == _bits(full.floor)
        assert _bits(tracker._decay) == _bits(full._decay)
        assert _bits(before) == _bits(kept)
