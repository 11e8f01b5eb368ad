"""Agents grouped by strategy kind: the comparison a reader wants before any single agent.

Medians, not means, because one ruined or lucky agent should not speak for its group. Every
figure is net of fees and slippage (it comes from marked equity). The in-sample /
out-of-sample columns use the run's split (NaN without one).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scarline.report.metrics import AgentMetrics


@dataclass(frozen=True)
class StrategyRow:
    kind: str
    agents: int
    median_return: float
    median_is_return: float
    median_oos_return: float
    median_oos_sharpe: float
    median_sharpe: float
    median_max_drawdown: float
    fees: float  # the group's total, currency
    dead: int


def finite_median(values: np.ndarray) -> float:
    """Median of the finite values (NaN: not alive or no split); NaN when there are none."""
    finite = values[np.isfinite(values)]
    return float(np.median(finite)) if finite.size else float("nan")


def strategy_rows(metrics: AgentMetrics, kinds: list[str]) -> list[StrategyRow]:
    """One row per kind, in order of first appearance (the config's group order)."""
    kind_of = np.asarray(kinds)
    rows = []
    for kind in dict.fromkeys(kinds):
        pick = kind_of == kind
        rows.append(
            StrategyRow(
                kind=kind,
                agents=int(pick.sum()),
                median_return=finite_median(metrics.total_return[pick]),
                median_is_return=finite_median(metrics.is_return[pick]),
                median_oos_return=finite_median(metrics.oos_return[pick]),
                median_oos_sharpe=finite_median(metrics.oos_sharpe[pick]),
                median_sharpe=finite_median(metrics.sharpe[pick]),
                median_max_drawdown=finite_median(metrics.max_drawdown[pick]),
                fees=float(metrics.fees[pick].sum()),
                dead=int((metrics.died_at[pick] >= 0).sum()),
            )
        )
    return rows
