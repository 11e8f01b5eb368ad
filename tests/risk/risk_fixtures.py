"""Builders for risk tests: one instrument unit = tick 0.01 × lot 1 (:data:`UV` cash units)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from scarline.execution.types import CASH_SCALE, LIMIT, MARKET, OrderBatch, unit_values
from scarline.risk import RULES, RiskConfig, RiskContext, RiskDecision, RiskEngine
from scarline.risk.codes import OUTCOMES

UV = int(unit_values(["0.01"], ["1"])[0])  # cash units per lot per tick (tick 0.01, lot 1)
PRICE = 10_000  # ticks: 100.00 per lot


def money(currency: float) -> int:
    return round(currency * CASH_SCALE)


def intents(
    agent: Sequence[int],
    side: Sequence[int],
    qty: Sequence[int],
    *,
    instrument: Sequence[int] | None = None,
    limit_price: Sequence[int] | None = None,
    first_id: int = 0,
    step: int = 0,
) -> OrderBatch:
    k = len(agent)
    lp = np.zeros(k, np.int64) if limit_price is None else np.asarray(limit_price, np.int64)
    return OrderBatch(
        order_id=np.arange(first_id, first_id + k, dtype=np.int64),
        agent=np.asarray(agent, np.int64),
        instrument=np.zeros(k, np.int64)
        if instrument is None
        else np.asarray(instrument, np.int64),
        side=np.asarray(side, np.int8),
        qty=np.asarray(qty, np.int64),
        order_type=np.where(lp > 0, LIMIT, MARKET).astype(np.int8),
        limit_price=lp,
        decision_step=np.full(k, step, np.int64),
        reducing=np.zeros(k, bool),
    )


def context(
    n: int = 2,
    m: int = 1,
    *,
    position: Sequence[Sequence[int]] | np.ndarray | None = None,
    pending: Sequence[Sequence[int]] | np.ndarray | None = None,
    cash: float = 1_000_000.0,
    equity: Sequence[int] | np.ndarray | None = None,
    last: Sequence[int] | None = None,
    **quotes: object,
) -> RiskContext:
    zeros = np.zeros((n, m), np.int64)
    return RiskContext(
        position=zeros.copy() if position is None else np.asarray(position, np.int64),
        pending=zeros.copy() if pending is None else np.asarray(pending, np.int64),
        cash=np.full(n, money(cash), np.int64),
        equity=np.full(n, money(cash), np.int64)
        if equity is None
        else np.asarray(equity, np.int64),
        last_price=np.full(m, PRICE, np.int64) if last is None else np.asarray(last, np.int64),
        **quotes,  # type: ignore[arg-type]
    )


def engine(n: int = 2, m: int = 1, **cfg: object) -> RiskEngine:
    return RiskEngine(RiskConfig(**cfg), n, np.full(m, UV, np.int64))  # type: ignore[arg-type]


def rules_of(d: RiskDecision) -> list[str]:
    return [RULES[c] for c in d.rule]


def outcomes_of(d: RiskDecision) -> list[str]:
    return [OUTCOMES[c] for c in d.outcome]
