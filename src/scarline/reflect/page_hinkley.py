"""Page-Hinkley over N agents at once, reproducing ``river.drift.PageHinkley`` (river 0.26.1)
exactly per agent: the same float64 arithmetic in the same order, and the same reset (a
detector that fired starts afresh at its next update).

Conventions (modes, sides, active rows): :mod:`scarline.reflect.drift`."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from scarline.reflect.drift import Mode, as_rows, check_mode, fired_sides, update_active

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
        check_mode(self.mode)
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
        return fired_sides(self.watch_up, self.watch_down, self.stat_up, self.stat_down, rows)


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
    return update_active(s, x, active, step, page_hinkley_core)


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
