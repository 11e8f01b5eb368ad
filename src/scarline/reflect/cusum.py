"""The warm-up baseline that standardizes each agent's returns, and Page's two-sided CUSUM on
the standardized values, over N agents at once. Conventions: :mod:`scarline.reflect.drift`."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from scarline.reflect.drift import Mode, as_rows, check_mode, fired_sides, update_active

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
        check_mode(self.mode)
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
        return fired_sides(self.watch_up, self.watch_down, self.g_up, self.g_down, rows)


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
    return update_active(c, z, ready, step, cusum_core)


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
