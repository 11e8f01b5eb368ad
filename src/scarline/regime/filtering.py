"""Online forward filter: P(state_t | observations <= t) from a fitted :class:`RegimeModel`.

Own numpy code rather than hmmlearn's ``predict_proba`` (which smooths with the backward
pass, i.e. looks ahead). Emission log-densities are vectorized over time, each row computed
on its own so that a bar's value never depends on later bars; the scaled alpha recursion is
a short loop over 3-vectors.
"""

from __future__ import annotations

import numpy as np

from scarline.regime.hmm import N_STATES, RegimeModel


def emission_loglik(model: RegimeModel, x: np.ndarray) -> np.ndarray:
    """``float64[T, 3]``: log N(x_t; mean_k, covar_k) per bar and state."""
    n_features = model.means.shape[1]
    chol = np.linalg.cholesky(model.covars)  # [3, F, F]
    inv_chol = np.linalg.inv(chol)
    log_det = 2.0 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)
    diff = x[:, None, :] - model.means[None, :, :]  # [T, 3, F]
    # z[t, k, i] = sum_j inv_chol[k, i, j] diff[t, k, j]: broadcast + sum, no BLAS blocking.
    z = (inv_chol[None, :, :, :] * diff[:, :, None, :]).sum(axis=-1)
    maha = (z * z).sum(axis=-1)
    return -0.5 * (n_features * np.log(2.0 * np.pi) + log_det[None, :] + maha)


def forward_filter(
    model: RegimeModel,
    x: np.ndarray,
    observed: np.ndarray | None = None,
    prior: np.ndarray | None = None,
) -> np.ndarray:
    """``float64[T, 3]`` filtered probabilities of ``x`` (``float64[T, F]``).

    ``prior`` is the filtered distribution of the bar before ``x[0]`` (the filter goes on
    through the transition matrix); without it the first bar starts from ``startprob``, as
    hmmlearn does. An unobserved bar (``observed[t]`` False) only propagates the belief.
    """
    x = np.asarray(x, dtype=np.float64)
    n = x.shape[0]
    out = np.empty((n, N_STATES), dtype=np.float64)
    if n == 0:
        return out
    seen = np.ones(n, dtype=bool) if observed is None else np.asarray(observed, dtype=bool)
    loglik = emission_loglik(model, np.where(seen[:, None], x, model.means[0]))
    lik = np.exp(loglik - loglik.max(axis=1, keepdims=True))
    trans = model.transmat
    belief = None if prior is None else np.asarray(prior, dtype=np.float64)
    for t in range(n):
        pred = model.startprob if belief is None else belief @ trans
        if not seen[t]:
            belief = pred / pred.sum()
        else:
            alpha = pred * lik[t]
            total = alpha.sum()
            belief = alpha / total if total > 0 else _log_step(pred, loglik[t])
        out[t] = belief
    return out


def _log_step(pred: np.ndarray, loglik: np.ndarray) -> np.ndarray:
    """The update in log space, when every scaled term underflowed to 0."""
    with np.errstate(divide="ignore"):
        log_alpha = np.log(pred) + loglik
    if not np.isfinite(log_alpha).any():
        return pred / pred.sum()
    log_alpha -= log_alpha.max()
    alpha = np.exp(log_alpha)
    return alpha / alpha.sum()
