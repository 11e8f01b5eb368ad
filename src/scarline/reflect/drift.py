"""Drift detectors over N agents at once: plain state (arrays) and update functions.

* :class:`PageHinkley` / :func:`page_hinkley_update` reproduce ``river.drift.PageHinkley``
  (river 0.26.1) exactly, per agent: the same float64 arithmetic in the same order, and the
  same reset (a detector that fired starts afresh at its next update).
* :class:`Baseline` / :func:`baseline_update`: a warm-up of ``min_instances`` observations
  per agent estimates the mean ``mu0`` and standard deviation ``sigma`` (Welford, ddof = 1,
  at least ``sigma_floor``); afterwards it standardizes: ``z = (x - mu0) / sigma``.
* :class:`Cusum` / :func:`cusum_update`: Page's two-sided CUSUM on those standardized
  values, ``g+ = max(0, g+ + z - k)``, ``g- = max(0, g- - z - k)``; fires when a watched side
  exceeds ``h``; a detector that fired starts afresh (warm-up included) at its next update.

Every update takes ``active: bool[N]``: the state of rows that are not active does not
change and they do not fire (their ``x`` may be NaN). ``step`` only dates change points.
The arithmetic runs on all N rows without masks (masked ufuncs cost ~5× more); the few
inactive rows' state is saved before and put back after, from one float64 block per
detector, so the states' arrays are row views of that block (steps and counts are float64
holding whole numbers).

Change point: both detectors date a change by the last step *before* the excursion that
fired — for Page-Hinkley the step at which the cumulative sum last attained its minimum
(``up``) or maximum (``down``); for CUSUM the step at which the fired side was last zero
(``g = S - min S`` for the cumulative sum ``S`` of ``z - k``, so the two definitions agree).
The changed observations are those after ``change_step`` up to the firing step.

Sides: ``+1`` = an increase of the mean (``up``), ``-1`` = a decrease (``down``). A mode
watches ``up``, ``down`` or ``both``; a side that is not watched is not computed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

Mode = Literal["up", "down", "both"]
MODES: tuple[str, ...] = ("up", "down", "both")
UP, DOWN = 1, -1


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")


def as_rows(rows: np.ndarray) -> np.ndarray:
    """Row indexes from an index array or a boolean mask."""
    rows = np.asarray(rows)
    return np.flatnonzero(rows) if rows.dtype == bool else rows.astype(np.int64, copy=False)


def _idle(active: np.ndarray) -> np.ndarray | None:
    """The rows that are not active, or ``None`` when all are (the usual case)."""
    return None if active.all() else np.flatnonzero(~active)


def _sides(
    watch_up: bool, watch_down: bool, up: np.ndarray, down: np.ndarray, rows: np.ndarray
) -> np.ndarray:
    """int8 side of fired ``rows`` given each side's statistic: with both watched and over
    the threshold, the larger one (ties: up)."""
    if not watch_down:
        return np.full(len(rows), UP, dtype=np.int8)
    if not watch_up:
        return np.full(len(rows), DOWN, dtype=np.int8)
    return np.where(up[rows] >= down[rows], UP, DOWN).astype(np.int8)


# -- Page-Hinkley -----------------------------------------------------------------------------

_PH_ROWS = (  # the watched sides' rows are contiguous: up = [0:8], down = [6:14]
    "sum_up",  # river's _sum_increase
    "min_up",  # river's _min_increase
    "stat_up",  # _sum_increase - _min_increase (river's test_increase)
    "up_step",  # the step the minimum was last attained at (the change point)
    "up_n",  # n then
    "up_mean",  # mean then (to rounding)
    "n",  # river's _x_mean.n
    "mean",  # river's _x_mean.get()
    "sum_down",  # river's _sum_decrease
    "max_down",  # river's _max_decrease
    "stat_down",  # _max_decrease - _sum_decrease (river's test_decrease)
    "down_step",
    "down_n",
    "down_mean",
)
_PH_LIVE = {"up": slice(0, 8), "down": slice(6, 14), "both": slice(0, 14)}


@dataclass(eq=False)
class PageHinkley:
    """Page-Hinkley state for N agents; parameters and defaults are river's.

    The arrays named in ``_PH_ROWS`` are float64[N] views of one block (``live``: the rows
    an update changes, those of the watched sides and the mean). After an update,
    the rows that fired keep their evidence (statistics, change points) until the next
    update, which resets them first, as river does.
    """

    n_agents: int
    min_instances: int = 30
    delta: float = 0.005
    threshold: float = 50.0
    alpha: float = 1 - 0.0001
    mode: Mode = "both"
    block: np.ndarray = field(init=False, repr=False)
    detected: np.ndarray = field(init=False, repr=False)

    n: np.ndarray = field(init=False, repr=False)
    mean: np.ndarray = field(init=False, repr=False)
    sum_up: np.ndarray = field(init=False, repr=False)
    min_up: np.ndarray = field(init=False, repr=False)
    stat_up: np.ndarray = field(init=False, repr=False)
    up_step: np.ndarray = field(init=False, repr=False)
    up_n: np.ndarray = field(init=False, repr=False)
    up_mean: np.ndarray = field(init=False, repr=False)
    sum_down: np.ndarray = field(init=False, repr=False)
    max_down: np.ndarray = field(init=False, repr=False)
    stat_down: np.ndarray = field(init=False, repr=False)
    down_step: np.ndarray = field(init=False, repr=False)
    down_n: np.ndarray = field(init=False, repr=False)
    down_mean: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        _check_mode(self.mode)
        self.watch_up = self.mode in ("up", "both")
        self.watch_down = self.mode in ("down", "both")
        self.block = np.zeros((len(_PH_ROWS), self.n_agents))
        for i, name in enumerate(_PH_ROWS):
            setattr(self, name, self.block[i])
        self.live = self.block[_PH_LIVE[self.mode]]  # the rows an update changes
        self.detected = np.zeros(self.n_agents, dtype=bool)
        self._a = np.empty(self.n_agents)
        self._b = np.empty(self.n_agents)
        self._hit = np.empty(self.n_agents, dtype=bool)
        self.reset(np.arange(self.n_agents))

    def reset(self, rows: np.ndarray) -> None:
        """River's ``_reset`` for ``rows`` (indexes or a boolean mask)."""
        rows = as_rows(rows)
        self.block[:, rows] = 0.0
        self.min_up[rows] = np.inf
        self.max_down[rows] = -1.0
        self.up_step[rows] = -1.0
        self.down_step[rows] = -1.0
        self.detected[rows] = False

    def side_of_fired(self, rows: np.ndarray) -> np.ndarray:
        return _sides(self.watch_up, self.watch_down, self.stat_up, self.stat_down, rows)


