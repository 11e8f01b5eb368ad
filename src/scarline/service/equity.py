"""Equity curves for the dashboard: a session's bounded history and a chart's selection.

A session can run for weeks of minute bars, so its history may not grow with it:
:class:`EquityHistory` keeps at most ``max_points`` steps by halving itself when full (every
other point kept, then every 2nd step stored from then on, then every 4th …). The curve keeps
its whole span at a coarser grain, memory stays O(max_points × agents), and the latest step is
always the curve's last point. :func:`chart_series` picks what a chart can draw legibly: the
benchmarks (buy-and-hold, placebos) and the ``top`` other agents by their last equity.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from scarline.report.kinds import BENCHMARK, PLACEBO

BENCHMARK_KINDS = (BENCHMARK, PLACEBO)
"""Drawn whatever their rank: the yardsticks a learner's curve is read against."""
MAX_PLACEBOS = 8
"""At most this many placebo curves (they are drawn faint; more only add ink)."""


class EquityHistory:
    """``(bar time, equity of every agent)`` per step, thinned to at most ``max_points``."""

    def __init__(self, max_points: int = 2000) -> None:
        if max_points < 2:
            raise ValueError("max_points must be >= 2")
        self.max_points = max_points
        self._reset(())

    def _reset(self, ids: tuple[int, ...]) -> None:
        self._ts: list[int] = []
        self._rows: list[np.ndarray] = []
        self._ids = ids
        self._stride = 1
        self._seen = 0
        self._last: tuple[int, np.ndarray] | None = None

    def append(self, ts: int, ids: tuple[int, ...], equity: np.ndarray) -> None:
        """One step. A different agent set (a new session's) starts the history afresh."""
        if ids != self._ids:
            self._reset(ids)
        row = np.asarray(equity, dtype=np.float64)
        self._last = (ts, row)
        if self._seen % self._stride == 0:
            self._ts.append(ts)
            self._rows.append(row)
            if len(self._ts) > self.max_points:
                self._ts, self._rows = self._ts[::2], self._rows[::2]
                self._stride *= 2
        self._seen += 1

    def curves(self) -> tuple[np.ndarray, tuple[int, ...], np.ndarray]:
        """``(ts int64[P], agent ids, float64[P, N])``, the latest step last."""
        ts, rows = list(self._ts), list(self._rows)
        if self._last is not None and (not ts or ts[-1] != self._last[0]):
            ts.append(self._last[0])
            rows.append(self._last[1])
        if not rows:
            return np.zeros(0, np.int64), self._ids, np.zeros((0, len(self._ids)))
        return np.asarray(ts, dtype=np.int64), self._ids, np.vstack(rows)


def _thinned(n: int, points: int) -> np.ndarray:
    """At most ``points`` evenly spaced row indices of ``n``, the first and last included."""
    if n <= points:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, points).round().astype(np.int64))


def chart_series(
    ts: np.ndarray,
    ids: tuple[int, ...] | list[int],
    equity: np.ndarray,
    kinds: dict[int, str],
    *,
    top: int,
    points: int,
    labels: dict[int, str] | None = None,
) -> dict[str, Any]:
    """JSON for a chart: ``ts`` and, per drawn agent, its kind, label and values (NaN → null).

    Drawn: buy-and-hold, up to :data:`MAX_PLACEBOS` placebos, and the ``top`` other agents
    with the highest last equity; ``agents_total`` says how many there were."""
    rows = _thinned(len(ts), points)
    last = equity[-1] if len(equity) else np.zeros(len(ids))
    others = [k for k, a in enumerate(ids) if kinds.get(a, "") not in BENCHMARK_KINDS]
    others.sort(key=lambda k: (-np.nan_to_num(last[k], nan=-np.inf), ids[k]))
    placebos = [k for k, a in enumerate(ids) if kinds.get(a) == PLACEBO][:MAX_PLACEBOS]
    bench = [k for k, a in enumerate(ids) if kinds.get(a) == BENCHMARK]
    chosen = others[:top] + bench + placebos
    series = [
        {
            "id": int(ids[k]),
            "kind": kinds.get(ids[k], ""),
            "label": (labels or {}).get(ids[k], f"agent {ids[k]}"),
            "values": [None if not np.isfinite(v) else float(v) for v in equity[rows, k]],
        }
        for k in chosen
    ]
    return {"ts": ts[rows].tolist(), "series": series, "agents_total": len(ids)}
