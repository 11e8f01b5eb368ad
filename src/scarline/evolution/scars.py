"""Scars, trust and death: what losses permanently do to an agent, vectorized over N.

* A **scar** is a loss event: the agent's equity fell ``drawdown_pct`` % below its peak
  since its last scar, or one step's realized loss (a closed trade) cost ``trade_loss_pct`` %
  of its equity. Scars never heal: each one raises the agent's exploration floor by
  ``floor_step`` for good (up to ``floor_max``), and lowers its trust.
* **Trust** in [0, 1] = σ(risk-adjusted performance) × ``scar_decay`` ** scars, where the
  performance is an EWMA mean / EWMA std of per-step returns (an online Sharpe), scaled by
  ``trust_scale``; a new agent starts at σ(0) = 0.5.
* **Death**: equity at or below ``ruin_fraction`` × initial cash. A dead agent trades no
  more (the kernel flattens it), its trust is 0 and its scars stay on record.

Every scar and death is returned as data for the kernel to journal (``Scars``/``Deaths``).
What trust is used for (``trust_weight``) is in :mod:`scarline.evolution.trust`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from pydantic import Field

from scarline.evolution.scar_step import scar_step, warm_up
from scarline.evolution.trust import START_TRUST, TrustWeight
from scarline.stats import drawdown_pct, period_return, smooth_sharpe
from scarline.strict import Strict

CAUSES: tuple[str, ...] = ("drawdown", "trade_loss")

_NONE = np.zeros(0, np.int64)
_NO_CAUSE = np.zeros(0, np.int8)
_NO_VALUE = np.zeros(0, np.float64)


class ScarConfig(Strict):
    """What losses do to every agent, rule or learned: scars (permanent exploration floors),
    trust (recorded always, used only as ``trust_weight`` says) and death at ruin."""

    drawdown_pct: float = Field(
        default=20.0, gt=0, le=100, description="a fall this far below the peak is a scar, %"
    )
    trade_loss_pct: float = Field(
        default=5.0, gt=0, le=100, description="one step's realized loss this big is a scar, %"
    )
    floor_step: float = Field(
        default=0.05, ge=0, le=1, description="each scar raises the exploration floor by this"
    )
    floor_max: float = Field(default=0.5, ge=0, le=1, description="the exploration floor's cap")
    ruin_fraction: float = Field(
        default=0.5, ge=0, lt=1, description="death at equity <= this x starting capital"
    )
    trust_halflife: float = Field(
        default=60.0, gt=0, description="half-life (steps) of trust's EWMA return mean and std"
    )
    trust_scale: float = Field(
        default=10.0, gt=0, description="trust = sigmoid(trust_scale x EWMA Sharpe) x decay^scars"
    )
    scar_decay: float = Field(default=0.8, gt=0, le=1, description="trust factor per scar")
    trust_weight: TrustWeight = Field(
        default="none",
        description="what trust is used for: none (recorded only), capital weights or "
        "evolution's selection (docs/risk.md)",
    )
    trust_levels: int = Field(
        default=4, ge=1, le=1000, description="capital weights are multiples of 1/levels"
    )


@dataclass(frozen=True, eq=False)
class LifeEvents:
    """One step's new scars (agent, cause code, measured %) and deaths (agent, equity, the
    trust the step's returns and scars gave them before death set it to 0)."""

    scar_agent: np.ndarray
    scar_cause: np.ndarray
    scar_value: np.ndarray
    death_agent: np.ndarray
    death_equity: np.ndarray
    death_trust: np.ndarray

    @property
    def empty(self) -> bool:
        return self.scar_agent.size == 0 and self.death_agent.size == 0


_NO_EVENTS = LifeEvents(_NONE, _NO_CAUSE, _NO_VALUE, _NONE, _NONE, _NO_VALUE)


class _Measured(NamedTuple):
    """One step's measures: drawdown % and trade-loss % (None: no realized PnL changed) of
    every agent, the drawdown-scar, scar and ruin masks, and how many scars and deaths.
    A named tuple: made every step, and a frozen dataclass costs ~0.6 µs more to build."""

    drawdown: np.ndarray
    trade_loss: np.ndarray | None
    by_dd: np.ndarray
    scarred: np.ndarray
    dying: np.ndarray
    scars: int = 0
    deaths: int = 0

    @classmethod
    def empty(cls, n: int) -> _Measured:
        """Buffers the compiled pass fills each step (nothing keeps them: events copy)."""
        f, b = np.zeros(n), np.zeros(n, dtype=bool)
        return cls(f, f.copy(), b, b.copy(), b.copy())


