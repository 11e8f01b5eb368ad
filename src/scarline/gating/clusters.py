"""How many *distinct* strategies did a search try? Clustering of trials by their returns.

A population of agents trained on the same data is not N independent trials: many of them
learn the same thing. Following López de Prado & Lewis (2019, ONC), trials are clustered on
the correlation distance d = sqrt(0.5 (1 - rho)) of their returns and the number of clusters
is chosen by silhouette quality; a cluster's representative is the equal-weight average of
its members' returns. Our variant (docs/gates.md, "Clustering of trials") is deterministic:

* candidate partitions are the cuts of an average-linkage tree (k = 1 .. K - 1), plus the
  partition into singletons;
* a trial's silhouette compares its mean distance to its own cluster, a, with
  b = min(mean distance to the nearest other cluster, sqrt(1/2)) — sqrt(1/2) is the distance
  to an *uncorrelated* strategy, which is always a possible neighbour. That scores k = 1 (b is
  then sqrt(1/2)) and makes a group of uncorrelated trials no cluster at all;
* a cluster whose mean silhouette is below ``min_silhouette`` (Kaufman & Rousseeuw's
  "no substantial structure" bound 0.25) is dissolved into singletons: trials are merged only
  on evidence, so without structure every trial counts (the conservative side for the DSR);
* the partition with the highest mean silhouette wins (ties: more clusters).

Trials whose returns never vary (agents that never traded) form one trivial cluster, the
"cash" strategy, whose representative is flat; :meth:`Clusters.varying` leaves it out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

from scarline.stats import STD_EPSILON

UNCORRELATED = float(np.sqrt(0.5))
"""Correlation distance of two uncorrelated return series."""
MIN_SILHOUETTE = 0.25
"""Kaufman & Rousseeuw: a mean silhouette at or below 0.25 shows no substantial structure."""
FLAT_STD = STD_EPSILON
"""A return series whose std is at or below this does not vary (the Sharpe guard's)."""


@dataclass(frozen=True)
class Clusters:
    """A partition of K trials into ``n_clusters`` distinct strategies."""

    labels: np.ndarray  # int[K] in 0..n_clusters-1
    representatives: np.ndarray  # float64[T, n_clusters]: equal-weight average returns
    silhouette: float  # mean silhouette of the varying trials' partition (0: none found)
    flat_label: int | None  # the trivial cluster of trials that never varied, if any

    @property
    def n_clusters(self) -> int:
        return int(self.representatives.shape[1])

    @property
    def n_trials(self) -> int:
        return int(self.labels.size)

    @property
    def n_distinct(self) -> int:
        """Clusters of trials that varied: the distinct strategies (the flat one aside)."""
        return self.n_clusters - (self.flat_label is not None)

    @property
    def n_flat(self) -> int:
        """Trials that never varied."""
        return 0 if self.flat_label is None else int((self.labels == self.flat_label).sum())

    def varying(self) -> np.ndarray:
        """``[T, C']`` representatives without the trivial (flat) cluster."""
        keep = [c for c in range(self.n_clusters) if c != self.flat_label]
        return self.representatives[:, keep]


def correlation_distance(returns: np.ndarray) -> np.ndarray:
    """``[K, K]`` d = sqrt(0.5 (1 - rho)) of the columns of ``returns`` [T, K] (0 identical,
    sqrt(1/2) uncorrelated, 1 opposite); every column must vary."""
    x = np.asarray(returns, dtype=float)
    if x.ndim != 2 or x.shape[0] < 3:
        raise ValueError(f"returns must be [T >= 3, K], got shape {x.shape}")
    if np.any(x.std(axis=0) <= FLAT_STD):
        raise ValueError("a trial has no variation")
    rho = np.corrcoef(x, rowvar=False) if x.shape[1] > 1 else np.ones((1, 1))
    d = np.sqrt(np.clip(0.5 * (1.0 - rho), 0.0, 1.0))
    np.fill_diagonal(d, 0.0)
    return 0.5 * (d + d.T)


def silhouettes(dist: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per trial: (b - a) / max(a, b), a = mean distance to the rest of its cluster, b = the
    smaller of the mean distance to the nearest other cluster and sqrt(1/2); 0 for a
    singleton (Rousseeuw's convention)."""
    labels = np.asarray(labels)
    k = dist.shape[0]
    _, inv = np.unique(labels, return_inverse=True)
    order = np.argsort(inv, kind="stable")
    counts = np.bincount(inv)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    sums = np.add.reduceat(dist[:, order], starts, axis=1)  # [K, C] distance to each cluster
    own = counts[inv]
    a = sums[np.arange(k), inv] / np.maximum(own - 1, 1)
    means = sums / counts[None, :]
    means[np.arange(k), inv] = np.inf
    b = np.minimum(means.min(axis=1), UNCORRELATED)  # one cluster: b = sqrt(1/2)
    top = np.maximum(a, b)
    s = np.zeros(k)
    np.divide(b - a, top, out=s, where=top > 0)
    return np.where(own > 1, s, 0.0)


def _refined(dist: np.ndarray, labels: np.ndarray, min_silhouette: float) -> tuple:
    """Dissolve clusters without substantial structure; ``(labels, mean silhouette)``."""
    s = silhouettes(dist, labels)
    labels = labels.copy()
    fresh = int(labels.max()) + 1
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        if members.size > 1 and s[members].mean() < min_silhouette:
            labels[members] = np.arange(fresh, fresh + members.size)
            fresh += members.size
            s[members] = 0.0
    return labels, float(s.mean())


def partition(dist: np.ndarray, min_silhouette: float = MIN_SILHOUETTE) -> tuple:
    """Labels ``int[K]`` (0..C-1, in order of first appearance) and the mean silhouette of
    the best partition of the trials with correlation distances ``dist``."""
    k = dist.shape[0]
    best, score = np.arange(k), 0.0  # singletons: every trial its own strategy
    if k > 1:
        tree = linkage(squareform(dist, checks=False), method="average")
        for n in range(1, k):
            cut = fcluster(tree, n, criterion="maxclust")
            labels, mean = _refined(dist, cut, min_silhouette)
            fewer = np.unique(labels).size < np.unique(best).size
            if mean > score + 1e-12 or (abs(mean - score) <= 1e-12 and not fewer):
                best, score = labels, mean
    _, first = np.unique(best, return_index=True)
    rank = np.empty(first.size, dtype=np.int64)
    rank[np.argsort(first)] = np.arange(first.size)
    return rank[np.unique(best, return_inverse=True)[1]], score


def cluster_trials(returns: np.ndarray, min_silhouette: float = MIN_SILHOUETTE) -> Clusters:
    """Cluster the K trials of ``returns`` [T, K] into distinct strategies (see the module
    docstring); never-varying trials form one trivial cluster, labelled last."""
    x = np.asarray(returns, dtype=float)
    if x.ndim != 2 or x.shape[1] < 1:
        raise ValueError(f"returns must be [T, K >= 1], got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("returns contain NaN or inf")
    varying = x.std(axis=0) > FLAT_STD if x.shape[0] >= 3 else np.zeros(x.shape[1], bool)
    labels = np.zeros(x.shape[1], dtype=np.int64)
    n, score = 0, 0.0
    if varying.any():
        inner, score = partition(correlation_distance(x[:, varying]), min_silhouette)
        labels[varying] = inner
        n = int(inner.max()) + 1
    flat_label = None
    if not varying.all():
        flat_label = n
        labels[~varying] = n
        n += 1
    return Clusters(labels, representatives(x, labels), score, flat_label)


def representatives(returns: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``[T, C]`` each cluster's equal-weight average of its members' ``returns`` [T, K]
    (López de Prado's cluster return); ``labels`` int[K] in 0..C-1. The returns may cover
    other bars than the ones the trials were clustered on."""
    x = np.asarray(returns, dtype=float)
    n = int(labels.max()) + 1
    reps = np.zeros((x.shape[0], n))
    np.add.at(reps.T, labels, x.T)
    return reps / np.bincount(labels, minlength=n)[None, :]