def _mark(
    hit: np.ndarray,
    step: int,
    n: np.ndarray,
    mean: np.ndarray,
    at_step: np.ndarray,
    at_n: np.ndarray,
    at_mean: np.ndarray,
    tmp: np.ndarray,
) -> None:
    """Where ``hit``, remember ``step``, ``n`` and ``mean``: branch-free (random masks make
    ``putmask``/``copyto`` ~5× slower). Steps and ``n`` only grow, so a maximum does it."""
    np.multiply(hit, float(step), out=tmp)
    np.maximum(at_step, tmp, out=at_step)
    np.multiply(hit, n, out=tmp)
    np.maximum(at_n, tmp, out=at_n)
    np.subtract(mean, at_mean, out=tmp)  # at_mean + 1 * (mean - at_mean): mean, to rounding
    tmp *= hit
    at_mean += tmp


def page_hinkley_update(
    s: PageHinkley, x: np.ndarray, active: np.ndarray, step: int = 0
) -> np.ndarray:
    """One observation ``x[i]`` for every active agent i; returns ``fired: bool[N]``.

    Mirrors ``PageHinkley.update``: a detector that fired is reset first, then
    :func:`page_hinkley_core` runs on the active rows."""
    if s.detected.any():  # river resets a detector at the update after it fired
        s.reset(s.detected)
    idle = _idle(active)
    if idle is None:
        fired = page_hinkley_core(s, x, step)
    else:
        saved = s.live[:, idle]
        fired = page_hinkley_core(s, np.where(active, x, 0.0), step)
        s.live[:, idle] = saved
        fired[idle] = False
    s.detected = fired
    return fired.copy()


