"""The escalation ladder NORMAL → WARN → THROTTLE → HALT, per agent and for the population.

An agent's level follows the worst of three signals: its drawdown from peak equity, its
number of breaches (rejected/throttled intents) in the last ``breach_window_steps`` steps,
and the hard ``max_drawdown_pct`` limit. The population (global) level follows the
drawdown of the summed equity of all agents, so one bad agent halts itself, not the
others. Levels only rise, except WARN/THROTTLE recovering once the drawdown is at or below
``recover_below_pct``, and :meth:`Ladder.reset` for a row a new agent is born into. Every
change is returned as :class:`LadderTransitions` for the WAL, before it takes effect.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scarline.risk.codes import CAUSE, GLOBAL, HALT_LEVEL, NORMAL
from scarline.risk.config import RiskConfig
from scarline.risk.ladder_screen import peaks_and_screen, warm_up
from scarline.risk.window import WindowCounter
from scarline.stats import drawdown_pct


@dataclass(frozen=True, eq=False)
class LadderTransitions:
    """T level changes; ``agent`` is -1 (:data:`GLOBAL`) for the population's row."""

    agent: np.ndarray  # int64[T]
    from_level: np.ndarray  # int8[T]
    to_level: np.ndarray  # int8[T]
    cause: np.ndarray  # int8[T], index into codes.CAUSES
    value: np.ndarray  # float64[T], measured value (drawdown % or breach count)
    limit: np.ndarray  # float64[T], the threshold it reached

    def __len__(self) -> int:
        return int(self.agent.shape[0])

    @staticmethod
    def empty() -> LadderTransitions:
        i8, f8 = np.int8, np.float64
        return LadderTransitions(
            np.zeros(0, np.int64),
            np.zeros(0, i8),
            np.zeros(0, i8),
            np.zeros(0, i8),
            np.zeros(0, f8),
            np.zeros(0, f8),
        )

    @staticmethod
    def concat(parts: list[LadderTransitions]) -> LadderTransitions:
        parts = [p for p in parts if len(p)]
        if not parts:
            return LadderTransitions.empty()
        fields = LadderTransitions.__dataclass_fields__
        return LadderTransitions(*(np.concatenate([getattr(p, f) for p in parts]) for f in fields))


def threshold_level(
    x: np.ndarray, thresholds: tuple[float | int | None, float | int | None, float | int | None]
) -> tuple[np.ndarray, np.ndarray]:
    """Level (0..3) reached by ``x`` against (warn, throttle, halt) and that level's threshold."""
    level = np.zeros(x.shape, dtype=np.int8)
    limit = np.full(x.shape, np.nan)
    for code, thr in enumerate(thresholds, start=1):
        if thr is not None:
            hit = x >= thr
            level[hit] = code
            limit[hit] = thr
    return level, limit


@dataclass(frozen=True)
class _Target:
    level: np.ndarray  # int8
    cause: np.ndarray  # int8
    value: np.ndarray  # float64
    limit: np.ndarray  # float64


def _worst(signals: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]], n: int) -> _Target:
    """The highest level among (cause, level, value, limit) signals; earlier ones win ties."""
    best = _Target(np.zeros(n, np.int8), np.zeros(n, np.int8), np.zeros(n), np.full(n, np.nan))
    for cause, level, value, limit in reversed(signals):
        take = level >= best.level
        take &= level > NORMAL
        best.level[take] = level[take]
        best.cause[take] = cause
        best.value[take] = value[take]
        best.limit[take] = limit[take]
    return best


def _escalation_table(
    thresholds: tuple[float | int | None, ...], halt_at: float | None = None
) -> np.ndarray:
    """``float64[4]``: for each current level, the smallest value that escalates past it."""
    table = np.full(4, np.inf)
    for level in range(4):
        above = [t for code, t in enumerate(thresholds, start=1) if code > level and t is not None]
        if halt_at is not None and level < HALT_LEVEL:
            above.append(halt_at)
        if above:
            table[level] = min(above)
    return table


_EMPTY = LadderTransitions.empty()
_HAIR = 1.0 - 1e-9
_SEQUENTIAL = 8


def float_total(equity: np.ndarray) -> float:
    """``float(equity.sum(dtype=np.float64))`` bit for bit, ~1.5 µs sooner for a few agents:
    numpy adds fewer than eight values one after another, left to right (pairwise sums start
    at eight), which is what the loop does; from eight agents on, numpy itself
    (``tests/risk/test_ladder_total.py`` holds the two to each other)."""
    if equity.size >= _SEQUENTIAL:
        return float(equity.sum(dtype=np.float64))
    values = equity.tolist()
    if not values:
        return 0.0
    total = float(values[0])  # numpy starts from the first value (a lone -0.0 stays -0.0)
    for value in values[1:]:
        total += float(value)
    return total


