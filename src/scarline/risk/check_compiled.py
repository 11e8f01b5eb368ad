"""The pre-trade check compiled with numba: the same verdicts as :func:`check.evaluate`.

:func:`scarline.risk.check.evaluate` stays the reference. At N = 4096 agents it is ~100
small numpy calls per step; here one compiled pass does the same work row by row, and
returns a :class:`~scarline.risk.check.Verdicts` equal to the reference's in every array,
floats bit for bit (``tests/risk/test_check_compiled.py`` checks it on random batches).

Why rows can be checked agent by agent: the reference checks an agent's r-th intent in
round r, after its earlier ones are folded into the batch book, and every figure of that
book (lots approved per agent × instrument, the agent's gross, free cash and order count)
belongs to one agent. So checking each agent's rows in row order, with that agent's book
only, is the same computation; no state crosses agents.

Covered: kill switch, global halt, max drawdown, ladder halt / throttle / warn, the market
and sanity rules (no price, quote age, spread, price band), the order rate, every sizing
cap (position, notional, gross notional, cash), limit orders' lot cost, venue minimums and
several intents per agent. Falls back to the reference (:func:`try_evaluate` returns
``None``): microstructure filters on (``Limits.micro``, including the VPIN throttle), an
array of another dtype than the kernel's own, ids out of range or shapes that disagree
(the reference raises, or wraps a negative index), a qty outside ``1 .. 2**53`` (the
reference sizes a qty of 0 by a round-wide fast path, and near 2**63 the throttle's
float → int conversion is undefined in LLVM), fewer than :data:`MIN_ROWS` intents, or
``SCARLINE_RISK_JIT=0`` in the environment.

Exactness: no ``fastmath``; every float is computed from the same operands in the same
order as numpy does (int64 → float64 conversions, then one IEEE operation at a time), and
limits that the reference computes with Python's ``int / int`` are computed in Python
here too and passed in.
"""

from __future__ import annotations

import os
from typing import NamedTuple

import numpy as np
from numba import njit

from scarline.execution.types import CASH_SCALE, LIMIT, OrderBatch
from scarline.risk import codes
from scarline.risk.check import _IS_BREACH, LadderView, Verdicts
from scarline.risk.limits import Limits
from scarline.risk.rules import NO_CAP
from scarline.risk.types import RiskContext

ENABLED = os.environ.get("SCARLINE_RISK_JIT", "1") != "0"
"""``SCARLINE_RISK_JIT=0`` runs the Python reference only in :meth:`RiskEngine.check`
(verdicts are the same); the kernel's quiet path calls the compiled pass regardless, since
the rows it takes decide a backtest's WAL layout (``RiskEngine.compiled_inputs``)."""

MIN_ROWS = 1
"""Batches with fewer intents take the reference. The compiled call (its argument checks
and numba's dispatch included) already wins at one intent: in the N = 1 kernel bench a
check takes ~17 µs compiled against ~170 µs in the reference (~7 against ~150 µs in a
tight loop), so only the empty batch, which the reference returns at once, stays there."""

# Codes compiled into the kernels as constants. They are literals here because a numba
# cache is invalidated by edits to this file only; _check_codes() compares them with
# scarline.risk.codes at import, so a renumbering there fails loudly instead of silently.
_PASS, _WARN, _THROTTLE, _REJECT, _HALT = 0, 1, 2, 3, 4
_WARN_LEVEL, _THROTTLE_LEVEL, _HALT_LEVEL = 1, 2, 3
_NONE, _KILL_SWITCH, _GLOBAL_HALT, _MAX_DRAWDOWN, _LADDER_HALT = 0, 1, 2, 3, 4
_NO_PRICE, _QUOTE_AGE, _SPREAD, _PRICE_BAND, _ORDER_RATE = 5, 6, 7, 8, 9
_LADDER_THROTTLE, _MAX_POSITION, _MAX_NOTIONAL, _MAX_GROSS, _MIN_CASH = 10, 11, 12, 13, 14
_LADDER_WARN, _VENUE_MINIMUM = 15, 21
_LIMIT_ORDER = 1
_NO_CAP = 2305843009213693951  # rules.NO_CAP
_CASH_SCALE = 1e8  # float64(CASH_SCALE): the reference divides int64 arrays by it
_MAX_QTY = 2**53  # float64(qty) is exact, so the throttle's floor(qty × scale) is too

