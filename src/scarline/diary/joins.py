"""Joins of the WAL scan: each decision cell's order intents with their risk verdicts and
fills, and its ex-post outcome from the carried-forward closes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scarline.diary.scan import Scan


def carried_closes(bars: dict[str, np.ndarray], n_steps: int, m: int) -> np.ndarray:
    """``float64[T, M]`` closes in ticks, carried forward over missing bars (NaN before any)."""
    close = np.full((n_steps, m), np.nan)
    step, inst = bars["step"], bars["inst"]
    ok = (step < n_steps) & (inst < m)
    close[step[ok], inst[ok]] = bars["close"][ok]
    seen = np.where(np.isfinite(close), np.arange(n_steps)[:, None], 0)
    last = np.maximum.accumulate(seen, axis=0)
    filled = close[last, np.arange(m)[None, :]]
    filled[~np.maximum.accumulate(np.isfinite(close), axis=0)] = np.nan
    return filled


def outcome_returns(
    closes: np.ndarray, step: np.ndarray, inst: np.ndarray, direction: np.ndarray, h: int
) -> tuple[np.ndarray, np.ndarray]:
    """Signed log return from the close of ``step`` to that of ``step + h``; (values, valid)."""
    n_steps = closes.shape[0]
    later = step + h
    inside = (later < n_steps) & (inst < closes.shape[1])
    c0 = np.full(step.shape, np.nan)
    c1 = np.full(step.shape, np.nan)
    c0[inside] = closes[step[inside], inst[inside]]
    c1[inside] = closes[later[inside], inst[inside]]
    with np.errstate(divide="ignore", invalid="ignore"):
        ret = np.log(c1 / c0)
    valid = np.isfinite(ret)
    signed = np.where(direction == 0, 0.0, np.sign(direction) * ret)
    return np.where(valid, signed, 0.0), valid


def lookup(keys: np.ndarray, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Position of each query in sorted unique ``keys`` and whether it is there."""
    if keys.size == 0:
        return np.zeros(query.shape, dtype=np.int64), np.zeros(query.shape, dtype=bool)
    pos = np.minimum(np.searchsorted(keys, query), keys.size - 1)
    return pos, keys[pos] == query


@dataclass(frozen=True, eq=False)
class CellOrders:
    """The order intents of each (step, agent, instrument) cell that had any, by sorted
    cell ``key``: a target that crosses zero gives two intents (reduce, then open)."""

    key: np.ndarray
    order_id: np.ndarray  # the cell's first order id
    count: np.ndarray
    requested: np.ndarray
    approved: np.ndarray
    outcome: np.ndarray  # global outcome code of the most severe verdict
    rule: np.ndarray  # global rule code of that verdict
    filled: np.ndarray  # lots filled over the run, all the cell's orders
    notional: np.ndarray  # sum of fill price (ticks) x lots


def cell_orders(s: Scan, n_agents: int, m: int) -> CellOrders:
    r = s.risk
    oid = r["order_id"]
    step, agent, inst = (r[k].astype(np.int64) for k in ("step", "agent", "inst"))
    raw_key = (step * n_agents + agent) * m + inst
    del step, agent, inst
    order = np.lexsort((oid, r["severity"], raw_key))  # by cell, the most severe verdict last
    key = raw_key[order]
    cells, first = np.unique(key, return_index=True)
    worst = order[np.r_[first[1:], key.size] - 1] if first.size else order

    def total(values: np.ndarray) -> np.ndarray:
        return np.add.reduceat(values[order], first) if first.size else values[:0]

    # fills of every order, summed per cell (an order's fills may come over several steps)
    f = s.fills
    by_id = np.argsort(oid, kind="stable")
    fpos, known = lookup(oid[by_id], f["order_id"])
    cell = np.searchsorted(cells, raw_key[by_id[fpos[known]]]) if oid.size else fpos[known]
    filled = np.bincount(cell, weights=f["qty"][known], minlength=cells.size)
    notional = np.bincount(cell, weights=(f["qty"] * f["price"])[known], minlength=cells.size)
    return CellOrders(
        key=cells,
        order_id=np.minimum.reduceat(oid[order], first) if first.size else oid[:0],
        count=np.diff(np.r_[first, key.size]),
        requested=total(r["requested"]),
        approved=total(r["approved"]),
        outcome=r["outcome"][worst].astype(np.int64),
        rule=r["rule"][worst].astype(np.int64),
        filled=np.rint(filled).astype(np.int64),  # exact: lot sums stay far below 2**53
        notional=notional,
    )
