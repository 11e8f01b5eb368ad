"""Regimes as a live system would have seen them: rolling refits, online filter, committed labels.

Refit points are ``min_history, min_history + refit_every, …``; the fit at step s uses the
observed bars in ``[s - window, s)`` only, and its parameters serve bars ``s … next refit - 1``.
Fits are memoized by their exact inputs (:mod:`scarline.regime.memo`): markets that share
their first rows share those fits.
The filter state carries over a refit (only the parameters change); the first model is warmed
up on its own training window. Before the first model every bar is Calm (0) with confidence
0 and probabilities 1/3 each: the kernel needs an int label at every bar.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scarline.market.frame import MarketData
from scarline.regime.config import RegimeConfig
from scarline.regime.filtering import forward_filter
from scarline.regime.hmm import N_STATES, RegimeFitError, RegimeModel
from scarline.regime.machine import Transition, commit, transitions
from scarline.regime.memo import fit_memoized
from scarline.regime.observations import observations


@dataclass(frozen=True, eq=False)
class RegimePath:
    """Per bar: ``labels`` (committed, ``int64[T]``), ``raw`` (argmax of ``probs``),
    ``probs`` (filtered, ``float64[T, 3]``), ``confidence`` (``probs`` of the committed
    label, 0 before the first fit); ``fits`` is ``(step, model)`` for every refit that held."""

    labels: np.ndarray
    raw: np.ndarray
    probs: np.ndarray
    confidence: np.ndarray
    fits: list[tuple[int, RegimeModel]]

    @property
    def n_steps(self) -> int:
        return int(self.labels.shape[0])

    def transitions(self) -> list[Transition]:
        """Changes of the committed regime (the events the kernel logs)."""
        return transitions(self.labels, self.confidence)


def refit_steps(n_steps: int, cfg: RegimeConfig) -> list[int]:
    """The bars at which a new model takes over."""
    return list(range(cfg.min_history, n_steps, cfg.refit_every))


def regime_path(market: MarketData, cfg: RegimeConfig) -> RegimePath:
    """The causal regime path of ``market``: nothing at bar t depends on bars after t."""
    x, observed = observations(market, cfg.vol_window)
    n = x.shape[0]
    probs = np.full((n, N_STATES), 1.0 / N_STATES)
    filtered = np.zeros(n, dtype=bool)
    fits: list[tuple[int, RegimeModel]] = []
    model: RegimeModel | None = None
    belief: np.ndarray | None = None
    starts = refit_steps(n, cfg)
    stops = [*starts[1:], n] if starts else []
    for s, stop in zip(starts, stops, strict=True):
        lo = max(0, s - cfg.window)
        try:
            new = fit_memoized(x[lo:s][observed[lo:s]], cfg, model)
        except RegimeFitError:
            new = None  # keep the previous model (or stay "unknown") until the next refit
        if new is not None:
            if model is None:
                belief = forward_filter(new, x[lo:s], observed[lo:s])[-1]
            model = new
            fits.append((s, new))
        if model is None:
            continue
        probs[s:stop] = forward_filter(model, x[s:stop], observed[s:stop], prior=belief)
        filtered[s:stop] = True
        belief = probs[stop - 1]
    first = int(np.argmax(filtered)) if filtered.any() else n
    labels = commit(probs, cfg.confidence, cfg.hysteresis, start=first)
    raw = np.where(filtered, probs.argmax(axis=1), 0).astype(np.int64)
    confidence = np.where(filtered, probs[np.arange(n), labels], 0.0)
    return RegimePath(labels=labels, raw=raw, probs=probs, confidence=confidence, fits=fits)