OK, UNSUPPORTED = 0, 1  # kernel status: verdicts, or "let the reference decide"


def _check_codes() -> None:
    """The literal codes above must be scarline.risk.codes' (see the comment there)."""
    compiled = {
        "outcomes": (_PASS, _WARN, _THROTTLE, _REJECT, _HALT),
        "levels": (_WARN_LEVEL, _THROTTLE_LEVEL, _HALT_LEVEL),
        "constants": (_LIMIT_ORDER, _NO_CAP, _CASH_SCALE),
    }
    actual = {
        "outcomes": (codes.PASS, codes.WARN, codes.THROTTLE, codes.REJECT, codes.HALT),
        "levels": (codes.WARN_LEVEL, codes.THROTTLE_LEVEL, codes.HALT_LEVEL),
        "constants": (LIMIT, NO_CAP, float(CASH_SCALE)),
    }
    rules = {
        "none": _NONE, "kill_switch": _KILL_SWITCH, "global_halt": _GLOBAL_HALT,
        "max_drawdown": _MAX_DRAWDOWN, "ladder_halt": _LADDER_HALT, "no_price": _NO_PRICE,
        "quote_age": _QUOTE_AGE, "spread": _SPREAD, "price_band": _PRICE_BAND,
        "order_rate": _ORDER_RATE, "ladder_throttle": _LADDER_THROTTLE,
        "max_position": _MAX_POSITION, "max_notional": _MAX_NOTIONAL,
        "max_gross_notional": _MAX_GROSS, "min_cash": _MIN_CASH,
        "ladder_warn": _LADDER_WARN, "venue_minimum": _VENUE_MINIMUM,
    }  # fmt: skip
    compiled["rules"] = tuple(rules.values())
    actual["rules"] = tuple(codes.RULE[name] for name in rules)
    stale = [key for key, want in compiled.items() if actual[key] != want]
    if stale:
        raise RuntimeError(f"check_compiled's {', '.join(stale)} codes differ from risk.codes")


_check_codes()

# --- the parameters of one check ----------------------------------------------------------


class _Params(NamedTuple):
    """The check's switches, limits and global ladder state, by name.

    The limits travel to the kernel as two small arrays (ints, then floats: ~30 scalar
    arguments would lengthen numba's per-call dispatch), made once per :class:`Limits`;
    the ladder state and the clock as five scalars. The kernel builds this tuple from
    them once per call, so the rules read named fields.
    """

    has_drawdown: bool
    has_quote_age: bool
    max_quote_age: int  # ns
    has_spread: bool
    has_band: bool
    has_orders: bool
    max_orders: int
    has_position: bool
    max_position: int  # lots
    has_notional: bool
    max_notional: int  # cash units
    has_gross: bool
    max_gross: int  # cash units
    has_cash: bool
    min_cash: int  # cash units
    has_venue: bool
    max_drawdown: float  # %
    max_spread: float  # bps
    band_pct: float
    throttle_scale: float
    notional_limit: float  # currency: max_notional / CASH_SCALE, as the reference has it
    gross_limit: float
    cash_limit: float
    killed: bool
    global_level: int
    global_value: float
    global_limit: float
    now_ts: int


