"""Which agents a table or a plot shows when there are too many to show them all.

Always the best by return, plus the baselines — the benchmark and the placebo every
agent must beat — so a reader never sees winners without their yardstick. Baselines are
taken in agent order, not by return, so the yardstick shown is not a lucky pick.
"""

from __future__ import annotations

import re

import numpy as np

from scarline.report.metrics import AgentMetrics

BASELINE_FAMILIES: tuple[str, ...] = ("buy-and-hold", "random-entry")
"""Policy families (the label before any ``(`` or ``#``) shown beside the winners."""

_FAMILY_END = re.compile(r"[(#]")


def policy_family(policy: str) -> str:
    """``"sma(10,30)"`` → ``"sma"``; ``"random-entry#3"`` → ``"random-entry"``."""
    return _FAMILY_END.split(policy, maxsplit=1)[0].strip()


def baseline_mask(policies: list[str]) -> np.ndarray:
    """``bool[N]``: True for agents whose policy family is in :data:`BASELINE_FAMILIES`."""
    return np.array([policy_family(p) in BASELINE_FAMILIES for p in policies], dtype=bool)


def select_agents(
    metrics: AgentMetrics, top: int, max_baselines: int
) -> tuple[np.ndarray, np.ndarray]:
    """Columns to show, best return first, and a ``bool`` mask of which of them are baselines.

    The ``top`` best agents plus up to ``max_baselines`` baselines that are not among them.
    """
    order = metrics.ranking()
    chosen = order[:top]
    base = baseline_mask(metrics.policies)
    extra = np.flatnonzero(base)
    extra = extra[~np.isin(extra, chosen)][:max_baselines]
    picked = np.isin(order, np.concatenate([chosen, extra]))
    columns = order[picked]
    return columns, base[columns]
