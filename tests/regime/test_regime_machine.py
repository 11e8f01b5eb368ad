"""The hysteresis state machine: blips are held through, a sustained change switches at the
exact bar, and (hypothesis) a switch happens exactly after ``hysteresis`` confident bars."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scarline.regime.machine import Transition, commit, transitions

CALM, TREND, CHAOS = 0, 1, 2


def _probs(states: list[int], p: float = 0.9) -> np.ndarray:
    """One row per bar: ``p`` on the given state, the rest shared by the other two."""
    out = np.full((len(states), 3), (1 - p) / 2)
    out[np.arange(len(states)), states] = p
    return out


def test_short_blips_are_held_through() -> None:
    states = [CALM] * 10 + [CHAOS] * 2 + [CALM] * 5 + [TREND] * 2 + [CALM] * 5
    labels = commit(_probs(states), confidence=0.6, hysteresis=3)
    assert (labels == CALM).all()
    assert transitions(labels, np.ones(len(labels))) == []


def test_a_sustained_change_switches_at_the_exact_bar() -> None:
    probs = _probs([CALM] * 10 + [CHAOS] * 10)
    labels = commit(probs, confidence=0.6, hysteresis=3)
    assert labels.tolist() == [CALM] * 12 + [CHAOS] * 8  # bars 10, 11, 12 confident -> 12
    conf = probs[np.arange(20), labels]
    assert transitions(labels, conf) == [Transition(12, CALM, CHAOS, 0.9)]


def test_probability_below_the_threshold_never_switches() -> None:
    labels = commit(_probs([CALM] * 5 + [CHAOS] * 20, p=0.55), confidence=0.6, hysteresis=1)
    assert (labels == CALM).all()


def test_a_streak_of_another_state_restarts_the_count() -> None:
    states = [CALM] * 3 + [CHAOS] * 2 + [TREND] + [CHAOS] * 2 + [TREND] * 3
    labels = commit(_probs(states), confidence=0.6, hysteresis=3)
    assert labels.tolist() == [CALM] * 10 + [TREND]


def test_hysteresis_one_follows_every_confident_bar_and_start_holds_initial() -> None:
    states = [CHAOS, CHAOS, TREND, CALM, TREND]
    assert commit(_probs(states), 0.6, 1).tolist() == states
    assert commit(_probs(states), 0.6, 1, start=3).tolist() == [CALM, CALM, CALM, CALM, TREND]
    with pytest.raises(ValueError):
        commit(_probs(states), 0.6, 0)


rows = st.tuples(st.integers(0, 2), st.floats(0.34, 1.0), st.floats(0.0, 1.0))


@settings(max_examples=300, deadline=None)
@given(
    bars=st.lists(rows, min_size=1, max_size=80),
    confidence=st.floats(0.55, 0.95),
    hysteresis=st.integers(1, 5),
    start=st.integers(0, 10),
)
def test_switches_happen_exactly_after_hysteresis_confident_bars(
    bars: list[tuple[int, float, float]], confidence: float, hysteresis: int, start: int
) -> None:
    probs = np.empty((len(bars), 3))
    for t, (top, p, split) in enumerate(bars):
        rest = [s for s in range(3) if s != top]
        probs[t, top] = p
        probs[t, rest[0]] = (1 - p) * split
        probs[t, rest[1]] = (1 - p) * (1 - split)
    labels = commit(probs, confidence, hysteresis, start=start)
    sure = probs >= confidence  # [T, 3]
    assert (labels[: min(start, len(bars))] == 0).all()
    for t in range(len(bars)):
        lo = t - hysteresis + 1
        run = [s for s in range(3) if lo >= start and lo >= 0 and sure[lo : t + 1, s].all()]
        if t > 0 and labels[t] != labels[t - 1]:
            # Only a full run of confident bars of the new state switches ...
            assert run == [labels[t]]
        if run:
            # ... and a full run always leaves the committed regime on that state.
            assert labels[t] == run[0]
    steps = [tr.step for tr in transitions(labels, probs.max(axis=1))]
    assert steps == [t for t in range(1, len(bars)) if labels[t] != labels[t - 1]]
