"""The drift sentry: Page-Hinkley and CUSUM over every agent's returns, and what alarms do.

The kernel calls, per step ``t`` (after the agents' returns of ``t`` are known)::

    alarms = sentry.update(t, returns, active)      # returns: float64[N], active: bool[N]

and, when newborns take slots, ``sentry.reset_rows(slots)``. The per-agent effects of
alarms are kept here for the kernel to apply: ``frozen`` (exploration epsilon -> 0 from the
alarm on) and ``size_scale`` (multiplies the agent's target size).

Per agent, a shared :class:`~scarline.reflect.cusum.Baseline` standardizes the returns
(``z = (r - mu0) / sigma`` from the agent's first ``min_instances`` active returns); both
detectors watch ``z``. An alarm (from either detector) restarts the agent's baseline and
both detectors: the agent's returns have a new regime, and its size just changed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scarline.reflect.config import DriftConfig
from scarline.reflect.cusum import Baseline, Cusum, baseline_update, cusum_core, warmup_ended
from scarline.reflect.drift import UP, as_rows
from scarline.reflect.page_hinkley import PageHinkley, page_hinkley_core

DETECTORS: tuple[str, ...] = ("page-hinkley", "cusum")
PAGE_HINKLEY, CUSUM = 0, 1


@dataclass(frozen=True, eq=False)
class Alarms:
    """One step's alarms, one entry per (agent row, detector) that fired, sorted by row then
    detector. Means are in return units (per step); ``statistic`` and ``threshold`` in units
    of the agent's warm-up standard deviation."""

    step: int
    row: np.ndarray  # int64[K] agent rows (slots)
    detector: np.ndarray  # uint8[K]: PAGE_HINKLEY = 0, CUSUM = 1 (names in DETECTORS)
    side: np.ndarray  # int8[K]: +1 the mean rose, -1 it fell
    statistic: np.ndarray  # float64[K] the test value that exceeded the threshold
    threshold: np.ndarray  # float64[K]
    change_step: np.ndarray  # int64[K] last step before the change (see drift.py)
    mean_before: np.ndarray  # float64[K] mean return up to the change (CUSUM: warm-up mean)
    mean_after: np.ndarray  # float64[K] mean return after change_step up to step

    def __len__(self) -> int:
        return int(self.row.shape[0])

    @property
    def empty(self) -> bool:
        return self.row.shape[0] == 0

    @property
    def rows(self) -> np.ndarray:
        """The agent rows with at least one alarm, ascending."""
        return np.unique(self.row)

    @staticmethod
    def none(step: int) -> Alarms:
        i, f, u, s = _EMPTY
        return Alarms(step, i, u, s, f, f, i, f, f)


def _empty(dtype: type) -> np.ndarray:
    a: np.ndarray = np.empty(0, dtype=dtype)
    a.flags.writeable = False
    return a


_EMPTY = (_empty(np.int64), _empty(np.float64), _empty(np.uint8), _empty(np.int8))