def page_hinkley_core(s: PageHinkley, x: np.ndarray, step: int) -> np.ndarray:
    """River's update arithmetic on *all* rows, no masks, no reset (the caller puts back
    the rows that were not active): ``stats.Mean`` (``n += 1``,
    ``mean += (1 / n) * (x - mean)``), ``dev = x - mean``, the faded sums
    (``alpha * sum + dev -/+ delta``), their extremes, and the test once
    ``n >= min_instances``. Returns ``fired: bool[N]`` (a new array)."""
    a, b = s._a, s._b
    n, mean = s.n, s.mean
    n += 1.0
    np.subtract(x, mean, out=a)
    np.divide(1.0, n, out=b)
    np.multiply(b, a, out=a)
    mean += a
    dev = np.subtract(x, mean, out=a)
    fired = np.greater_equal(n, s.min_instances)
    if s.watch_up:
        t = np.multiply(s.alpha, s.sum_up, out=b)
        t += dev
        np.subtract(t, s.delta, out=s.sum_up)
        hit = np.less_equal(s.sum_up, s.min_up, out=s._hit)  # <=: the last time
        np.minimum(s.min_up, s.sum_up, out=s.min_up)
        _mark(hit, step, n, mean, s.up_step, s.up_n, s.up_mean, b)
        np.subtract(s.sum_up, s.min_up, out=s.stat_up)
    if s.watch_down:
        t = np.multiply(s.alpha, s.sum_down, out=b)
        t += dev
        np.add(t, s.delta, out=s.sum_down)
        hit = np.greater_equal(s.sum_down, s.max_down, out=s._hit)
        np.maximum(s.max_down, s.sum_down, out=s.max_down)
        _mark(hit, step, n, mean, s.down_step, s.down_n, s.down_mean, b)
        np.subtract(s.max_down, s.sum_down, out=s.stat_down)
    if s.watch_up:
        test = np.greater(s.stat_up, s.threshold)
        if s.watch_down:
            test |= np.greater(s.stat_down, s.threshold)
    else:
        test = np.greater(s.stat_down, s.threshold)
    fired &= test
    return fired


# -- warm-up baseline and CUSUM ---------------------------------------------------------------


_BASE_ROWS = ("count", "w_mean", "w_m2")


@dataclass(eq=False)
class Baseline:
    """Per-agent warm-up: Welford over the first ``min_instances`` observations, then frozen
    ``mu0``/``sigma`` (sample sd, ``ddof = 1``, at least ``sigma_floor``). ``count``,
    ``w_mean``, ``w_m2`` are float64[N] views of one block (the warm-up's running moments);
    ``z`` is the last standardized input."""

    n_agents: int
    min_instances: int = 30
    sigma_floor: float = 1e-8
    block: np.ndarray = field(init=False, repr=False)
    count: np.ndarray = field(init=False, repr=False)
    w_mean: np.ndarray = field(init=False, repr=False)
    w_m2: np.ndarray = field(init=False, repr=False)
    mu0: np.ndarray = field(init=False, repr=False)
    sigma: np.ndarray = field(init=False, repr=False)
    z: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.min_instances < 2:
            raise ValueError("min_instances must be >= 2 (a standard deviation needs two)")
        n = self.n_agents
        self.block = np.zeros((len(_BASE_ROWS), n))
        for i, name in enumerate(_BASE_ROWS):
            setattr(self, name, self.block[i])
        self.mu0 = np.zeros(n)
        self.sigma = np.ones(n)
        self.z = np.zeros(n)

    def reset(self, rows: np.ndarray) -> None:
        rows = as_rows(rows)
        self.block[:, rows] = 0.0
        self.mu0[rows] = 0.0
        self.sigma[rows] = 1.0

    @property
    def warm(self) -> np.ndarray:
        """bool[N]: rows whose warm-up is over."""
        return self.count >= self.min_instances


