"""The pre-trade pipeline: K intents in, a verdict per intent out, no loop over agents.

Order of precedence (the first rule that refuses binds): kill switch, global halt, hard
drawdown, the agent's halt — these spare orders that only reduce — then the market and
sanity rules (no price, quote age, spread, price band), which apply to every order, the
microstructure filters (bad quote, stale quote, spread shock, book imbalance, VPIN-lite
block and throttle), which spare orders that only reduce, the order rate, then the sizing
of opening orders (:mod:`scarline.risk.sizing`; a VPIN-throttled order is sized from its
throttled qty, so a cap below it still binds and names its rule). Whether an
order only reduces is computed here from position, the working orders and the batch's
approvals (:mod:`scarline.risk.batch`), never taken from the intent's ``reducing`` flag.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scarline.execution.types import LIMIT, OrderBatch
from scarline.risk import rules
from scarline.risk.batch import BatchBook, agent_rounds, working_bounds
from scarline.risk.codes import (
    BREACH_RULES,
    HALT,
    HALT_LEVEL,
    PASS,
    REJECT,
    RULE,
    THROTTLE,
    THROTTLE_LEVEL,
    WARN,
    WARN_LEVEL,
)
from scarline.risk.limits import Limits, VenueMinimums
from scarline.risk.sizing import Opening, size
from scarline.risk.types import RiskContext

_IS_BREACH = np.zeros(len(RULE), dtype=bool)  # by rule code: a lookup, not an isin
_IS_BREACH[[RULE[r] for r in BREACH_RULES]] = True


@dataclass(frozen=True, eq=False)
class LadderView:
    """The engine state a check reads (it never writes it)."""

    killed: bool
    level: np.ndarray  # int8[N], the agents' own levels
    value: np.ndarray  # float64[N], trigger value of each agent's level
    limit: np.ndarray  # float64[N], trigger threshold of each agent's level
    global_level: int
    global_value: float
    global_limit: float
    drawdown: np.ndarray | None  # float64[N], drawdown % from peak (when a rule needs it)
    orders_used: np.ndarray  # int64[N], approved orders already in the rate window


@dataclass(frozen=True, eq=False)
class Verdicts:
    outcome: np.ndarray  # int8[K]
    rule: np.ndarray  # int16[K]
    value: np.ndarray  # float64[K]
    limit: np.ndarray  # float64[K]
    approved: np.ndarray  # int64[K]
    breach: np.ndarray  # bool[K], counts towards the agent's breach ladder

    @staticmethod
    def zeros(k: int) -> Verdicts:
        f8 = np.float64
        return Verdicts(
            np.full(k, PASS, np.int8), np.zeros(k, np.int16), np.zeros(k, f8),
            np.zeros(k, f8), np.zeros(k, np.int64), np.zeros(k, bool),
        )  # fmt: skip


class _Round:
    """One round's rows, which of them are still undecided, and where verdicts go."""

    def __init__(self, v: Verdicts, rows: np.ndarray) -> None:
        self.v, self.rows = v, rows
        self.alive = np.ones(len(rows), dtype=bool)

    def refuse(
        self, mask: np.ndarray, outcome: int, rule: str, value: np.ndarray | float,
        limit: np.ndarray | float,
    ) -> None:  # fmt: skip
        """Refuse the live rows in ``mask`` with ``rule``'s value and limit."""
        hit = mask & self.alive
        if not hit.any():
            return
        r, v = self.rows[hit], self.v
        v.outcome[r], v.rule[r] = outcome, RULE[rule]
        v.value[r] = value[hit] if isinstance(value, np.ndarray) else value
        v.limit[r] = limit[hit] if isinstance(limit, np.ndarray) else limit
        self.alive &= ~hit


def _market_gates(
    lim: Limits, intents: OrderBatch, ctx: RiskContext, last: np.ndarray
) -> list[tuple[str, rules.Verdict]]:
    """Rules that only look at the market and the order itself (vectorized over all K)."""
    m = intents.instrument
    gates = [("no_price", rules.no_price(last))]
    if lim.max_quote_age_ns is not None and ctx.quote_ts is not None:
        age = rules.quote_age(ctx.now_ts, ctx.quote_ts[m], lim.max_quote_age_ns)
        gates.append(("quote_age", age))
    if lim.max_spread_bps is not None and ctx.bid is not None and ctx.ask is not None:
        gates.append(("spread", rules.spread(ctx.bid[m], ctx.ask[m], lim.max_spread_bps)))
    if lim.price_band_pct is not None:
        band = rules.price_band(intents.order_type, intents.limit_price, last, lim.price_band_pct)
        gates.append(("price_band", band))
    return gates