class DriftSentry:
    """Both detectors for N agents plus the alarms' per-agent effects (see module doc)."""

    def __init__(self, n_agents: int, cfg: DriftConfig | None = None) -> None:
        cfg = cfg or DriftConfig()
        self.cfg = cfg
        self.n_agents = n_agents
        self.baseline = Baseline(n_agents, cfg.min_instances, cfg.sigma_floor)
        self.page_hinkley: PageHinkley | None = None
        self.cusum: Cusum | None = None
        if cfg.detector in ("page-hinkley", "both"):
            self.page_hinkley = PageHinkley(
                n_agents, cfg.min_instances, cfg.delta, cfg.threshold, cfg.alpha, cfg.direction
            )
        if cfg.detector in ("cusum", "both"):
            self.cusum = Cusum(
                n_agents,
                cfg.min_instances,
                cfg.cusum_k,
                cfg.cusum_h,
                cfg.direction,
                cfg.sigma_floor,
                baseline=self.baseline,
            )
        self._freeze = "freeze_exploration" in cfg.actions
        self._shrink = "halve_size" in cfg.actions
        self.frozen = np.zeros(n_agents, dtype=bool)
        self.size_scale = np.ones(n_agents)
        self.alarm_count = np.zeros(n_agents, dtype=np.int64)

    def update(self, step: int, returns: np.ndarray, active: np.ndarray) -> Alarms:
        """Feed step ``step``'s per-agent returns (``active`` rows only; others may be NaN).

        Steps must grow from call to call (change points are tracked with maxima)."""
        if returns.shape != (self.n_agents,) or active.shape != (self.n_agents,):
            raise ValueError(
                f"drift sentry of {self.n_agents} agents: returns {returns.shape} and "
                f"active {active.shape} must both be ({self.n_agents},)"
            )
        b = self.baseline
        _, idle = baseline_update(b, returns, active)
        ph, cu = self.page_hinkley, self.cusum
        if idle is not None:  # rows not ready keep their state: saved here, put back below
            if cu is not None:
                started = warmup_ended(b, active, idle)
                if len(started):  # their sides start at zero at this step
                    cu.up_step[started] = step
                    cu.down_step[started] = step
                saved_cu = cu.live[:, idle]
            if ph is not None:
                saved_ph = ph.live[:, idle]
        fired = None
        if ph is not None:
            fired = fired_ph = page_hinkley_core(ph, b.z, step)
            if idle is not None:
                ph.live[:, idle] = saved_ph
                fired_ph[idle] = False
        if cu is not None:
            fired_cu = cusum_core(cu, b.z, step)
            if idle is not None:
                cu.live[:, idle] = saved_cu
                fired_cu[idle] = False
            fired = fired_cu if fired is None else fired | fired_cu
        assert fired is not None
        if not fired.any():
            return Alarms.none(step)
        parts = []
        if ph is not None and fired_ph.any():
            parts.append(self._page_hinkley_alarms(ph, np.flatnonzero(fired_ph)))
        if cu is not None and fired_cu.any():
            parts.append(self._cusum_alarms(cu, np.flatnonzero(fired_cu)))
        cols = [np.concatenate(col) for col in zip(*parts, strict=True)]
        order = np.lexsort((cols[1], cols[0]))
        alarms = Alarms(step, *(col[order] for col in cols))
        self._act(alarms.rows)
        return alarms

    def _page_hinkley_alarms(self, ph: PageHinkley, rows: np.ndarray) -> tuple[np.ndarray, ...]:
        side = ph.side_of_fired(rows)
        up = side == UP
        stat = np.where(up, ph.stat_up[rows], ph.stat_down[rows])
        change = np.where(up, ph.up_step[rows], ph.down_step[rows]).astype(np.int64)
        n_c = np.where(up, ph.up_n[rows], ph.down_n[rows])
        mean_c = np.where(up, ph.up_mean[rows], ph.down_mean[rows])
        n, mean = ph.n[rows], ph.mean[rows]
        after = (n * mean - n_c * mean_c) / (n - n_c)
        mu0, sigma = self.baseline.mu0[rows], self.baseline.sigma[rows]
        k = len(rows)
        return (
            rows,
            np.full(k, PAGE_HINKLEY, dtype=np.uint8),
            side,
            stat,
            np.full(k, ph.threshold),
            change,
            mu0 + sigma * mean_c,
            mu0 + sigma * after,
        )

    def _cusum_alarms(self, cu: Cusum, rows: np.ndarray) -> tuple[np.ndarray, ...]:
        side = cu.side_of_fired(rows)
        up = side == UP
        g = np.where(up, cu.g_up[rows], cu.g_down[rows])
        change = np.where(up, cu.up_step[rows], cu.down_step[rows]).astype(np.int64)
        length = np.where(up, cu.up_len[rows], cu.down_len[rows])
        # g = sum over the excursion of (side * z - k), so its mean z is side * (g / L + k)
        z_after = side * (g / length + cu.k)
        mu0, sigma = self.baseline.mu0[rows], self.baseline.sigma[rows]
        k = len(rows)
        return (
            rows,
            np.full(k, CUSUM, dtype=np.uint8),
            side,
            g,
            np.full(k, cu.h),
            change,
            mu0.copy(),
            mu0 + sigma * z_after,
        )

    def _act(self, rows: np.ndarray) -> None:
        """The alarms' effects (once per agent per step), then fresh detectors for ``rows``."""
        self.alarm_count[rows] += 1
        if self._freeze:
            self.frozen[rows] = True
        if self._shrink:
            cfg = self.cfg
            self.size_scale[rows] = np.maximum(
                self.size_scale[rows] * cfg.size_factor, cfg.size_floor
            )
        self._restart(rows)

    def _restart(self, rows: np.ndarray) -> None:
        self.baseline.reset(rows)
        if self.page_hinkley is not None:
            self.page_hinkley.reset(rows)
        if self.cusum is not None:
            self.cusum.reset(rows, baseline=False)

    def reset_rows(self, rows: np.ndarray) -> None:
        """Newborns in ``rows`` (indexes or a mask): fresh detectors, no freeze, full size."""
        rows = as_rows(rows)
        self._restart(rows)
        self.frozen[rows] = False
        self.size_scale[rows] = 1.0
        self.alarm_count[rows] = 0