def baseline_update(
    b: Baseline, x: np.ndarray, active: np.ndarray
) -> tuple[np.ndarray, np.ndarray | None]:
    """Feed ``x`` to the active rows: warming rows learn, warmed rows get ``b.z``.

    Returns ``(ready, idle)``: ``ready: bool[N]`` = the active rows whose ``x`` came after
    their warm-up, so ``b.z = (x - mu0) / sigma`` there; ``idle`` = the other rows' indexes
    (``None`` when there are none), where ``b.z`` is 0."""
    ready = np.greater_equal(b.count, b.min_instances)
    ready &= active
    np.subtract(x, b.mu0, out=b.z)
    np.divide(b.z, b.sigma, out=b.z)
    if ready.all():
        return ready, None
    idle = np.flatnonzero(~ready)
    b.z[idle] = 0.0
    warming = idle[active[idle]]
    if warming.size:  # Welford, one gather and one scatter of the block
        count, mean, m2 = b.block[:, warming]
        xi = x[warming]
        count += 1.0
        d = xi - mean
        mean += d / count
        m2 += d * (xi - mean)
        b.block[:, warming] = (count, mean, m2)
        done = count == b.min_instances
        if done.any():
            r = warming[done]
            b.mu0[r] = mean[done]
            b.sigma[r] = np.maximum(np.sqrt(m2[done] / (count[done] - 1.0)), b.sigma_floor)
    return ready, idle


_CU_ROWS = ("g_up", "up_step", "up_len", "g_down", "down_step", "down_len")
_CU_LIVE = {"up": slice(0, 3), "down": slice(3, 6), "both": slice(0, 6)}


@dataclass(eq=False)
class Cusum:
    """Two-sided CUSUM state for N agents on standardized values (see :func:`cusum_update`).

    ``g_up``/``g_down`` are the sides; ``up_step``/``down_step`` the steps they were last
    zero (the change points); ``up_len``/``down_len`` the observations since then. All are
    float64[N] views of one block. ``baseline``: ``None`` for its own warm-up, or a shared
    one (the sentry's) whose reset is then the owner's business.
    """

    n_agents: int
    min_instances: int = 30
    k: float = 0.5
    h: float = 5.0
    mode: Mode = "both"
    sigma_floor: float = 1e-8
    baseline: Baseline | None = None
    block: np.ndarray = field(init=False, repr=False)
    detected: np.ndarray = field(init=False, repr=False)
    g_up: np.ndarray = field(init=False, repr=False)
    up_step: np.ndarray = field(init=False, repr=False)
    up_len: np.ndarray = field(init=False, repr=False)
    g_down: np.ndarray = field(init=False, repr=False)
    down_step: np.ndarray = field(init=False, repr=False)
    down_len: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        _check_mode(self.mode)
        n = self.n_agents
        self.watch_up = self.mode in ("up", "both")
        self.watch_down = self.mode in ("down", "both")
        if self.baseline is None:
            self.baseline = Baseline(n, self.min_instances, self.sigma_floor)
        elif self.baseline.n_agents != n:
            raise ValueError("the baseline must have n_agents rows")
        self.block = np.zeros((len(_CU_ROWS), n))
        for i, name in enumerate(_CU_ROWS):
            setattr(self, name, self.block[i])
        self.live = self.block[_CU_LIVE[self.mode]]  # the rows an update changes
        self.detected = np.zeros(n, dtype=bool)
        self._zero = np.zeros(n)
        self._tmp = np.empty(n)
        self._flag = np.empty(n, dtype=bool)
        self.reset(np.arange(n), baseline=False)

    @property
    def base(self) -> Baseline:
        assert self.baseline is not None
        return self.baseline

    def reset(self, rows: np.ndarray, *, baseline: bool = True) -> None:
        """A fresh detector for ``rows``; with ``baseline`` (the default) a fresh warm-up."""
        rows = as_rows(rows)
        if baseline:
            self.base.reset(rows)
        self.block[:, rows] = 0.0
        self.up_step[rows] = -1.0
        self.down_step[rows] = -1.0
        self.detected[rows] = False

    def side_of_fired(self, rows: np.ndarray) -> np.ndarray:
        return _sides(self.watch_up, self.watch_down, self.g_up, self.g_down, rows)