def _micro_gates(
    lim: Limits, intents: OrderBatch, ctx: RiskContext
) -> tuple[list[tuple[str, rules.Verdict]], rules.Verdict | None]:
    """The microstructure filters that are on and have their measure in the context: the
    blocking ones (for opening orders) and the VPIN-lite throttle (``None`` when off)."""
    mc = lim.micro
    if mc is None:
        return [], None
    m, gates = intents.instrument, []
    if mc.block_invalid_quotes and ctx.quote_invalid is not None:
        gates.append(("bad_quote", rules.bad_quote(ctx.quote_invalid[m])))
    if mc.max_stale_bars is not None and ctx.stale_bars is not None:
        gates.append(("stale_quote", rules.stale_quote(ctx.stale_bars[m], mc.max_stale_bars)))
    if mc.spread_shock_z is not None and ctx.spread_z is not None:
        gates.append(("spread_shock", rules.spread_shock(ctx.spread_z[m], mc.spread_shock_z)))
    if mc.max_imbalance is not None and ctx.imbalance is not None:
        side = intents.side.astype(np.float64)
        gates.append(("imbalance", rules.imbalance(side, ctx.imbalance[m], mc.max_imbalance)))
    throttle = None
    if ctx.vpin is not None:
        if mc.vpin_block is not None:
            gates.append(("vpin", rules.vpin(ctx.vpin[m], mc.vpin_block)))
        if mc.vpin_throttle is not None:
            throttle = rules.vpin(ctx.vpin[m], mc.vpin_throttle)
    return gates, throttle


def _below_venue_minimum(
    venue: VenueMinimums, inst: np.ndarray, qty: np.ndarray, lot_cost: np.ndarray
) -> np.ndarray:
    """Rows whose (approved, nonzero) qty is under the venue's smallest quantity or value."""
    return (qty > 0) & ((qty < venue.qty[inst]) | (qty * lot_cost < venue.notional[inst]))


