"""Fit a 3-state Gaussian HMM on regime observations and name its states from their moments.

hmmlearn numbers states arbitrarily, so every fit is re-ordered to fixed names by its
volatility feature: **Calm** is the state with the lowest mean log realized volatility,
**Chaos** the highest, **Trend** the one in between (ties: lower variance of the return
feature first). Fits see standardized features and are mapped back, so a model holds its
moments in feature units.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from scarline.errors import ScarlineError

if TYPE_CHECKING:
    from hmmlearn.hmm import GaussianHMM

REGIME_NAMES = ("calm", "trend", "chaos")
N_STATES = len(REGIME_NAMES)
MIN_FIT_ROWS = 30
"""Fewer observed bars than this give no fit: three Gaussians need some data each."""
STICKY_INIT = 0.9
"""Initial P(stay) of a cold start: hmmlearn's default random Dirichlet rows start EM far off."""
PRIOR_WEIGHT = 50.0
PRIOR_VARIANCE = 0.2
"""Inverse-gamma/Wishart prior on each state's covariance (standardized units): 50 pseudo-bars
of variance 0.2. It keeps EM from spending a state on a sliver of one regime (e.g. two
near-identical chaos states) when a window is dominated by that regime."""


class RegimeFitError(ScarlineError):
    """The HMM could not be fitted (too few bars, degenerate data or non-finite parameters)."""


@dataclass(frozen=True, eq=False)
class RegimeModel:
    """A fitted HMM, every array in name order (0 calm, 1 trend, 2 chaos), feature units.

    ``means`` ``float64[3, F]``, ``covars`` ``float64[3, F, F]``, ``transmat[i, j]`` =
    P(state j at t | state i at t-1), ``startprob`` ``float64[3]``; ``order[k]`` is the
    hmmlearn state index named ``REGIME_NAMES[k]``; ``n_obs`` the bars it was fitted on.
    """

    means: np.ndarray
    covars: np.ndarray
    transmat: np.ndarray
    startprob: np.ndarray
    order: tuple[int, int, int]
    n_obs: int

    @property
    def variances(self) -> np.ndarray:
        """``float64[3, F]``: each state's per-feature variance."""
        return np.diagonal(self.covars, axis1=1, axis2=2).copy()

    def moments(self) -> dict[str, dict[str, list[float]]]:
        """``{name: {"mean": [...], "variance": [...]}}``, for reports and JSON."""
        var = self.variances
        return {
            name: {"mean": self.means[k].tolist(), "variance": var[k].tolist()}
            for k, name in enumerate(REGIME_NAMES)
        }


def name_order(means: np.ndarray, covars: np.ndarray) -> tuple[int, int, int]:
    """State indices of (calm, trend, chaos): ascending mean of the last feature (log vol)."""
    idx = np.lexsort((covars[:, 0, 0], means[:, -1]))
    return int(idx[0]), int(idx[1]), int(idx[2])


def from_hmmlearn(
    model: GaussianHMM,
    shift: np.ndarray | None = None,
    scale: np.ndarray | None = None,
    n_obs: int = 0,
) -> RegimeModel:
    """Name and re-order a fitted ``GaussianHMM`` whose data was ``(X - shift) / scale``."""
    f = model.means_.shape[1]
    shift = np.zeros(f) if shift is None else np.asarray(shift, dtype=np.float64)
    scale = np.ones(f) if scale is None else np.asarray(scale, dtype=np.float64)
    means = np.asarray(model.means_, dtype=np.float64) * scale + shift
    covars = np.asarray(model.covars_, dtype=np.float64) * np.outer(scale, scale)
    order = name_order(means, covars)
    idx = np.asarray(order)
    out = RegimeModel(
        means=means[idx],
        covars=covars[idx],
        transmat=np.asarray(model.transmat_, dtype=np.float64)[np.ix_(idx, idx)],
        startprob=np.asarray(model.startprob_, dtype=np.float64)[idx],
        order=order,
        n_obs=n_obs,
    )
    _check(out)
    for a in (out.means, out.covars, out.transmat, out.startprob):
        a.setflags(write=False)
    return out