def limit_vectors(lim: Limits) -> tuple[np.ndarray, np.ndarray] | None:
    """The limits' part of :class:`_Params` as ``(int64[16], float64[7])``; ``None`` when
    an integer limit does not fit int64 (the check is then left to the reference).

    A context rule (drawdown, quote age, spread) is on here when its limit is set; the
    kernel also needs its measure (a non-empty array), as :func:`check.evaluate` does.
    Money limits in currency are Python's ``int / CASH_SCALE``, as ``rules.py`` computes
    them (above 2**53 that is not ``float(int) / 1e8``).
    """

    def money(x: int | None) -> float:
        return 0.0 if x is None else x / CASH_SCALE

    ints = (
        lim.max_drawdown_pct is not None, lim.max_quote_age_ns is not None,
        lim.max_quote_age_ns or 0, lim.max_spread_bps is not None,
        lim.price_band_pct is not None, lim.max_orders is not None, lim.max_orders or 0,
        lim.max_position is not None, lim.max_position or 0, lim.max_notional is not None,
        lim.max_notional or 0, lim.max_gross is not None, lim.max_gross or 0,
        lim.min_cash is not None, lim.min_cash or 0, lim.venue_min is not None,
    )  # fmt: skip
    floats = (
        lim.max_drawdown_pct or 0.0, lim.max_spread_bps or 0.0, lim.price_band_pct or 0.0,
        lim.throttle_scale, money(lim.max_notional), money(lim.max_gross),
        money(lim.min_cash),
    )  # fmt: skip
    try:
        return np.array(ints, np.int64), np.array(floats, np.float64)
    except OverflowError:
        return None


@njit(cache=True, inline="always", error_model="numpy")
def _params(
    ip: np.ndarray, fp: np.ndarray, has_drawdown: bool, has_quote_age: bool, has_quotes: bool,
    killed: bool, global_level: int, global_value: float, global_limit: float, now_ts: int,
) -> _Params:  # fmt: skip
    """:class:`_Params` from the limits' vectors, which measures the context has, the
    ladder's global state and the clock."""
    return _Params(
        ip[0] != 0 and has_drawdown, ip[1] != 0 and has_quote_age, ip[2],
        ip[3] != 0 and has_quotes, ip[4] != 0, ip[5] != 0, ip[6], ip[7] != 0, ip[8],
        ip[9] != 0, ip[10], ip[11] != 0, ip[12], ip[13] != 0, ip[14], ip[15] != 0,
        fp[0], fp[1], fp[2], fp[3], fp[4], fp[5], fp[6],
        killed, global_level, global_value, global_limit, now_ts,
    )  # fmt: skip


# --- the rules, one row at a time -------------------------------------------------------------


@njit(cache=True, inline="always", error_model="numpy")
def _reduces(s: int, exposure: int, q: int) -> bool:
    """rules.reduces: the order only brings |exposure| towards zero (never through it)."""
    return s * exposure < 0 and q <= abs(exposure)


@njit(cache=True, inline="always", error_model="numpy")
def _ladder_refusal(
    p: _Params, own: int, own_value: float, own_limit: float, drawdown: float
) -> tuple[int, float, float]:
    """Rules 2-4 for an opening order (global halt, max drawdown, ladder halt): the rule
    that refuses it with value and limit, or ``_NONE``. ``not (x < y)`` mirrors the
    reference's ``~ok``, so a NaN refuses as it does there."""
    if p.global_level == _HALT_LEVEL:
        return _GLOBAL_HALT, p.global_value, p.global_limit
    if p.has_drawdown and not (drawdown < p.max_drawdown):
        return _MAX_DRAWDOWN, drawdown, p.max_drawdown
    if own == _HALT_LEVEL:
        return _LADDER_HALT, own_value, own_limit
    return _NONE, 0.0, 0.0


@njit(cache=True, inline="always", error_model="numpy")
def _spread_bps(bid: int, ask: int) -> float:
    """rules.spread's measure: bps of the mid, 0 without a two-sided quote."""
    if bid > 0 and ask > 0:
        mid = np.float64(bid + ask) / 2.0
        return np.float64(ask - bid) / mid * 1e4
    return 0.0


@njit(cache=True, inline="always", error_model="numpy")
def _band_pct(order_type: int, limit_price: int, last: int) -> float:
    """rules.price_band's measure: |limit − last| / last in percent; market orders 0."""
    if order_type == _LIMIT_ORDER and last > 0:
        return np.float64(abs(limit_price - last)) / np.float64(last) * 100.0
    return 0.0