def _since_zero(
    g: np.ndarray,
    step: int,
    zero_step: np.ndarray,
    length: np.ndarray,
    tmp: np.ndarray,
    flag: np.ndarray,
) -> None:
    """Where ``g`` is zero, ``zero_step = step`` (steps only grow: a maximum does it);
    ``length`` counts the observations since. Branch-free, as in :func:`_mark`."""
    np.less_equal(g, 0.0, out=flag)
    np.multiply(flag, float(step), out=tmp)
    np.maximum(zero_step, tmp, out=zero_step)
    np.greater(g, 0.0, out=flag)
    length += 1.0
    length *= flag


def cusum_step(
    c: Cusum,
    z: np.ndarray,
    ready: np.ndarray,
    step: int = 0,
    *,
    started: np.ndarray | None = None,
) -> np.ndarray:
    """The CUSUM recursion on already standardized ``z`` for the ``ready`` rows.

    ``started`` (rows, indexes or a mask, whose warm-up ended this step) dates their change
    points at ``step``: their sides start at zero there. Returns ``fired: bool[N]``."""
    if started is not None and len(started := as_rows(started)):
        c.up_step[started] = step
        c.down_step[started] = step
    idle = _idle(ready)
    if idle is None:
        fired = cusum_core(c, z, step)
    else:
        saved = c.live[:, idle]
        fired = cusum_core(c, np.where(ready, z, 0.0), step)
        c.live[:, idle] = saved
        fired[idle] = False
    c.detected = fired
    return fired.copy()


def cusum_core(c: Cusum, z: np.ndarray, step: int) -> np.ndarray:
    """``g+ = max(0, g+ + z - k)``, ``g- = max(0, g- - z - k)`` on *all* rows, no masks (the
    caller puts back the rows that were not ready); ``fired: bool[N]`` (a new array)."""
    fired = None
    if c.watch_up:
        g = c.g_up
        g += z
        g -= c.k
        np.maximum(g, c._zero, out=g)
        _since_zero(g, step, c.up_step, c.up_len, c._tmp, c._flag)
        fired = np.greater(g, c.h)
    if c.watch_down:
        g = c.g_down
        g -= z
        g -= c.k
        np.maximum(g, c._zero, out=g)
        _since_zero(g, step, c.down_step, c.down_len, c._tmp, c._flag)
        down = np.greater(g, c.h)
        if fired is None:
            fired = down
        else:
            fired |= down
    assert fired is not None
    return fired


def warmup_ended(b: Baseline, active: np.ndarray, idle: np.ndarray) -> np.ndarray:
    """Rows whose warm-up ended with this step's input: active, not ready (``idle``, from
    :func:`baseline_update`), and now at ``min_instances``."""
    rows = idle[active[idle]]
    return rows[b.count[rows] == b.min_instances]


def cusum_update(c: Cusum, x: np.ndarray, active: np.ndarray, step: int = 0) -> np.ndarray:
    """One raw observation per active agent: warm-up, standardize, CUSUM; ``fired: bool[N]``.

    A detector that fired starts afresh — a new warm-up on the agent's next observations —
    at its next update."""
    if c.detected.any():
        c.reset(c.detected)
    b = c.base
    ready, idle = baseline_update(b, x, active)
    started = None if idle is None else warmup_ended(b, active, idle)
    return cusum_step(c, b.z, ready, step, started=started)