def fit_regime_model(
    x: np.ndarray,
    *,
    covariance_type: str = "diag",
    n_iter: int = 100,
    tol: float = 1e-4,
    seed: int = 0,
    start: RegimeModel | None = None,
) -> RegimeModel:
    """Fit ``GaussianHMM(n_components=3)`` on observed rows ``x`` (``float64[N, F]``).

    ``start`` (the previous fit) warm-starts EM, so a regime that is rare in this window
    keeps its state; without it EM starts from the volatility terciles of ``x``. Either
    way the start is computed from data, so the same rows give the same model
    (``random_state=seed`` fixes whatever hmmlearn might still draw).
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < MIN_FIT_ROWS:
        raise RegimeFitError(f"need at least {MIN_FIT_ROWS} observed bars to fit, got {len(x)}")
    if not np.isfinite(x).all():
        raise RegimeFitError("observations are not finite")
    n_features = x.shape[1]
    shift = x.mean(axis=0)
    scale = x.std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    diag = covariance_type == "diag"
    from hmmlearn.hmm import GaussianHMM  # imported when first used (~1 s of start-up)

    model = GaussianHMM(
        n_components=N_STATES,
        covariance_type=covariance_type,
        n_iter=n_iter,
        tol=tol,
        random_state=seed,
        init_params="",
        covars_prior=PRIOR_WEIGHT * PRIOR_VARIANCE * (1.0 if diag else np.eye(n_features)),
        covars_weight=PRIOR_WEIGHT + (1 if diag else n_features),
    )
    z = (x - shift) / scale
    if start is None:
        _cold_start(model, z, diag)
    else:
        _warm_start(model, start, shift, scale, diag)
    try:
        with _quiet_hmmlearn():
            model.fit(z)
        return from_hmmlearn(model, shift, scale, n_obs=int(x.shape[0]))
    except (ValueError, np.linalg.LinAlgError) as err:
        raise RegimeFitError(f"HMM fit failed: {err}") from err


def _sticky() -> np.ndarray:
    off = (1.0 - STICKY_INIT) / (N_STATES - 1)
    return np.full((N_STATES, N_STATES), off) + (STICKY_INIT - off) * np.eye(N_STATES)


def _cold_start(model: GaussianHMM, z: np.ndarray, diag: bool) -> None:
    """Start EM from the thirds of the bars ranked by volatility (last feature), sticky.

    Volatility is what separates the regimes; this start is deterministic and cheap
    (hmmlearn's k-means with 10 restarts cost seconds per fit) and avoids the optimum where
    every state shares one volatility and the states split the return feature instead.
    """
    parts = np.array_split(z[np.argsort(z[:, -1], kind="stable")], N_STATES)
    model.startprob_ = np.full(N_STATES, 1.0 / N_STATES)
    model.transmat_ = _sticky()
    model.means_ = np.stack([p.mean(axis=0) for p in parts])
    floor = 1e-3
    if diag:
        model.covars_ = np.stack([p.var(axis=0) + floor for p in parts])
    else:
        eye = np.eye(z.shape[1])
        model.covars_ = np.stack([np.cov(p.T, bias=True) + floor * eye for p in parts])


def _warm_start(
    model: GaussianHMM, prev: RegimeModel, shift: np.ndarray, scale: np.ndarray, diag: bool
) -> None:
    """Start EM from the previous fit, in this window's standardized units.

    The transition matrix is mixed 10 % with the sticky start: EM can never revive an
    entry that reached 0.
    """
    covars = prev.covars / np.outer(scale, scale)
    model.startprob_ = np.full(N_STATES, 1.0 / N_STATES)
    model.transmat_ = 0.9 * prev.transmat + 0.1 * _sticky()
    model.means_ = (prev.means - shift) / scale
    model.covars_ = np.diagonal(covars, axis1=1, axis2=2).copy() if diag else covars


@contextmanager
def _quiet_hmmlearn() -> Iterator[None]:
    """hmmlearn logs "Model is not converging" whenever the prior makes the likelihood dip,
    and on a degenerate window (a constant feature) its EM overflows into NaN with numpy
    RuntimeWarnings on stderr; :func:`_check` turns such a fit into a
    :class:`RegimeFitError`, so the warnings only said it twice (and failed under ``-W error``)."""
    logger = logging.getLogger("hmmlearn")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with np.errstate(all="ignore"):
            yield
    finally:
        logger.setLevel(level)


def _check(model: RegimeModel) -> None:
    arrays = (model.means, model.covars, model.transmat, model.startprob)
    if not all(np.isfinite(a).all() for a in arrays):
        raise RegimeFitError("HMM fit gave non-finite parameters")
    try:
        np.linalg.cholesky(model.covars)
    except np.linalg.LinAlgError as err:
        raise RegimeFitError("HMM fit gave a covariance that is not positive definite") from err