@njit(cache=True, inline="always", error_model="numpy")
def _market_refusal(
    p: _Params, last: int, order_type: int, limit_price: int, quote_ts: int, bid: int, ask: int
) -> tuple[int, float, float]:
    """Rules 5-8 (every order): no price, quote age, spread, price band — the first that
    refuses, with value and limit, or ``_NONE``. ``quote_ts``, ``bid`` and ``ask`` are the
    order's instrument's (read only when their rule is on)."""
    if not (last > 0):
        return _NO_PRICE, np.float64(last), 0.0
    if p.has_quote_age:
        age = p.now_ts - quote_ts
        if not (age <= p.max_quote_age):
            return _QUOTE_AGE, np.float64(age), np.float64(p.max_quote_age)
    if p.has_spread:
        bps = _spread_bps(bid, ask)
        if not (bps <= p.max_spread):
            return _SPREAD, bps, p.max_spread
    if p.has_band:
        dev = _band_pct(order_type, limit_price, last)
        if not (dev <= p.band_pct):
            return _PRICE_BAND, dev, p.band_pct
    return _NONE, 0.0, 0.0


@njit(cache=True, inline="always", error_model="numpy")
def _cap_abs(s: int, exposure: int, bound: int) -> int:
    """rules._cap_abs: largest q ≥ 0 with |exposure + s·q| ≤ bound."""
    return max(bound - s * exposure, 0)