class ScarTracker:
    def __init__(self, n_agents: int, cfg: ScarConfig, initial_cash: int) -> None:
        self.cfg = cfg
        self.scars = np.zeros(n_agents, dtype=np.int64)
        self.floor = np.zeros(n_agents, dtype=np.float64)
        self.alive = np.ones(n_agents, dtype=bool)  # changed by update and reborn only
        self.all_alive = True  # alive.all(), kept by them (the kernel asks every step)
        self.death_step = np.full(n_agents, -1, dtype=np.int64)
        self._trust: np.ndarray | None = np.full(n_agents, START_TRUST)
        self._ruin = np.full(n_agents, cfg.ruin_fraction * initial_cash)  # per slot: rebirths
        self.sensitivity = np.ones(n_agents)  # divides the scar thresholds (an evolved gene)
        self._peak = np.full(n_agents, initial_cash, dtype=np.int64)
        self._last_equity = np.full(n_agents, initial_cash, dtype=np.int64)
        self._last_realized = np.zeros(n_agents, dtype=np.int64)
        self._alpha = 1.0 - 0.5 ** (1.0 / cfg.trust_halflife)
        self._mean = np.zeros(n_agents)
        self._var = np.zeros(n_agents)
        self._buffers: _Measured | None = None  # the compiled pass's outputs, reused
        warm_up()  # load the compiled pass now (~0.3 s once per process), not on step 0
        self._scars_changed()  # floor and trust's scar factor, kept while no scar changes them

    def reborn(self, rows: np.ndarray, equity: np.ndarray) -> None:
        """Slots ``rows`` hold newborns: no scars (scars are not inherited; the lineage keeps
        the ancestors'), alive, a fresh peak, and ruin measured against the capital the
        newborn starts with (the slot's equity now)."""
        self.scars[rows] = 0
        self.alive[rows] = True
        self.all_alive = bool(self.alive.all())
        self.death_step[rows] = -1
        self._trust = None  # the newborns' moments are 0 again: trust σ(0) = START_TRUST
        self._peak[rows] = equity[rows]
        self._ruin[rows] = self.cfg.ruin_fraction * equity[rows]
        self._mean[rows] = 0.0
        self._var[rows] = 0.0
        self._scars_changed()

    def update(self, step: int, equity: np.ndarray, realized: np.ndarray) -> LifeEvents:
        """After marking at the close of ``step``: new scars and deaths of living agents.

        Trust's moments move every step; scars and deaths are rare, so their bookkeeping
        runs only on a step that has some (:meth:`_measure` finds them)."""
        prev, alive = self._last_equity, self.alive
        m = self._measure(prev, equity, realized)
        scar_events = None
        if m.scars:
            scar_events = self._scar(equity, m.scarred, m.by_dd, m.drawdown, m.trade_loss)
        dead = _NONE
        if m.deaths:
            dead = np.flatnonzero(m.dying)
            self.alive = alive & ~m.dying
            self.all_alive = False
            self.death_step[dead] = step
        self._trust = None  # computed when read: most steps nobody reads it
        self._last_equity = equity.copy()
        self._last_realized = realized.copy()
        if scar_events is None and not dead.size:
            return _NO_EVENTS
        agents, cause, value = scar_events or (_NONE, _NO_CAUSE, _NO_VALUE)
        death_trust = self._rows_trust(dead) if dead.size else _NO_VALUE
        return LifeEvents(agents, cause, value, dead, equity[dead].astype(np.int64), death_trust)

    @property
    def trust(self) -> np.ndarray:
        """``float64[N]`` trust after the last update: 0 for the dead, else
        ``decay**scars · σ(trust_scale · EWMA Sharpe)``. Computed on first read after an
        update or a birth (the Decision journals it only for agents whose cells changed) from
        the state the update left, so it is the same array an eager update computed."""
        if self._trust is None:
            self._trust = self.trust_of(self._mean, self._var)
        return self._trust

    def trust_at(self, rows: np.ndarray) -> np.ndarray:
        """``trust[rows]``, computed for those rows only when :attr:`trust` is not: the same
        elementwise arithmetic on their moments, so the same floats (a Decision journals the
        trust of the few agents whose cells changed; every agent's took ~20 µs a step at
        N = 4096)."""
        if self._trust is not None:
            return self._trust[rows]
        return np.where(self.alive[rows], self._rows_trust(rows), 0.0)

    def trust_of(self, mean: np.ndarray, var: np.ndarray) -> np.ndarray:
        """:attr:`trust` had the moments been ``mean`` and ``var`` (the scars and deaths
        as now): what a step in the middle of a compiled run of steps saw."""
        return np.where(self.alive, self._sigmoid_trust(mean, var, self._decay), 0.0)

    def _rows_trust(self, rows: np.ndarray) -> np.ndarray:
        """:meth:`_sigmoid_trust` of agents ``rows``' current moments and scars, alive or
        not (elementwise: the same floats as every row's, indexed)."""
        return self._sigmoid_trust(self._mean[rows], self._var[rows], self._decay[rows])

    def _sigmoid_trust(self, mean: np.ndarray, var: np.ndarray, decay: np.ndarray) -> np.ndarray:
        """``decay / (1 + exp(-trust_scale · score))`` elementwise, of the trust moments
        ``mean`` and ``var`` and the rows' ``decay**scars``, alive or not."""
        score = smooth_sharpe(mean, var)
        score *= -self.cfg.trust_scale
        np.exp(score, out=score)
        score += 1.0
        return np.divide(decay, score, out=score)

    def _measure(self, prev: np.ndarray, equity: np.ndarray, realized: np.ndarray) -> _Measured:
        """Move trust's moments and the peaks; the step's drawdowns, scar and ruin masks.
        int64 cash (the kernel's) takes the compiled pass, anything else the numpy one: the
        same arithmetic, bit for bit (``tests/evolution/test_scar_step.py``)."""
        if not (equity.dtype == realized.dtype == prev.dtype == np.int64):
            return self._measure_numpy(prev, equity, realized)
        b = self._buffers
        if b is None or b.drawdown.shape != equity.shape:
            b = self._buffers = _Measured.empty(equity.shape[0])
        cfg, loss = self.cfg, b.trade_loss
        assert loss is not None  # the buffers always hold one
        scars, deaths, traded = scar_step(
            prev, equity, realized, self._last_realized, self.alive, self.sensitivity,
            self._ruin, self._peak, self._mean, self._var, self._alpha,
            cfg.drawdown_pct, cfg.trade_loss_pct,
            b.drawdown, loss, b.by_dd, b.scarred, b.dying,
        )  # fmt: skip
        return _Measured(
            b.drawdown,
            loss if traded else None,
            b.by_dd,
            b.scarred,
            b.dying,
            scars,
            deaths,
        )

    def _measure_numpy(
        self, prev: np.ndarray, equity: np.ndarray, realized: np.ndarray
    ) -> _Measured:
        """:meth:`_measure` in numpy: the reference the compiled pass is tested against.
        Masks are counted with ``np.count_nonzero``, a microsecond cheaper than ``any``."""
        cfg, alive = self.cfg, self.alive
        ret = period_return(prev, equity, undefined=0.0)
        a, mean, var = self._alpha, self._mean, self._var
        # mean = (1 - a) * mean + a * ret; var = (1 - a) * var + a * (ret - mean) ** 2, in place
        mean *= 1 - a
        mean += a * ret
        ret -= mean  # ret is ours (a new array): it becomes a * (ret - mean) ** 2
        np.square(ret, out=ret)
        ret *= a
        var *= 1 - a
        var += ret
        np.maximum(self._peak, equity, out=self._peak)
        drawdown = drawdown_pct(self._peak, equity)
        scarred = by_dd = alive & (drawdown * self.sensitivity >= cfg.drawdown_pct)
        trade_loss = None
        if np.count_nonzero(realized != self._last_realized):
            trade_loss = 100.0 * -(realized - self._last_realized) / np.maximum(prev, 1)
            by_trade = alive & ~by_dd & (trade_loss * self.sensitivity >= cfg.trade_loss_pct)
            scarred = by_dd | by_trade
        dying = alive & (equity <= self._ruin)
        return _Measured(
            drawdown,
            trade_loss,
            by_dd,
            scarred,
            dying,
            int(np.count_nonzero(scarred)),
            int(np.count_nonzero(dying)),
        )

    def _scar(
        self,
        equity: np.ndarray,
        scarred: np.ndarray,
        by_dd: np.ndarray,
        drawdown: np.ndarray,
        trade_loss: np.ndarray | None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Scar the ``scarred`` agents, at least one (cause 0 drawdown, 1 trade loss; the
        measured %). ``trade_loss`` is None on a step without a closed trade: every scar is
        then a drawdown's."""
        agents = np.flatnonzero(scarred)
        dd = by_dd[agents]
        cause = np.where(dd, 0, 1).astype(np.int8)
        value = (
            drawdown[agents]
            if trade_loss is None
            else np.where(dd, drawdown[agents], trade_loss[agents])
        )
        self.scars[agents] += 1
        self._scars_changed(agents)
        self._peak[agents] = equity[agents]  # the next drawdown scar needs a fresh fall
        return agents.astype(np.int64), cause, value

    def _scars_changed(self, rows: np.ndarray | None = None) -> None:
        """The exploration floor and trust's scar factor follow the scar counts, of ``rows``
        only when given: at N = 4096 some agent is scarred on most steps, and the power over
        every row took ~26 µs of them. Element by element the same operations, so the same
        floats; new arrays, not in place, because a step's views hand ``floor`` out."""
        cfg = self.cfg
        if rows is None:
            self.floor = np.minimum(cfg.floor_max, cfg.floor_step * self.scars)
            self._decay = cfg.scar_decay**self.scars
            return
        scars = self.scars[rows]
        self.floor = self.floor.copy()
        self.floor[rows] = np.minimum(cfg.floor_max, cfg.floor_step * scars)
        self._decay = self._decay.copy()
        self._decay[rows] = cfg.scar_decay**scars
