"""The headline per-agent table as text cells, shared by the HTML and the terminal.

One definition of columns and number formats, so the two renderings cannot disagree.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from scarline.report.metrics import AgentMetrics
from scarline.report.selection import select_agents

MAX_BASELINE_ROWS = 10


def _num(fmt: str) -> Callable[[float], str]:
    return lambda x: "—" if not math.isfinite(x) else format(x, fmt)


def percent(signed: bool) -> Callable[[float], str]:
    fmt = "+.2f" if signed else ".2f"
    return lambda x: "—" if not math.isfinite(x) else f"{x * 100:{fmt}} %"


def drawdown_percent(x: float) -> str:
    """A drawdown kept as a positive fraction (``run --json``'s ``max_drawdown``, 0.25)
    shown as the loss it is, ``-25.00 %``: the sign ``scarline stats`` and the tearsheet
    print, so two tables of one report cannot seem to disagree."""
    if not math.isfinite(x):
        return "—"
    return "0.00 %" if x == 0 else f"{-x * 100:.2f} %"


@dataclass(frozen=True)
class Column:
    header: str
    field: str  # AgentMetrics attribute
    fmt: Callable[[float], str]
    numeric: bool = True  # right-aligned


COLUMNS: tuple[Column, ...] = (
    Column("agent", "agent_ids", str),
    Column("policy", "policies", str, numeric=False),
    Column("final equity", "final_equity", _num(",.2f")),
    Column("return", "total_return", percent(signed=True)),
    Column("in-sample", "is_return", percent(signed=True)),
    Column("out-of-sample", "oos_return", percent(signed=True)),
    Column("sharpe", "sharpe", _num(".2f")),
    Column("max drawdown", "max_drawdown", drawdown_percent),
    Column("turnover", "turnover", _num(".2f")),
    Column("fees", "fees", _num(",.2f")),
    Column("slippage", "slippage", _num(",.2f")),
    Column("fills", "trades", _num(",d")),  # fills, not the round trips `stats` counts
    Column("scars", "scars", _num(",d")),
    Column("trust", "trust", _num(".2f")),
    Column("died at", "died_at", lambda d: "—" if d < 0 else f"step {d:,d}"),
)
TERMINAL_FIELDS = (
    "scars",
    "died_at",
    "agent_ids",
    "policies",
    "total_return",
    "is_return",
    "oos_return",
    "sharpe",
    "max_drawdown",
    "turnover",
    "fees",
    "trades",
)


@dataclass(frozen=True)
class Headline:
    """Rows sorted by return; ``rank`` is the agent's rank among all N (1 = best)."""

    columns: tuple[Column, ...]
    ranks: list[int]
    rows: list[list[str]]
    baseline: list[bool]
    total: int
    omitted: int
    caption: str


def headline(
    metrics: AgentMetrics,
    limit: int,
    columns: tuple[Column, ...] = COLUMNS,
    max_baselines: int = MAX_BASELINE_ROWS,
) -> Headline:
    """The ``limit`` best agents by return plus baselines, formatted, with an omission note."""
    picked, is_base = select_agents(metrics, limit, max_baselines)
    total, shown = len(metrics), len(picked)
    rank_of = np.empty(total, dtype=np.int64)
    rank_of[metrics.ranking()] = np.arange(1, total + 1)
    values = [getattr(metrics, c.field) for c in columns]
    rows = [[c.fmt(v[col]) for c, v in zip(columns, values, strict=True)] for col in picked]
    n_base = shown - min(limit, total)
    if shown < total:
        extra = f" + {n_base} baseline{'s' if n_base != 1 else ''}" if n_base else ""
        caption = (
            f"{shown:,} of {total:,} agents shown (top {min(limit, total)} by return{extra}); "
            f"{total - shown:,} omitted"
        )
    else:
        caption = f"all {total:,} agent{'s' if total != 1 else ''}, sorted by return"
    return Headline(
        columns=columns,
        ranks=rank_of[picked].tolist(),
        rows=rows,
        baseline=is_base.tolist(),
        total=total,
        omitted=total - shown,
        caption=caption,
    )


def terminal_columns() -> tuple[Column, ...]:
    return tuple(c for c in COLUMNS if c.field in TERMINAL_FIELDS)
