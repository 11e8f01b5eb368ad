"""What each agent has done since its birth: the raw material of fitness and novelty.

Running sums per slot, updated once a step with vectorized arithmetic and reset when a new
agent is born into the slot, so fitness never mixes an agent with its slot's previous tenant:

* per-step equity returns → Sharpe since birth (risk-adjusted, net of every cost because it
  is measured on marked equity);
* the agent's own peak and deepest drawdown since birth;
* how often its exposure changed (turnover, holding time) and how long it was long.
"""

from __future__ import annotations

import numpy as np

from scarline.evolution.behaviour_step import behaviour_step
from scarline.evolution.novelty import behaviour_descriptors
from scarline.stats import drawdown, period_return, sharpe_from_sums


class BehaviourTracker:
    def __init__(self, equity: np.ndarray) -> None:
        n = equity.shape[0]
        self.age = np.zeros(n, dtype=np.int64)
        self._sum = np.zeros(n)
        self._sumsq = np.zeros(n)
        self._last = equity.astype(np.float64)
        self._peak = self._last.copy()
        self._max_dd = np.zeros(n)
        self._changes = np.zeros(n, dtype=np.int64)
        self._long = np.zeros(n, dtype=np.int64)
        self._exposure = np.zeros(n)

    def update(self, equity: np.ndarray, exposure: np.ndarray) -> None:
        """After the mark of a step: ``equity`` (any unit) and the exposure now held; one
        compiled pass (:mod:`scarline.evolution.behaviour_step`), the same bits as
        :meth:`_update_numpy`."""
        n = self._last.shape
        if np.shape(equity) != n or np.shape(exposure) != n:  # the loop trusts the lengths
            raise ValueError(
                f"behaviour update: equity {np.shape(equity)} and exposure "
                f"{np.shape(exposure)} must both be {n}"
            )
        behaviour_step(
            np.asarray(equity, dtype=np.float64), np.asarray(exposure), self._last, self._sum,
            self._sumsq, self._peak, self._max_dd, self._changes, self._long, self._exposure,
            self.age,
        )  # fmt: skip

    def _update_numpy(self, equity: np.ndarray, exposure: np.ndarray) -> None:
        """The reference :meth:`update` must equal bit for bit (tests/evolution)."""
        eq = equity.astype(np.float64)
        ret = period_return(self._last, eq, undefined=0.0)
        self._sum += ret
        self._sumsq += ret * ret
        np.maximum(self._peak, eq, out=self._peak)
        np.maximum(self._max_dd, drawdown(self._peak, eq, undefined=0.0), out=self._max_dd)
        self._changes += exposure != self._exposure
        self._long += exposure > 0
        self._exposure = exposure.astype(np.float64)
        self._last = eq
        self.age += 1

    def reborn(self, rows: np.ndarray, equity: np.ndarray) -> None:
        """Slots ``rows`` hold newborns from now on: their history starts again."""
        for arr in (self.age, self._sum, self._sumsq, self._max_dd, self._changes, self._long):
            arr[rows] = 0
        self._last[rows] = equity[rows]
        self._peak[rows] = equity[rows]
        self._exposure[rows] = 0.0

    def sharpe(self) -> np.ndarray:
        """Per-step Sharpe since birth; 0 before two steps. The standard deviation is the
        population one (``ddof=0``): selections are journaled, so this arithmetic is fixed."""
        return sharpe_from_sums(self._sum, self._sumsq, self.age, ddof=0)

    def descriptors(self) -> np.ndarray:
        """``float64[N, 4]`` behaviour descriptors (see :func:`behaviour_descriptors`)."""
        age = np.maximum(self.age, 1).astype(np.float64)
        turnover = self._changes / age
        holding = age / (self._changes + 1.0)
        return behaviour_descriptors(turnover, holding, self._long / age, self._max_dd)