def evaluate(lim: Limits, intents: OrderBatch, ctx: RiskContext, view: LadderView) -> Verdicts:
    """Verdict on every intent; pure given its inputs (the engine records the outcome)."""
    k = len(intents)
    v = Verdicts.zeros(k)
    if k == 0:
        return v
    a, m = intents.agent, intents.instrument
    side, qty = intents.side.astype(np.int64), intents.qty
    last = ctx.last_price[m].astype(np.int64)
    lot_value = last * lim.unit_values[m]
    is_limit = (intents.order_type == LIMIT) & (intents.limit_price > 0)
    lot_cost = np.where(is_limit, intents.limit_price, last) * lim.unit_values[m]
    cell = a * ctx.position.shape[1] + m  # flat gathers: ~4x faster than [a, m]
    sells = None if ctx.pending_sells is None else ctx.pending_sells.take(cell)
    base_up, base_dn = working_bounds(ctx.position.take(cell), ctx.pending.take(cell), sells)
    own = view.level[a]
    eff = np.maximum(own, view.global_level)
    by_global = view.global_level >= own
    trig_value = np.where(by_global, view.global_value, view.value[a])
    trig_limit = np.where(by_global, view.global_limit, view.limit[a])
    gates = _market_gates(lim, intents, ctx, last)
    micro, slow = _micro_gates(lim, intents, ctx)
    factor = 1.0 if lim.micro is None else lim.micro.throttle_factor
    rounds = agent_rounds(a)
    book = BatchBook(lim, intents, ctx, view.orders_used, one_per_agent=len(rounds) == 1)

    for rows in rounds:
        s, q, bu, bd, ar = side[rows], qty[rows], base_up[rows], base_dn[rows], a[rows]
        up, dn = book.worst(rows, bu, bd)
        exposure = np.where(s > 0, up, dn)
        opening = ~rules.reduces(s, exposure, q)
        rnd = _Round(v, rows)
        approved = np.zeros(len(rows), np.int64)
        if view.killed:
            rnd.refuse(opening, HALT, "kill_switch", 0.0, 0.0)
        else:
            if view.global_level == HALT_LEVEL:
                rnd.refuse(opening, HALT, "global_halt", view.global_value, view.global_limit)
            if lim.max_drawdown_pct is not None and view.drawdown is not None:
                d = rules.drawdown(view.drawdown[ar], lim.max_drawdown_pct)
                rnd.refuse(opening & ~d.ok, HALT, "max_drawdown", d.value, d.limit)
            halted = opening & (own[rows] == HALT_LEVEL)
            rnd.refuse(halted, HALT, "ladder_halt", view.value[ar], view.limit[ar])
            for name, g in gates:
                rnd.refuse(~g.ok[rows], REJECT, name, g.value[rows], g.limit[rows])
            for name, g in micro:  # microstructure filters spare orders that only reduce
                rnd.refuse(opening & ~g.ok[rows], REJECT, name, g.value[rows], g.limit[rows])
            req, slowed = q, None
            if slow is not None:  # VPIN-lite throttle: the opening qty x factor, floored
                slowed = opening & ~slow.ok[rows]
                req = np.where(slowed, np.floor(q * factor).astype(np.int64), q)
                sv, sl = slow.value[rows], slow.limit[rows]
                rnd.refuse(slowed & (req == 0), REJECT, "vpin", sv, sl)
            if book.used is not None and lim.max_orders is not None:
                r = rules.order_rate(book.used[book.gid[rows]], lim.max_orders)
                rnd.refuse(~r.ok, REJECT, "order_rate", r.value, r.limit)
            o = np.flatnonzero(rnd.alive & opening)
            if len(o):
                ro, go = rows[o], book.gid[rows[o]]
                sized = size(lim, Opening(
                    side=s[o], qty=req[o], exposure=exposure[o],
                    held_abs=np.maximum(np.abs(up[o]), np.abs(dn[o])),
                    other_abs=np.abs(np.where(s[o] > 0, dn[o], up[o])),
                    lot_value=lot_value[ro], lot_cost=lot_cost[ro],
                    gross=None if book.gross is None else book.gross[go],
                    free_cash=None if book.free_cash is None else book.free_cash[go],
                    throttled=eff[ro] == THROTTLE_LEVEL,
                    trig_value=trig_value[ro], trig_limit=trig_limit[ro],
                ))  # fmt: skip
                approved[o] = sized.approved
                v.outcome[ro], v.rule[ro] = sized.outcome, sized.rule
                v.value[ro], v.limit[ro] = sized.value, sized.limit
                if lim.venue_min is not None:  # what is left must be an order the venue takes
                    small = _below_venue_minimum(lim.venue_min, m[ro], approved[o], lot_cost[ro])
                    if small.any():  # value and limit: the order's and the venue's value
                        rs = ro[small]
                        v.value[rs] = (approved[o[small]] * lot_cost[rs]).astype(np.float64)
                        v.limit[rs] = lim.venue_min.notional[m[rs]].astype(np.float64)
                        v.outcome[rs], v.rule[rs] = REJECT, RULE["venue_minimum"]
                        approved[o[small]] = 0
                if slowed is not None:  # sizing passed the throttled qty whole: VPIN binds
                    cut = (sized.outcome == PASS) & slowed[o] & (req[o] < q[o])
                    rc = ro[cut]
                    v.outcome[rc], v.rule[rc] = THROTTLE, RULE["vpin"]
                    v.value[rc], v.limit[rc] = sv[o][cut], sl[o][cut]
        keep = rnd.alive & ~opening
        approved[keep] = q[keep]
        if not view.killed:  # WARN: logged only, on rows that passed in full
            wr = rows[(approved == q) & (eff[rows] == WARN_LEVEL)]
            v.outcome[wr], v.rule[wr] = WARN, RULE["ladder_warn"]
            v.value[wr], v.limit[wr] = trig_value[wr], trig_limit[wr]
        v.approved[rows] = approved
        book.commit(rows, s, approved, bu, bd, lot_value[rows], lot_cost[rows])

    counted = (v.outcome == REJECT) | (v.outcome == THROTTLE)
    v.breach[:] = counted & _IS_BREACH[v.rule]
    return v