@njit(cache=True, inline="always", error_model="numpy")
def _size(
    p: _Params, s: int, q: int, e: int, held_abs: int, other_abs: int, lot_value: int,
    lot_cost: int, gross: int, free_cash: int, throttled: bool, trig_value: float,
    trig_limit: float,
) -> tuple[int, int, int, float, float]:  # fmt: skip
    """sizing.size for one opening row: ``(approved, outcome, rule, value, limit)``.

    The throttled request, then each enabled cap in the reference's order; a strictly
    smaller cap wins, so ties go to the earlier one (``argmin``). Values and limits are
    the reference's formulas (rules.position/notional/gross/cash) at the requested qty.
    """
    target = int(np.floor(q * p.throttle_scale)) if throttled else q
    best, rule, value, limit = target, _NONE, trig_value, trig_limit
    after = abs(e + s * q)
    if p.has_position:
        cap = _cap_abs(s, e, p.max_position)
        if cap < best:
            best, rule = cap, _MAX_POSITION
            value, limit = np.float64(after), np.float64(p.max_position)
    if p.has_notional:
        cap = _cap_abs(s, e, p.max_notional // max(lot_value, 1))
        if cap < best:
            best, rule = cap, _MAX_NOTIONAL
            value, limit = np.float64(after * lot_value) / _CASH_SCALE, p.notional_limit
    if p.has_gross:
        others = gross - held_abs * lot_value
        cap = _cap_abs(s, e, (p.max_gross - others) // max(lot_value, 1))
        if cap < best:
            best, rule = cap, _MAX_GROSS
            gross_after = others + max(after, other_abs) * lot_value
            value, limit = np.float64(gross_after) / _CASH_SCALE, p.gross_limit
    if p.has_cash:
        spend = q * lot_cost if s > 0 else 0
        cap = (free_cash - p.min_cash) // max(lot_cost, 1) if s > 0 else _NO_CAP
        cap = max(cap, 0)
        if cap < best:
            best, rule = cap, _MIN_CASH
            value, limit = np.float64(free_cash - spend) / _CASH_SCALE, p.cash_limit
    if rule == _NONE and target < q:
        rule = _LADDER_THROTTLE
    if best == 0:
        return best, _REJECT, rule, value, limit
    if best < q:
        return best, _THROTTLE, rule, value, limit
    return best, _PASS, _NONE, 0.0, 0.0


@njit(cache=True, inline="always", error_model="numpy")
def _below_venue_minimum(qty: int, lot_cost: int, min_qty: int, min_notional: int) -> bool:
    """check._below_venue_minimum for one row."""
    return qty > 0 and (qty < min_qty or qty * lot_cost < min_notional)


@njit(cache=True, inline="always", error_model="numpy")
def _check_row(
    p: _Params, opening: bool, s: int, q: int, exposure: int, up: int, dn: int, last: int,
    order_type: int, limit_price: int, lot_value: int, lot_cost: int, own: int,
    own_value: float, own_limit: float, drawdown: float, quote_ts: int, bid: int, ask: int,
    used: int, gross: int, free_cash: int, venue_qty: int, venue_notional: int,
) -> tuple[int, int, float, float, int]:  # fmt: skip
    """One row's ``(outcome, rule, value, limit, approved)``, in check.evaluate's order:
    kill switch; global halt, max drawdown, ladder halt (opening only); the market rules;
    the order rate; the sizing of opening orders and the venue's minimum; WARN on rows
    passed in full. ``exposure``/``up``/``dn`` include the agent's earlier approvals."""
    if p.killed:  # opening orders halt; reducing ones pass everything
        return (_HALT, _KILL_SWITCH, 0.0, 0.0, 0) if opening else (_PASS, _NONE, 0.0, 0.0, q)
    rule, value, limit = _NONE, 0.0, 0.0
    if opening:
        rule, value, limit = _ladder_refusal(p, own, own_value, own_limit, drawdown)
        if rule != _NONE:
            return _HALT, rule, value, limit, 0
    rule, value, limit = _market_refusal(p, last, order_type, limit_price, quote_ts, bid, ask)
    if rule != _NONE:
        return _REJECT, rule, value, limit, 0
    if p.has_orders and not (used + 1 <= p.max_orders):
        return _REJECT, _ORDER_RATE, np.float64(used + 1), np.float64(p.max_orders), 0
    eff = max(own, p.global_level)
    by_global = p.global_level >= own
    trig_value = p.global_value if by_global else own_value
    trig_limit = p.global_limit if by_global else own_limit
    outcome, approved = _PASS, q
    if opening:
        held_abs, other_abs = max(abs(up), abs(dn)), abs(dn) if s > 0 else abs(up)
        approved, outcome, rule, value, limit = _size(
            p, s, q, exposure, held_abs, other_abs, lot_value, lot_cost, gross, free_cash,
            eff == _THROTTLE_LEVEL, trig_value, trig_limit,
        )  # fmt: skip
        if p.has_venue and _below_venue_minimum(approved, lot_cost, venue_qty, venue_notional):
            value, limit = np.float64(approved * lot_cost), np.float64(venue_notional)
            outcome, rule, approved = _REJECT, _VENUE_MINIMUM, 0
    if approved == q and eff == _WARN_LEVEL:  # logged only, on rows that passed in full
        return _WARN, _LADDER_WARN, trig_value, trig_limit, approved
    return outcome, rule, value, limit, approved


# --- the batch book of one agent ---------------------------------------------------------------


@njit(cache=True, inline="always", error_model="numpy")
def _bounds(
    position: np.ndarray, pending: np.ndarray, sells: np.ndarray, a: int, j: int
) -> tuple[int, int]:
    """batch.working_bounds of cell (a, j): the exposure if only its working buys fill, and
    if only its working sells do; both the net when ``sells`` is empty (schema 13)."""
    if sells.shape[0] == 0:
        net = position[a, j] + pending[a, j]
        return net, net
    return position[a, j] + pending[a, j] + sells[a, j], position[a, j] - sells[a, j]


@njit(cache=True, inline="always", error_model="numpy")
def _agent_gross(
    position: np.ndarray, pending: np.ndarray, sells: np.ndarray, a: int, lot_values: np.ndarray
) -> int:
    """BatchBook.gross of agent ``a``: Σ max(|up|, |dn|) × lot value (cash units)."""
    total = 0
    for j in range(lot_values.shape[0]):
        up, dn = _bounds(position, pending, sells, a, j)
        total += max(abs(up), abs(dn)) * lot_values[j]
    return total


@njit(cache=True, inline="always", error_model="numpy")
def _agent_free_cash(
    cash: np.ndarray, pending: np.ndarray, sells: np.ndarray, a: int, lot_values: np.ndarray
) -> int:
    """BatchBook.free_cash of agent ``a``: cash − the working buys at the last price."""
    committed = 0
    for j in range(lot_values.shape[0]):
        bought = pending[a, j] if sells.shape[0] == 0 else pending[a, j] + sells[a, j]
        committed += max(bought, 0) * lot_values[j]
    return cash[a] - committed


@njit(cache=True, inline="always", error_model="numpy")
def _is_sorted(agent: np.ndarray) -> bool:
    """Rows in agent order (a loop: numba compiles no ``all(generator)``)."""
    for i in range(1, agent.shape[0]):  # noqa: SIM110
        if agent[i] < agent[i - 1]:
            return False
    return True


@njit(cache=True, error_model="numpy")
def _by_agent(agent: np.ndarray, n: int) -> np.ndarray:
    """Row order grouping each agent's rows, in row order within an agent: the identity
    when the rows are sorted by agent (the kernel's are), else a counting sort (a stable
    argsort; plain loops compile in a fraction of numba's mergesort). Agents must be in
    ``0 .. n-1``."""
    k = agent.shape[0]
    order = np.arange(k)
    if _is_sorted(agent):
        return order
    start = np.zeros(n + 1, np.int64)  # start[a]: the first slot of agent a's rows
    for i in range(k):
        start[agent[i] + 1] += 1
    for a in range(n):
        start[a + 1] += start[a]
    for i in range(k):
        order[start[agent[i]]] = i
        start[agent[i]] += 1
    return order


# --- the kernel ----------------------------------------------------------------------------------


@njit(cache=True, error_model="numpy")
def _valid(agent: np.ndarray, instrument: np.ndarray, qty: np.ndarray, n: int, m: int) -> bool:
    """Rows the kernel may index without bounds checks and size exactly; others are left
    to the reference (which raises, or wraps a negative index, as numpy does)."""
    for i in range(agent.shape[0]):
        if not (0 <= agent[i] < n and 0 <= instrument[i] < m and 0 < qty[i] <= _MAX_QTY):
            return False
    return True


@njit(cache=True, error_model="numpy")
def _shapes_agree(
    n: int, m: int, pending: np.ndarray, sells: np.ndarray, cash: np.ndarray,
    last_price: np.ndarray, unit_values: np.ndarray, bid: np.ndarray, ask: np.ndarray,
    quote_ts: np.ndarray, level: np.ndarray, value: np.ndarray, limit: np.ndarray,
    drawdown: np.ndarray, orders_used: np.ndarray, venue_qty: np.ndarray,
    venue_notional: np.ndarray,
) -> bool:  # fmt: skip
    """Every per-agent array has N rows and every per-instrument array M (an absent
    measure or venue table, or the working sells of a schema 13 check, is empty)."""
    ok = pending.shape[0] == n and pending.shape[1] == m
    ok &= sells.shape[0] == 0 or (sells.shape[0] == n and sells.shape[1] == m)
    ok &= cash.shape[0] == n and level.shape[0] == n and orders_used.shape[0] == n
    ok &= value.shape[0] == n and limit.shape[0] == n
    ok &= drawdown.shape[0] == 0 or drawdown.shape[0] == n
    ok &= last_price.shape[0] == m and unit_values.shape[0] == m
    ok &= bid.shape[0] == 0 or bid.shape[0] == m
    ok &= ask.shape[0] == 0 or ask.shape[0] == m
    ok &= quote_ts.shape[0] == 0 or quote_ts.shape[0] == m
    ok &= venue_qty.shape[0] == 0 or venue_qty.shape[0] == m
    return ok and venue_notional.shape[0] == venue_qty.shape[0]


@njit(cache=True, error_model="numpy")
def _kernel(
    agent: np.ndarray, instrument: np.ndarray, side: np.ndarray, qty: np.ndarray,
    order_type: np.ndarray, limit_price: np.ndarray,
    position: np.ndarray, pending: np.ndarray, sells: np.ndarray, cash: np.ndarray,
    last_price: np.ndarray, unit_values: np.ndarray, bid: np.ndarray, ask: np.ndarray,
    quote_ts: np.ndarray, level: np.ndarray, value: np.ndarray, limit: np.ndarray,
    drawdown: np.ndarray, orders_used: np.ndarray, venue_qty: np.ndarray,
    venue_notional: np.ndarray,
    is_breach: np.ndarray, ip: np.ndarray, fp: np.ndarray, killed: bool, global_level: int,
    global_value: float, global_limit: float, now_ts: int,
    out_outcome: np.ndarray, out_rule: np.ndarray, out_value: np.ndarray,
    out_limit: np.ndarray, out_approved: np.ndarray, out_breach: np.ndarray,
) -> int:  # fmt: skip
    """check.evaluate agent by agent, into the ``out_*`` arrays (every row is written);
    ``UNSUPPORTED`` (outputs undefined) when the reference must decide.

    An absent context measure (bid, ask, quote_ts, drawdown) or venue table is an empty
    array; so are the working sells ``sells`` of a check that nets working orders (schema
    13 and before). Each agent's book — lots approved by instrument, gross, free cash, orders — is
    set up at its first row and folded forward row by row, as BatchBook does by rounds.
    """
    n, m = position.shape[0], position.shape[1]
    shapes_agree = _shapes_agree(
        n, m, pending, sells, cash, last_price, unit_values, bid, ask, quote_ts, level, value,
        limit, drawdown, orders_used, venue_qty, venue_notional,
    )  # fmt: skip
    if not (shapes_agree and _valid(agent, instrument, qty, n, m)):
        return UNSUPPORTED
    p = _params(
        ip, fp, drawdown.shape[0] > 0, quote_ts.shape[0] > 0,
        bid.shape[0] > 0 and ask.shape[0] > 0, killed, global_level, global_value,
        global_limit, now_ts,
    )  # fmt: skip
    lot_values = last_price * unit_values
    bought = np.zeros(m, np.int64)  # the current agent's approved lots by instrument
    sold = np.zeros(m, np.int64)
    order = _by_agent(agent, n)
    k = agent.shape[0]
    gross = free_cash = used = 0
    for pos in range(k):
        i = order[pos]
        a, mi = agent[i], instrument[i]
        if pos == 0 or agent[order[pos - 1]] != a:  # the agent's first row: its book
            gross = _agent_gross(position, pending, sells, a, lot_values) if p.has_gross else 0
            free_cash = _agent_free_cash(cash, pending, sells, a, lot_values) if p.has_cash else 0
            used = orders_used[a]
        s, q = int(side[i]), qty[i]
        lot_value = lot_values[mi]
        is_limit = order_type[i] == _LIMIT_ORDER and limit_price[i] > 0
        lot_cost = (limit_price[i] if is_limit else last_price[mi]) * unit_values[mi]
        base_up, base_dn = _bounds(position, pending, sells, a, mi)
        up, dn = base_up + bought[mi], base_dn - sold[mi]
        exposure = up if s > 0 else dn
        outcome, rule, val, lim, approved = _check_row(
            p, not _reduces(s, exposure, q), s, q, exposure, up, dn, last_price[mi],
            order_type[i], limit_price[i], lot_value, lot_cost, int(level[a]),
            value[a], limit[a], drawdown[a] if p.has_drawdown else 0.0,
            quote_ts[mi] if p.has_quote_age else 0, bid[mi] if p.has_spread else 0,
            ask[mi] if p.has_spread else 0, used, gross, free_cash,
            venue_qty[mi] if p.has_venue else 0, venue_notional[mi] if p.has_venue else 0,
        )  # fmt: skip
        out_outcome[i], out_rule[i], out_value[i], out_limit[i] = outcome, rule, val, lim
        out_approved[i] = approved
        out_breach[i] = outcome in (_REJECT, _THROTTLE) and is_breach[rule]

        # fold the row into the agent's book (BatchBook.commit)
        old_abs = max(abs(up), abs(dn))
        if s > 0:
            bought[mi] += approved
            free_cash -= approved * lot_cost
        else:
            sold[mi] += approved
        gross += (max(abs(base_up + bought[mi]), abs(base_dn - sold[mi])) - old_abs) * lot_value
        used += approved > 0
        if pos == k - 1 or agent[order[pos + 1]] != a:  # the agent's last row: clear its lots
            for r in range(pos, -1, -1):
                if agent[order[r]] != a:
                    break
                bought[instrument[order[r]]] = sold[instrument[order[r]]] = 0
    return OK


# --- dispatch --------------------------------------------------------------------------------

_I64, _I8, _F8 = np.dtype(np.int64), np.dtype(np.int8), np.dtype(np.float64)
_NO_INT = np.zeros(0, np.int64)  # an absent measure or venue table
_NO_FLOAT = np.zeros(0, np.float64)
_NO_CELLS = np.zeros((0, 0), np.int64)  # no working sells: a check that nets (schema 13)


def _dtypes_match(lim: Limits, intents: OrderBatch, ctx: RiskContext, view: LadderView) -> bool:
    """The kernel's arrays have the kernel's dtypes (another dtype would compile another
    specialization whose integer arithmetic is not the reference's)."""
    i, venue = intents, lim.venue_min
    if not (
        i.agent.dtype == _I64 and i.instrument.dtype == _I64 and i.side.dtype == _I8
        and i.qty.dtype == _I64 and i.order_type.dtype == _I8 and i.limit_price.dtype == _I64
        and ctx.position.dtype == _I64 and ctx.pending.dtype == _I64
        and ctx.position.ndim == 2 and ctx.pending.ndim == 2
        and (ctx.pending_sells is None
             or (ctx.pending_sells.dtype == _I64 and ctx.pending_sells.ndim == 2))
        and ctx.cash.dtype == _I64 and ctx.last_price.dtype == _I64
        and view.level.dtype == _I8 and view.value.dtype == _F8 and view.limit.dtype == _F8
        and view.orders_used.dtype == _I64 and lim.unit_values.dtype == _I64
    ):  # fmt: skip
        return False
    optional = (
        (ctx.bid, _I64), (ctx.ask, _I64), (ctx.quote_ts, _I64), (view.drawdown, _F8),
        (None if venue is None else venue.qty, _I64),
        (None if venue is None else venue.notional, _I64),
    )  # fmt: skip
    return all(x is None or x.dtype == want for x, want in optional)


def covers(lim: Limits, intents: OrderBatch, ctx: RiskContext, view: LadderView) -> bool:
    """The compiled path implements this check's configuration and input types."""
    return lim.micro is None and _dtypes_match(lim, intents, ctx, view)


def try_evaluate(
    lim: Limits,
    intents: OrderBatch,
    ctx: RiskContext,
    view: LadderView,
    vectors: tuple[np.ndarray, np.ndarray] | None = None,
) -> Verdicts | None:
    """The compiled check's verdicts, or ``None`` where :func:`check.evaluate` must decide
    (outside the covered subset, see the module docstring; the reference's verdicts are
    the same wherever both run). ``vectors``: :func:`limit_vectors` of ``lim``, which an
    engine makes once (its limits never change); made here when not given."""
    k = len(intents)
    if not ENABLED or k < MIN_ROWS or not covers(lim, intents, ctx, view):
        return None
    vectors = vectors if vectors is not None else limit_vectors(lim)
    if vectors is None:
        return None
    v = Verdicts(
        np.empty(k, np.int8), np.empty(k, np.int16), np.empty(k, np.float64),
        np.empty(k, np.float64), np.empty(k, np.int64), np.empty(k, bool),
    )  # fmt: skip
    i, venue = intents, lim.venue_min
    status = _kernel(
        i.agent, i.instrument, i.side, i.qty, i.order_type, i.limit_price,
        ctx.position, ctx.pending, _NO_CELLS if ctx.pending_sells is None else ctx.pending_sells,
        ctx.cash, ctx.last_price, lim.unit_values,
        _NO_INT if ctx.bid is None else ctx.bid, _NO_INT if ctx.ask is None else ctx.ask,
        _NO_INT if ctx.quote_ts is None else ctx.quote_ts,
        view.level, view.value, view.limit,
        _NO_FLOAT if view.drawdown is None else view.drawdown, view.orders_used,
        _NO_INT if venue is None else venue.qty, _NO_INT if venue is None else venue.notional,
        _IS_BREACH, *vectors,
        # plain Python scalars: a numpy scalar type would compile another specialization
        bool(view.killed), int(view.global_level), float(view.global_value),
        float(view.global_limit), int(ctx.now_ts),
        v.outcome, v.rule, v.value, v.limit, v.approved, v.breach,
    )  # fmt: skip
    return v if status == OK else None