class Ladder:
    """Levels of N agents and of the population, with the trigger that set each level.

    Hot path: without a recovery rule a level can only rise, so a step whose drawdowns and
    breach counts stay below every agent's next threshold returns at once (the usual case).
    """

    def __init__(self, cfg: RiskConfig, n_agents: int) -> None:
        self.cfg = cfg
        lc = cfg.ladder
        self._dd_thresholds = (lc.warn_drawdown_pct, lc.throttle_drawdown_pct, lc.halt_drawdown_pct)
        self._breach_thresholds = (lc.breach_warn, lc.breach_throttle, lc.breach_halt)
        self.n = n_agents
        self.level = np.zeros(n_agents, dtype=np.int8)
        self.value = np.zeros(n_agents)  # trigger of the current level
        self.limit = np.zeros(n_agents)
        self.peak = np.full(n_agents, np.iinfo(np.int64).min, dtype=np.int64)
        self.breaches = WindowCounter(n_agents, lc.breach_window_steps)
        self.global_level = NORMAL
        self.global_value = 0.0
        self.global_limit = 0.0
        self._global_peak = -np.inf
        self._esc_dd = _escalation_table(self._dd_thresholds, cfg.max_drawdown_pct)
        self._esc_global = _escalation_table(self._dd_thresholds)
        self._esc_breach = _escalation_table(self._breach_thresholds)
        self._breach_on = bool(np.isfinite(self._esc_breach).any())
        self._all_positive = False
        self._hit = np.zeros(n_agents, dtype=bool)  # the compiled screen's mask, reused
        warm_up()

    def _peaks_positive(self) -> bool:
        """Peaks only rise, so once all are positive they stay so (checked until then)."""
        if not self._all_positive:
            self._all_positive = bool((self.peak > 0).all()) and self._global_peak > 0
        return self._all_positive

    def drawdown(self, equity: np.ndarray) -> np.ndarray:
        """Current drawdown % of every agent, counting ``equity`` as a possible new peak."""
        return drawdown_pct(np.maximum(self.peak, equity), equity)

    def update(self, step: int, equity: np.ndarray, *, frozen: bool) -> LadderTransitions:
        """Track peaks and move levels; ``frozen`` (killed) only tracks peaks."""
        equity = np.asarray(equity, dtype=np.int64)
        if equity.shape != (self.n,):
            raise ValueError(f"equity must have shape ({self.n},), got {equity.shape}")
        rising = self.cfg.ladder.recover_below_pct is None
        if rising and not frozen and self._all_positive:  # peaks stay positive: compiled
            dd_hit = self._hit
            hits = peaks_and_screen(self.peak, equity, self._esc_dd, self.level, _HAIR, dd_hit)
        else:
            np.maximum(self.peak, equity, out=self.peak)
            hits = -1  # not screened yet
        total = float_total(equity)
        self._global_peak = max(self._global_peak, total)
        if frozen:
            self.breaches.advance(step)
            return LadderTransitions.empty()
        if rising and self._peaks_positive():
            # levels only rise: skip unless someone reached the next threshold (usual case)
            level = self.level
            if hits < 0:  # conservative by a hair: borderline cases take the exact path below
                dd_hit = (self.peak - equity) * 100.0 >= self._esc_dd[level] * (self.peak * _HAIR)
            if self._breach_on:
                dd_hit |= self.breaches.totals(step) >= self._esc_breach[level]
            agents = _EMPTY
            nobody = hits == 0 and not self._breach_on  # the compiled screen counted them
            if not nobody and np.count_nonzero(dd_hit):  # only these rows can move
                rows = np.flatnonzero(dd_hit)
                dd = drawdown_pct(self.peak[rows], equity[rows])
                agents = self._agents(dd, self.breaches.totals(step)[rows], rows)
            if not self.cfg.ladder.global_drawdown:
                return agents
            # the population's drawdown is below its next threshold (the same hair's test)
            peak = self._global_peak
            if (peak - total) * 100.0 < self._esc_global[self.global_level] * (peak * _HAIR):
                return agents
        else:
            agents = self._agents(drawdown_pct(self.peak, equity), self.breaches.totals(step))
        glob = self._global(total)
        return LadderTransitions.concat([agents, glob])

    def _move(
        self, old: np.ndarray, target: _Target, dd: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """New levels and transition cause/value/limit: escalate, or recover when allowed."""
        new = np.maximum(old, target.level)
        cause, value, limit = target.cause.copy(), target.value.copy(), target.limit.copy()
        recover = self.cfg.ladder.recover_below_pct
        if recover is not None:
            back = (dd <= recover) & (old < HALT_LEVEL) & (target.level < old)
            new = np.where(back, target.level, new)
            cause[back] = CAUSE["recovery"]
            value[back] = dd[back]
            limit[back] = recover
        return new, cause, value, limit

    def _agents(
        self, dd: np.ndarray, count: np.ndarray, rows: np.ndarray | None = None
    ) -> LadderTransitions:
        """Level changes of the agents ``rows`` (default: all), whose drawdown and breach
        count are ``dd`` and ``count``."""
        n = self.n if rows is None else len(rows)
        signals = []
        max_dd = self.cfg.max_drawdown_pct
        if max_dd is not None:
            hard = np.where(dd >= max_dd, HALT_LEVEL, NORMAL).astype(np.int8)
            signals.append((CAUSE["max_drawdown"], hard, dd, np.full(n, max_dd)))
        dd_level, dd_limit = threshold_level(dd, self._dd_thresholds)
        signals.append((CAUSE["drawdown"], dd_level, dd, dd_limit))
        br_level, br_limit = threshold_level(count, self._breach_thresholds)
        signals.append((CAUSE["breaches"], br_level, count.astype(np.float64), br_limit))
        target = _worst(signals, n)
        old = self.level if rows is None else self.level[rows]
        new, cause, value, limit = self._move(old, target, dd)
        changed = np.flatnonzero(new != old)
        if len(changed) == 0:
            return LadderTransitions.empty()
        agent = changed if rows is None else rows[changed]
        out = LadderTransitions(
            agent.astype(np.int64),
            old[changed].copy(),
            new[changed].astype(np.int8),
            cause[changed],
            value[changed],
            limit[changed],
        )
        self.level[agent] = new[changed]
        self.value[agent] = target.value[changed]
        self.limit[agent] = target.limit[changed]
        return out

    def _global(self, total: float) -> LadderTransitions:
        if not self.cfg.ladder.global_drawdown:
            return LadderTransitions.empty()
        dd = drawdown_pct(np.array([self._global_peak]), np.array([total]))
        level, limit = threshold_level(dd, self._dd_thresholds)
        target = _Target(level, np.full(1, CAUSE["drawdown"], np.int8), dd, limit)
        old = np.array([self.global_level], dtype=np.int8)
        new, cause, value, lim = self._move(old, target, dd)
        if new[0] == old[0]:
            return LadderTransitions.empty()
        self.global_level = int(new[0])
        self.global_value, self.global_limit = float(dd[0]), float(limit[0])
        return LadderTransitions(
            np.array([GLOBAL], np.int64), old, new.astype(np.int8), cause, value, lim
        )

    def halt_all(self, cause: int, value: float = 0.0, limit: float = 0.0) -> LadderTransitions:
        """Every agent and the population to HALT (the kill switch)."""
        rows = np.flatnonzero(self.level != HALT_LEVEL)
        parts = [
            LadderTransitions(
                rows.astype(np.int64),
                self.level[rows].copy(),
                np.full(len(rows), HALT_LEVEL, np.int8),
                np.full(len(rows), cause, np.int8),
                np.full(len(rows), value),
                np.full(len(rows), limit),
            )
        ]
        self.level[rows] = HALT_LEVEL
        self.value[rows], self.limit[rows] = value, limit
        if self.global_level != HALT_LEVEL:
            parts.append(
                LadderTransitions(
                    np.array([GLOBAL], np.int64),
                    np.array([self.global_level], np.int8),
                    np.array([HALT_LEVEL], np.int8),
                    np.array([cause], np.int8),
                    np.array([value]),
                    np.array([limit]),
                )
            )
            self.global_level = HALT_LEVEL
            self.global_value, self.global_limit = value, limit
        return LadderTransitions.concat(parts)

    def reset(self, agents: np.ndarray, equity: np.ndarray, *, frozen: bool) -> LadderTransitions:
        """Rows ``agents`` hold new agents: new peak, no breaches, NORMAL (unless killed)."""
        agents = np.asarray(agents, dtype=np.int64)
        self.peak[agents] = np.asarray(equity, dtype=np.int64)
        self.breaches.clear(agents)
        if frozen:
            return LadderTransitions.empty()
        rows = agents[self.level[agents] != NORMAL]
        out = LadderTransitions(
            rows,
            self.level[rows].copy(),
            np.zeros(len(rows), np.int8),
            np.full(len(rows), CAUSE["reset"], np.int8),
            np.zeros(len(rows)),
            np.zeros(len(rows)),
        )
        self.level[rows] = NORMAL
        self.value[rows], self.limit[rows] = 0.0, 0.0
        return out
