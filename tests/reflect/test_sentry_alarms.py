"""The drift sentry on injected alpha decay, its alarms, their effects, and newborn rows."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError
from river.drift import PageHinkley as RiverPageHinkley

from scarline.reflect import CUSUM, DETECTORS, PAGE_HINKLEY, Alarms, DriftConfig, DriftSentry

CHANGE = 300  # the first step with the decayed mean


def _decay(seed: int, n: int = 32, steps: int = 400) -> np.ndarray:
    """Per-step returns: mean +0.5 sd for 300 steps, then -0.5 sd (a 1 sd alpha decay)."""
    rng = np.random.default_rng(seed)
    before = rng.normal(0.005, 0.01, (CHANGE, n))
    after = rng.normal(-0.005, 0.01, (steps - CHANGE, n))
    return np.concatenate([before, after])


def _run(
    sentry: DriftSentry, returns: np.ndarray, active: np.ndarray | None = None
) -> list[Alarms]:
    steps, n = returns.shape
    on = np.ones(n, dtype=bool)
    out = []
    for t in range(steps):
        alarms = sentry.update(t, returns[t], on if active is None else active[t])
        if not alarms.empty:
            out.append(alarms)
    return out


def _first_alarm(alarms: list[Alarms], n: int, after: int = -1) -> np.ndarray:
    first = np.full(n, -1)
    for a in alarms:
        if a.step < after:
            continue
        rows = a.rows
        new = rows[first[rows] < 0]
        first[new] = a.step
    return first


def test_injected_alpha_decay_is_caught_within_60_steps() -> None:
    n = 32
    sentry = DriftSentry(n, DriftConfig(enabled=True))
    alarms = _run(sentry, _decay(0, n))
    first = _first_alarm(alarms, n)
    # seed 0: two agents (of 32) raise a false alarm before the change (CUSUM, whose warm-up
    # mean is an estimate), every other agent's first alarm comes 8 … 47 steps after it
    early = np.flatnonzero(first < CHANGE)
    assert early.tolist() == [6, 31]
    assert first[early].tolist() == [91, 229]
    delay = np.delete(first, early) - CHANGE
    assert delay.min() == 8 and delay.max() == 47 and int(np.median(delay)) == 16
    # and every agent, the two early ones included, has an alarm within 60 steps of the change
    caught = _first_alarm(alarms, n, after=CHANGE)
    assert (caught >= CHANGE).all() and (caught - CHANGE <= 60).all()
    for a in alarms:
        if a.step >= CHANGE:
            assert (a.side == -1).all()  # the mean fell
            assert (a.mean_after < 0).all()
            assert (a.change_step >= CHANGE - 40).all() and (a.change_step < a.step).all()
            assert (a.statistic > a.threshold).all()


@pytest.mark.parametrize("detector", ["page-hinkley", "cusum"])
def test_each_detector_alone_catches_the_decay(detector: str) -> None:
    n = 32
    sentry = DriftSentry(n, DriftConfig(enabled=True, detector=detector))  # type: ignore[arg-type]
    alarms = _run(sentry, _decay(0, n))
    assert all((a.detector == DETECTORS.index(detector)).all() for a in alarms)
    caught = _first_alarm(alarms, n, after=CHANGE)
    assert (caught >= CHANGE).all() and (caught - CHANGE <= 60).all()
    early = {int(r) for a in alarms if a.step < CHANGE for r in a.rows}
    assert early == (set() if detector == "page-hinkley" else {6, 31})


def test_page_hinkley_in_the_sentry_is_river_on_standardized_returns() -> None:
    """Alarm steps of one agent = river's PageHinkley fed z = (r - mu0) / sigma after a
    warm-up of min_instances returns (restarted, warm-up included, after each alarm)."""
    cfg = DriftConfig(enabled=True, detector="page-hinkley", min_instances=20, threshold=8.0)
    rng = np.random.default_rng(3)
    r = np.concatenate([rng.normal(m, 0.01, 100) for m in (0.005, -0.01, 0.01, -0.01, 0.0)])
    sentry = DriftSentry(1, cfg)
    got = [a.step for a in _run(sentry, r[:, None])]
    want, t = [], 0
    while t < len(r):
        warm = r[t : t + cfg.min_instances]
        if len(warm) < cfg.min_instances:
            break
        mu0, sigma = warm.mean(), max(warm.std(ddof=1), cfg.sigma_floor)
        ph = RiverPageHinkley(cfg.min_instances, cfg.delta, cfg.threshold, cfg.alpha, "down")
        t += cfg.min_instances
        while t < len(r):
            ph.update((r[t] - mu0) / sigma)
            t += 1
            if ph.drift_detected:
                want.append(t - 1)
                break
    assert len(got) >= 2 and got == want


def test_alarm_effects_and_their_floor() -> None:
    cfg = DriftConfig(enabled=True, min_instances=10, cusum_h=2.0, threshold=3.0)
    sentry = DriftSentry(2, cfg)
    rng = np.random.default_rng(1)
    r = rng.normal(0.0, 0.01, (400, 2))
    r[:, 1] = np.tile(np.r_[np.full(10, 0.01), np.full(15, -0.05)], 16)  # falls again and again
    _run(sentry, r)
    assert sentry.alarm_count[1] >= 6 and sentry.frozen[1]
    assert sentry.size_scale[1] == cfg.size_floor  # 1/2 per alarm, never below 1/16
    alarms_0 = int(sentry.alarm_count[0])
    assert sentry.size_scale[0] == max(0.5**alarms_0, cfg.size_floor)
    assert sentry.frozen[0] == (alarms_0 > 0)


def test_both_detectors_on_one_step_act_once_and_sort_by_row() -> None:
    cfg = DriftConfig(enabled=True, min_instances=10, threshold=2.0, cusum_h=2.0)
    sentry = DriftSentry(3, cfg)
    r = np.zeros((30, 3))
    r[:20] = np.tile([[0.01], [-0.01]], (10, 3))  # warm-ups of +-1 %
    r[20:, 0] = -0.05  # rows 0 and 2 fall hard at 20; row 1 stays on course
    r[20:, 2] = -0.05
    alarms = _run(sentry, r)
    a = alarms[0]
    assert a.row.tolist() == [0, 0, 2, 2]
    assert a.detector.tolist() == [PAGE_HINKLEY, CUSUM, PAGE_HINKLEY, CUSUM]
    assert sentry.size_scale.tolist() == [0.5, 1.0, 0.5]  # once per agent, not per detector
    assert sentry.frozen.tolist() == [True, False, True]


def test_actions_can_be_switched_off() -> None:
    cfg = DriftConfig(enabled=True, actions=[])
    sentry = DriftSentry(32, cfg)
    _run(sentry, _decay(0))
    assert sentry.alarm_count.min() >= 1
    assert not sentry.frozen.any() and (sentry.size_scale == 1.0).all()


def test_reset_rows_gives_a_newborn_fresh_detectors() -> None:
    """After reset_rows, a slot behaves as a new sentry started there; others are untouched."""
    n, born = 4, 150
    r = _decay(5, n)
    cfg = DriftConfig(enabled=True, cusum_h=6.0)
    a, b = DriftSentry(n, cfg), DriftSentry(n, cfg)
    fresh = DriftSentry(1, cfg)
    got_a, got_b, got_fresh = [], [], []
    on = np.ones(n, dtype=bool)
    for t in range(len(r)):
        if t == born:
            a.reset_rows(np.array([1]))
            assert not a.frozen[1] and a.size_scale[1] == 1.0 and a.alarm_count[1] == 0
        got_a.append(a.update(t, r[t], on))
        got_b.append(b.update(t, r[t], on))
        if t >= born:
            got_fresh.append(fresh.update(t, r[t, 1:2], on[:1]))

    def steps_of(alarms: list[Alarms], row: int, since: int = 0) -> list[tuple[int, ...]]:
        return [
            (x.step, int(d), int(c))
            for x in alarms
            if x.step >= since
            for rr, d, c in zip(x.row, x.detector, x.change_step, strict=True)
            if rr == row
        ]

    for row in (0, 2, 3):
        assert steps_of(got_a, row) == steps_of(got_b, row)
    assert steps_of(got_a, 1, born) == steps_of(got_fresh, 0)
    assert steps_of(got_a, 1, born)  # the newborn saw the decay too


def test_inactive_steps_are_skipped_not_counted() -> None:
    """An agent inactive on some steps raises the alarms of its active steps alone."""
    n = 3
    r = _decay(9, n)
    active = np.random.default_rng(9).random(r.shape) < 0.7
    active[:, 0] = True
    sentry = DriftSentry(n, DriftConfig(enabled=True))
    alarms = _run(sentry, np.where(active, r, np.nan), active)
    for row in range(n):
        steps = np.flatnonzero(active[:, row])
        alone = DriftSentry(1, DriftConfig(enabled=True))
        solo = _run(alone, r[steps, row : row + 1])
        want = [(int(steps[x.step]), int(steps[c])) for x in solo for c in x.change_step]
        got = [
            (x.step, int(c))
            for x in alarms
            for rr, c in zip(x.row, x.change_step, strict=True)
            if rr == row
        ]
        assert got == want


def test_config_is_strict() -> None:
    cfg = DriftConfig()
    assert not cfg.enabled and cfg.detector == "both" and cfg.direction == "down"
    assert cfg.actions == ["freeze_exploration", "halve_size"]
    with pytest.raises(ValidationError):
        DriftConfig(threshhold=3.0)  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        DriftConfig(actions=["halve_size", "halve_size"])
    with pytest.raises(ValidationError):
        DriftConfig(min_instances=1)


def test_wrong_shapes_are_a_clear_error() -> None:
    sentry = DriftSentry(4, DriftConfig(enabled=True))
    with pytest.raises(ValueError, match=r"returns \(3,\)"):
        sentry.update(0, np.zeros(3), np.ones(4, dtype=bool))
