"""Sizing of opening orders: the largest qty every scaling rule and the ladder allow.

The ladder's THROTTLE scale applies first (so a throttled agent breaches less), then each
enabled cap — position, notional, gross notional, cash; the smallest wins and names the
binding rule, with its value and limit measured at the requested qty. A cap of zero is a
reject; a smaller qty is a throttle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from scarline.risk import rules
from scarline.risk.codes import PASS, REJECT, RULE, THROTTLE
from scarline.risk.limits import Limits


@dataclass(frozen=True, eq=False)
class Opening:
    """The O opening rows of a round, as the caps need them."""

    side: np.ndarray  # int64[O]
    qty: np.ndarray  # int64[O] requested
    exposure: np.ndarray  # int64[O] worst-case exposure in the order's direction
    held_abs: np.ndarray  # int64[O] lots the key adds to the agent's gross now
    other_abs: np.ndarray  # int64[O] |worst-case exposure| in the other direction
    lot_value: np.ndarray  # int64[O] cash units per lot at the last price
    lot_cost: np.ndarray  # int64[O] cash units per lot a buy may pay
    gross: np.ndarray | None  # int64[O] the agent's gross, cash units
    free_cash: np.ndarray | None  # int64[O] the agent's free cash, cash units
    throttled: np.ndarray  # bool[O] effective ladder level is THROTTLE
    trig_value: np.ndarray  # float64[O] the ladder trigger (for ladder_throttle)
    trig_limit: np.ndarray


class Sized(NamedTuple):
    approved: np.ndarray  # int64[O]
    outcome: np.ndarray  # int8[O]: PASS, THROTTLE or REJECT
    rule: np.ndarray  # int16[O]
    value: np.ndarray  # float64[O]
    limit: np.ndarray  # float64[O]


class _Cap(NamedTuple):
    rule: int
    cap: np.ndarray
    value: np.ndarray
    limit: np.ndarray


def _caps(lim: Limits, o: Opening) -> list[_Cap]:
    s, q, e = o.side, o.qty, o.exposure
    found: list[tuple[int, rules.Verdict]] = []
    if lim.max_position is not None:
        found.append((RULE["max_position"], rules.position(s, e, q, lim.max_position)))
    if lim.max_notional is not None:
        found.append((RULE["max_notional"], rules.notional(s, e, q, o.lot_value, lim.max_notional)))
    if lim.max_gross is not None and o.gross is not None:
        verdict = rules.gross(s, e, q, o.lot_value, o.gross, o.held_abs, o.other_abs, lim.max_gross)
        found.append((RULE["max_gross_notional"], verdict))
    if lim.min_cash is not None and o.free_cash is not None:
        found.append((RULE["min_cash"], rules.cash(s, q, o.lot_cost, o.free_cash, lim.min_cash)))
    return [_Cap(code, v.cap, v.value, v.limit) for code, v in found if v.cap is not None]


def size(lim: Limits, o: Opening) -> Sized:
    """Approved qty, outcome and binding rule (with value and limit) of each opening row."""
    q = o.qty
    n = len(q)
    target = np.where(o.throttled, np.floor(q * lim.throttle_scale).astype(np.int64), q)
    caps = _caps(lim, o)
    if not caps:  # the fast path of a plain backtest: at most the ladder's throttle binds
        if not o.throttled.any():
            zero = np.zeros(n)
            return Sized(q, np.full(n, PASS, np.int8), np.zeros(n, np.int16), zero, zero)
        cut = target < q
        outcome = np.where(target == 0, REJECT, np.where(cut, THROTTLE, PASS)).astype(np.int8)
        rule = np.where(cut, RULE["ladder_throttle"], RULE["none"]).astype(np.int16)
        value, limit = np.where(cut, o.trig_value, 0.0), np.where(cut, o.trig_limit, 0.0)
        return Sized(target, outcome, rule, value, limit)
    stacked = np.vstack([target] + [c.cap for c in caps])
    best = stacked.argmin(axis=0)  # ties go to the first row: the (throttled) request
    col = np.arange(n)
    approved = stacked[best, col]
    rule = np.array([RULE["none"]] + [c.rule for c in caps], dtype=np.int16)[best]
    rule[(best == 0) & (target < q)] = RULE["ladder_throttle"]
    value = np.vstack([o.trig_value] + [c.value for c in caps])[best, col]
    limit = np.vstack([o.trig_limit] + [c.limit for c in caps])[best, col]
    outcome = np.where(approved == 0, REJECT, np.where(approved < q, THROTTLE, PASS))
    passed = outcome == PASS
    rule[passed], value[passed], limit[passed] = RULE["none"], 0.0, 0.0
    return Sized(approved, outcome.astype(np.int8), rule, value, limit)
