"""The simulated broker: pending orders in, fills and rejects out, one bar at a time.

Orders submitted at step t are due no earlier than bar t+1 (the latency model may push
that later), so a decision on a bar's close never trades at that bar. At each bar the due
orders go through, in this order: no-bar rejects (market orders) → the limit queue model
→ the participation cap, pro rata per (instrument, side) over every order that could fill
→ prices (market: open ± slippage; limit: open or limit) → fees → the cash cap (sells
settle first; from schema 15 the lots of buys that cover a short are paid next, whatever
the cash; then each agent's buys in order_id order) → fills, rejects and what keeps
resting. Every step is an array operation over all due orders, or, where the models allow,
one compiled loop over them (market_fill_compiled, bar_fill_compiled); see docs/execution.md.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from scarline.execution.bar_fill_compiled import execute_bar
from scarline.execution.bar_fill_compiled import warm_up as warm_up_bar
from scarline.execution.book import PendingBook
from scarline.execution.cash import affordable_prefix, covering_lots, largest_affordable
from scarline.execution.config import ExecutionConfig, FillConfig
from scarline.execution.fees import BpsMinFee, FeeModel, build_fee_model
from scarline.execution.latency import LatencyModel, build_latency_model
from scarline.execution.market_fill_compiled import execute_market
from scarline.execution.market_fill_compiled import warm_up as warm_up_market
from scarline.execution.order_check import FIELDS, invalid_fields, warm_up
from scarline.execution.participation import SHARE_SCALE, pro_rata, share_lots
from scarline.execution.queue import (
    QueueModel,
    RiskAverseBarQueue,
    build_queue_model,
    limit_fill_price,
)
from scarline.execution.slippage import (
    FixedPlusVolatility,
    SlippageModel,
    build_slippage_model,
    slippage_cost,
)
from scarline.execution.types import (
    BUY,
    LIMIT,
    MARKET,
    REJECT_REASONS,
    SELL,
    BarSlice,
    FillBatch,
    OrderBatch,
    RejectBatch,
)

Quote = Callable[[np.ndarray | None, np.ndarray], tuple[np.ndarray, np.ndarray]]
"""``(rows, qty) -> (price, notional)`` of due rows (``None``: all) filled at ``qty``."""

NO_BAR, INSUFFICIENT_CASH, LIMIT_EXPIRED, NO_LIQUIDITY, CANCELLED = (
    np.int8(REJECT_REASONS.index(r))
    for r in ("no_bar", "insufficient_cash", "limit_expired", "no_liquidity", "cancelled")
)


_NO_FILLS = FillBatch.empty()
_NO_REJECTS = RejectBatch.empty()


class SimBroker:
    """Fills the orders of N agents on M instruments against bars; holds no cash itself.

    ``unit_values``: ``int64[M]`` cash units of one lot moving one tick. ``compiled``: a
    bar of market orders goes through :mod:`~scarline.execution.market_fill_compiled`, one
    with limit orders through :mod:`~scarline.execution.bar_fill_compiled`, where the models
    allow it (same fills and rejects; ``False`` keeps the numpy path, its reference).
    ``cover_uncapped`` (schema 15 on): a buy's part that covers a short is not held to cash,
    the account goes into debit (:mod:`~scarline.execution.cash`); ``False`` caps it as
    schema 14 and older did, so their runs replay as recorded.
    """

    def __init__(
        self,
        n_agents: int,
        unit_values: np.ndarray,
        fees: FeeModel,
        slippage: SlippageModel,
        latency: LatencyModel,
        fill_cfg: FillConfig,
        queue: QueueModel | None = None,
        compiled: bool = True,
        cover_uncapped: bool = True,
    ) -> None:
        self.n_agents = int(n_agents)
        self.cover_uncapped = bool(cover_uncapped)
        self.unit_values = np.asarray(unit_values, dtype=np.int64)
        self.n_instruments = int(self.unit_values.shape[0])
        self.fees = fees
        self.slippage = slippage
        self.latency = latency
        self.fill_cfg = fill_cfg
        self.queue = queue if queue is not None else build_queue_model(fill_cfg)
        self._book = PendingBook.empty()
        self._last_id = -1
        self._no_pending = np.zeros((self.n_agents, self.n_instruments), dtype=np.int64)
        self._no_pending.flags.writeable = False
        # the compiled bar's model parameters (fixed, vol_coef, bps, minimum), or None where
        # the models or the participation cap need the numpy path
        self._market_params: tuple[float, float, float, int] | None = None
        if (
            compiled
            and isinstance(fees, BpsMinFee)
            and isinstance(slippage, FixedPlusVolatility)
            and fill_cfg.participation_rate is None
        ):
            self._market_params = (slippage.fixed, slippage.vol_coef, fees.bps, fees.minimum_units)
            warm_up_market()
        # the compiled bar of market and limit orders also needs the risk-averse queue
        self._touch_share: float | None = None
        if self._market_params is not None and type(self.queue) is RiskAverseBarQueue:
            self._touch_share = self.queue.touch_share
            warm_up_bar()
        warm_up()

    @classmethod
    def from_config(
        cls,
        cfg: ExecutionConfig,
        n_agents: int,
        unit_values: np.ndarray,
        *,
        cover_uncapped: bool = True,
    ) -> SimBroker:
        """``cover_uncapped``: the schema's (see :data:`~scarline.events.COVER_UNCAPPED_SCHEMA`)."""
        return cls(
            n_agents,
            unit_values,
            build_fee_model(cfg.fees),
            build_slippage_model(cfg.slippage),
            build_latency_model(cfg.latency),
            cfg.fill,
            cover_uncapped=cover_uncapped,
        )

    # ------------------------------------------------------------------ orders in

    def submit(
        self, orders: OrderBatch, step: int, ts: int, volume: np.ndarray | None = None
    ) -> None:
        """Queue ``orders`` decided at bar ``step`` (timestamp ``ts``).

        ``volume``: ``int64[M]``, that bar's volume, from which a limit order's queue ahead
        is estimated; required when the batch holds limit orders. Order ids must increase
        within the batch and exceed every id submitted before.
        """
        k = len(orders)
        if k == 0:
            return
        self._check(orders)
        min_step, min_ts = self.latency.eligibility(
            np.full(k, step, dtype=np.int64), np.full(k, ts, dtype=np.int64)
        )
        queue = np.zeros(k, dtype=np.int64)
        limit = orders.order_type == LIMIT
        if limit.any():
            if volume is None:
                raise ValueError("submit: limit orders need the submit bar's volume")
            vol = np.asarray(volume, dtype=np.int64)[orders.instrument[limit]]
            queue[limit] = self.queue.initial(vol)
        new = PendingBook(orders, min_step, min_ts, np.full(k, -1, dtype=np.int64), queue)
        self._book = self._book.append(new)
        self._last_id = int(orders.order_id[-1])

    def _check(self, o: OrderBatch) -> None:
        bad = invalid_fields(
            o.order_id, self._last_id, o.agent, self.n_agents, o.instrument,
            self.n_instruments, o.side, o.qty, o.order_type, o.limit_price,
        )  # fmt: skip
        if bad:
            names = [name for k, name in enumerate(FIELDS) if bad >> k & 1]
            raise ValueError(f"submit: invalid order field(s) {', '.join(names)}")

    def _check_numpy(self, o: OrderBatch) -> list[str]:
        """The fields :meth:`_check` refuses, in numpy: the reference it is tested against."""
        ids = o.order_id
        problems = [
            ("order_id", ids[0] <= self._last_id or (np.diff(ids) <= 0).any()),
            ("agent", (o.agent < 0).any() or (o.agent >= self.n_agents).any()),
            ("instrument", (o.instrument < 0).any() or (o.instrument >= self.n_instruments).any()),
            ("side", ((o.side != BUY) & (o.side != SELL)).any()),
            ("qty", (o.qty <= 0).any()),
            ("order_type", ((o.order_type != MARKET) & (o.order_type != LIMIT)).any()),
            ("limit_price", ((o.order_type == LIMIT) & (o.limit_price <= 0)).any()),
        ]
        return [name for name, failed in problems if failed]

    def cancel(self, mask_agents: np.ndarray) -> RejectBatch:
        """Drop every pending order of the agents in ``mask_agents`` (``bool[N]``)."""
        book = self._book
        hit = np.asarray(mask_agents, dtype=bool)[book.orders.agent]
        if not hit.any():
            return RejectBatch.empty()
        gone = book.orders.take(hit)
        self._book = book.take(~hit)
        reason = np.full(len(gone), CANCELLED, dtype=np.int8)
        return RejectBatch(gone.order_id, gone.agent, gone.qty, reason)

    def pending(self) -> OrderBatch:
        """The resting orders, ``qty`` being what is left of each."""
        return self._book.orders

    @property
    def idle(self) -> bool:
        """No order is pending: :meth:`execute` has nothing to fill or reject."""
        return not len(self._book)

    def pending_qty(self) -> np.ndarray:
        """``int64[N, M]`` signed lots still pending per agent and instrument."""
        o = self._book.orders
        if not len(o):
            return self._no_pending
        out = np.zeros(self.n_agents * self.n_instruments, dtype=np.int64)
        np.add.at(out, o.agent * self.n_instruments + o.instrument, o.side * o.qty)
        return out.reshape(self.n_agents, self.n_instruments)

    def pending_sells(self) -> np.ndarray:
        """``int64[N, M]`` lots of the working sells per agent and instrument (>= 0): with
        :meth:`pending_qty`, the working buys too (``pending_qty + pending_sells``)."""
        o = self._book.orders
        if not len(o) or not (o.side < 0).any():
            return self._no_pending
        sells = o.side < 0
        out = np.zeros(self.n_agents * self.n_instruments, dtype=np.int64)
        np.add.at(out, o.agent[sells] * self.n_instruments + o.instrument[sells], o.qty[sells])
        return out.reshape(self.n_agents, self.n_instruments)

    def due_market_orders(self, step: int, ts: int) -> OrderBatch | None:
        """The whole book, when every pending order is a market order due at bar ``step``
        (timestamp ``ts``) and the compiled market path prices them: what a caller filling
        them itself (the kernel's quiet path) may fill, then :meth:`filled_all`. Else None."""
        book = self._book
        if self._market_params is None or not len(book) or book.orders.order_type.any():
            return None
        if (book.min_step > step).any() or (book.min_ts > ts).any():
            return None
        return book.orders

    def passed_through(self, orders: OrderBatch) -> None:
        """``orders``, submitted at a bar, were filled in full at the next by the kernel's
        quiet path without resting here: checked as :meth:`submit` checks them, and the
        next ids must exceed theirs."""
        if len(orders):
            self._check(orders)
            self._last_id = int(orders.order_id[-1])

    def filled_all(self) -> None:
        """The orders :meth:`due_market_orders` returned were filled in full elsewhere."""
        self._book = PendingBook.empty()

    @property
    def market_params(self) -> tuple[float, float, float, int] | None:
        """The compiled market path's (fixed slippage, vol_coef, fee bps, minimum fee), or
        None where the models need the numpy path."""
        return self._market_params

    # ------------------------------------------------------------------ one bar

    def execute(
        self, bar: BarSlice, cash: np.ndarray, position: np.ndarray
    ) -> tuple[FillBatch, RejectBatch]:
        """Execute every order due at ``bar``; ``cash``: ``int64[N]`` and ``position``:
        ``int64[N, M]`` lots, both before this bar's fills (a buy covering a short fills
        whatever the cash, from schema 15).

        Fills come sorted by order_id; rejects by (order_id, reason).
        """
        book = self._book
        if not len(book):
            return _NO_FILLS, _NO_REJECTS
        due = (book.min_step <= bar.step) & (book.min_ts <= bar.ts)
        first_due = np.where(due & (book.first_due < 0), bar.step, book.first_due)
        if due.all():
            idx = None
            d = book.orders
            d_first, d_queue = first_due, book.queue
        elif due.any():
            idx = np.flatnonzero(due)
            d = book.orders.take(idx)
            d_first, d_queue = first_due[idx], book.queue[idx]
        else:
            return _NO_FILLS, _NO_REJECTS
        if self._market_params is not None and not d.order_type.any():  # MARKET is 0
            self._book = PendingBook.empty() if idx is None else book.take(~due)
            return self._execute_market(d, bar, cash, position, self._market_params)
        if self._market_params is not None and self._touch_share is not None:
            return self._execute_bar(
                d, bar, (cash, position), d_first, d_queue, (book, idx, first_due),
                (self._touch_share, *self._market_params),
            )  # fmt: skip

        inst, side, qty = d.instrument, d.side, d.qty
        valid = bar.valid[inst]
        market = d.order_type == MARKET
        limit = ~market
        open_ = bar.open[inst]
        volume = bar.volume[inst]

        # What each order could take at this bar, before competing for liquidity.
        requested = np.where(valid, qty, 0)
        queue_after = d_queue
        any_limit = bool(limit.any())
        if any_limit:
            fillable, q_after = self.queue.match(
                side, d.limit_price, qty, d_queue, bar.low[inst], bar.high[inst], volume
            )
            requested = np.where(limit & valid, fillable, requested)
            queue_after = np.where(limit & valid, q_after, d_queue)

        # Participation cap, shared pro rata per (instrument, side).
        rate = self.fill_cfg.participation_rate
        if rate is None:
            alloc = requested
        else:
            cap = np.repeat(share_lots(rate, np.where(bar.valid, bar.volume, 0)), 2)
            alloc = pro_rata(requested, inst * 2 + (side > 0), cap)

        # Prices, fees, and the cash cap on buys.
        uv = self.unit_values[inst]
        sigma = bar.volatility[inst]

        def quote(rows: np.ndarray | None, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            sel = slice(None) if rows is None else rows
            price = self.slippage.price(open_[sel], side[sel], q, volume[sel], sigma[sel])
            if any_limit:
                lim_price = limit_fill_price(side[sel], d.limit_price[sel], open_[sel])
                price = np.where(limit[sel], lim_price, price)
            return price, q * price * uv[sel]

        price, notional = quote(None, alloc)
        fee = self.fees.fee(notional)
        filled = self._cash_cap(d, alloc, notional, fee, cash, position, quote)
        cut = filled < alloc
        if cut.any():
            rows = np.flatnonzero(cut)
            price[rows], notional[rows] = quote(rows, filled[rows])
            fee[rows] = self.fees.fee(notional[rows])

        # A limit fill's reference is its own price: a maker fill pays no slippage.
        ref = np.where(market, open_, price) if any_limit else open_
        fills = self._fills(d, filled, price, ref, fee, uv, market)
        rejects, keep, remaining = self._rejects(
            d, bar.step, valid, market, requested, alloc, filled, d_first
        )
        self._rest(book, idx, keep, remaining, first_due, queue_after)
        return fills, rejects

    def _execute_market(
        self,
        d: OrderBatch,
        bar: BarSlice,
        cash: np.ndarray,
        position: np.ndarray,
        params: tuple[float, float, float, int],
    ) -> tuple[FillBatch, RejectBatch]:
        """Due market orders, compiled: they fill or are refused now, none keeps resting."""
        k = len(d)
        filled, price, fee, lots = (np.empty(k, dtype=np.int64) for _ in range(4))
        reason = np.empty(k, dtype=np.int8)
        execute_market(
            d.agent, d.instrument, d.side, d.qty, bar.open, bar.volume, bar.valid,
            bar.volatility, self.unit_values, np.asarray(cash, dtype=np.int64),
            np.asarray(position, dtype=np.int64), self.cover_uncapped, *params, filled, price,
            fee, lots, reason,
        )  # fmt: skip
        fills = market_fills(d, filled, price, fee, bar.open, self.unit_values)
        return fills, _refused(d, lots, reason)

    def _execute_bar(
        self,
        d: OrderBatch,
        bar: BarSlice,
        accounts: tuple[np.ndarray, np.ndarray],
        d_first: np.ndarray,
        d_queue: np.ndarray,
        rest: tuple[PendingBook, np.ndarray | None, np.ndarray],
        params: tuple[float, float, float, float, int],
    ) -> tuple[FillBatch, RejectBatch]:
        """Due market and limit orders, compiled; ``accounts``: cash and positions before the
        bar; ``rest``: the book, the due rows (``None``: all) and every row's first due step,
        for what keeps resting; ``params``: the queue's touch share, then the market pass's
        model parameters."""
        touch_share, fixed, vol_coef, bps, minimum = params
        cash, position = (np.asarray(a, dtype=np.int64) for a in accounts)
        k = len(d)
        filled, price, fee, ref, lots, remaining, queue_after = (
            np.empty(k, dtype=np.int64) for _ in range(7)
        )
        reason, keep = np.empty(k, dtype=np.int8), np.empty(k, dtype=bool)
        market = d.order_type == MARKET
        execute_bar(
            d.agent, d.instrument, d.side, d.qty, ~market, d.limit_price, d_queue, d_first,
            bar.step, self.fill_cfg.limit_tif_steps, bar.open, bar.high, bar.low, bar.volume,
            bar.valid, bar.volatility, self.unit_values, cash, position, self.cover_uncapped,
            touch_share, SHARE_SCALE, fixed, vol_coef, bps, minimum, filled, price, fee, ref,
            lots, reason, keep, remaining, queue_after,
        )  # fmt: skip
        fills = self._fills(d, filled, price, ref, fee, self.unit_values[d.instrument], market)
        book, idx, first_due = rest
        self._rest(book, idx, keep, remaining, first_due, queue_after)
        return fills, _refused(d, lots, reason)

    def _cash_cap(
        self,
        d: OrderBatch,
        alloc: np.ndarray,
        notional: np.ndarray,
        fee: np.ndarray,
        cash: np.ndarray,
        position: np.ndarray,
        quote: Quote,
    ) -> np.ndarray:
        """``int64[K]`` lots that fill after the agents' cash: sells settle first, then (from
        schema 15) the covering parts of buys are paid, whatever the cash; the opening parts
        are capped against what is left."""
        side, agent = d.side, d.agent
        sell = (side < 0) & (alloc > 0)
        avail = np.asarray(cash, dtype=np.int64).copy()
        if sell.any():
            np.add.at(avail, agent[sell], notional[sell] - fee[sell])
        buy_rows = np.flatnonzero((side > 0) & (alloc > 0))
        if not buy_rows.size:
            return alloc
        buy_rows = buy_rows[np.argsort(agent[buy_rows], kind="stable")]  # rows keep id order
        cost = notional[buy_rows] + fee[buy_rows]
        cover = self._covers(d, buy_rows, alloc, position)
        if cover is None:  # no buy covers (or schema <= 14): each is held to cash whole
            zero = np.zeros(buy_rows.size, dtype=np.int64)
            return self._cap_opening(buy_rows, agent, alloc, cost, avail, quote, zero, zero)
        paid = np.where(cover == alloc[buy_rows], cost, 0)  # all of the row covers, or none
        part = np.flatnonzero((cover > 0) & (cover < alloc[buy_rows]))
        if part.size:  # a flip: its covering lots priced at their own size
            _, n = quote(buy_rows[part], cover[part])
            paid[part] = n + self.fees.fee(n)
        np.subtract.at(avail, agent[buy_rows], paid)  # paid first, into debit if need be
        opening = alloc[buy_rows] > cover
        return self._cap_opening(
            buy_rows[opening], agent, alloc, cost[opening], avail, quote, cover[opening],
            paid[opening],
        )  # fmt: skip

    def _covers(
        self, d: OrderBatch, buy_rows: np.ndarray, alloc: np.ndarray, position: np.ndarray
    ) -> np.ndarray | None:
        """``int64[B]`` lots of each buy row that cover the agent's short at the bar's start
        (:func:`~scarline.execution.cash.covering_lots`), or None where none does or the
        broker holds covers to cash (schema <= 14)."""
        if not self.cover_uncapped:
            return None
        a, m = d.agent[buy_rows], d.instrument[buy_rows]
        short = -np.asarray(position, dtype=np.int64)[a, m]
        if not (short > 0).any():
            return None
        return covering_lots(a * self.n_instruments + m, alloc[buy_rows], np.maximum(short, 0))

    def _cap_opening(
        self,
        rows: np.ndarray,
        agent: np.ndarray,
        alloc: np.ndarray,
        cost: np.ndarray,
        avail: np.ndarray,
        quote: Quote,
        cover: np.ndarray,
        paid: np.ndarray,
    ) -> np.ndarray:
        """The cap on the opening parts of buy ``rows`` (sorted by agent, then order_id):
        each row's opening part costs ``cost - paid`` (its whole cost less what its
        ``cover`` lots cost); the parts that fit ``avail`` fill, the first that does not is
        cut to the largest affordable qty, the agent's later ones get nothing. A row never
        fills less than its ``cover``."""
        r_agent = agent[rows]
        full, cut, left = affordable_prefix(r_agent, cost - paid, avail[r_agent])
        if full.all():
            return alloc
        filled = alloc.copy()
        filled[rows[~full]] = cover[~full]
        cut_rows = rows[cut]

        def cost_of(q: np.ndarray) -> np.ndarray:
            _, n = quote(cut_rows, q)
            return n + self.fees.fee(n)

        # the whole row's cost against what is left plus its covering lots' own cost
        most = largest_affordable(cost_of, alloc[cut_rows], left[cut] + paid[cut], cost[cut])
        filled[cut_rows] = np.maximum(cover[cut], most)
        return filled

    @staticmethod
    def _fills(
        d: OrderBatch,
        filled: np.ndarray,
        price: np.ndarray,
        ref: np.ndarray,
        fee: np.ndarray,
        uv: np.ndarray,
        market: np.ndarray,
    ) -> FillBatch:
        hit = filled > 0
        rows: np.ndarray | slice = hit
        if hit.all():
            rows = slice(None)
        elif not hit.any():
            return FillBatch.empty()
        q, p, r = filled[rows], price[rows], ref[rows]
        slip = slippage_cost(p, r, q, uv[rows])
        return FillBatch(
            d.order_id[rows],
            d.agent[rows],
            d.instrument[rows],
            d.side[rows],
            q,
            p,
            r,
            fee[rows],
            slip,
            ~market[rows],
        )

    def _rejects(
        self,
        d: OrderBatch,
        step: int,
        valid: np.ndarray,
        market: np.ndarray,
        requested: np.ndarray,
        alloc: np.ndarray,
        filled: np.ndarray,
        d_first: np.ndarray,
    ) -> tuple[RejectBatch, np.ndarray, np.ndarray]:
        """Rejected remainders, which due rows keep resting, and their remaining qty."""
        qty = d.qty
        remaining = qty - filled
        cash_cut = filled < alloc
        expired = ~market & (step >= d_first + self.fill_cfg.limit_tif_steps)
        keep = ~market & (remaining > 0) & ~cash_cut & ~expired
        parts = [
            (market & ~valid, qty, NO_BAR),
            (market & valid & (requested > alloc), requested - alloc, NO_LIQUIDITY),
            (cash_cut, np.where(market, alloc, qty) - filled, INSUFFICIENT_CASH),
            (~market & ~cash_cut & expired & (remaining > 0), remaining, LIMIT_EXPIRED),
        ]
        parts = [(np.flatnonzero(mask), amount, reason) for mask, amount, reason in parts]
        parts = [p for p in parts if p[0].size]  # four reasons, not a loop over orders
        if not parts:
            return RejectBatch.empty(), keep, remaining
        rows = np.concatenate([r for r, _, _ in parts])
        lots = np.concatenate([amount[r] for r, amount, _ in parts])
        reason = np.concatenate([np.full(r.size, c, dtype=np.int8) for r, _, c in parts])
        if len(parts) > 1:  # rows are due-order positions, so sorting them sorts by order_id
            order = np.argsort(rows * len(REJECT_REASONS) + reason, kind="stable")
            rows, lots, reason = rows[order], lots[order], reason[order]
        return RejectBatch(d.order_id[rows], d.agent[rows], lots, reason), keep, remaining

    def _rest(
        self,
        book: PendingBook,
        idx: np.ndarray | None,
        keep: np.ndarray,
        remaining: np.ndarray,
        first_due: np.ndarray,
        queue_after: np.ndarray,
    ) -> None:
        """Write back the due rows' remaining state and drop the finished ones."""
        if idx is None:
            if not keep.any():
                self._book = PendingBook.empty()
                return
            self._book = book.updated(remaining, first_due, queue_after).take(keep)
            return
        qty = book.orders.qty.copy()
        queue = book.queue.copy()
        qty[idx] = remaining
        queue[idx] = queue_after
        alive = np.ones(len(book), dtype=bool)
        alive[idx] = keep
        self._book = book.updated(qty, first_due, queue).take(alive)


def market_fills(
    d: OrderBatch,
    filled: np.ndarray,
    price: np.ndarray,
    fee: np.ndarray,
    bar_open: np.ndarray,
    unit_values: np.ndarray,
) -> FillBatch:
    """The fills of market orders ``d`` the compiled pass filled (``filled`` lots at
    ``price``, paying ``fee``): referenced at the bar's open, slippage costed in numpy (an
    absurd price overflows ``|price - open|``, and numpy's wrap is the reference's)."""
    hit = filled > 0
    n = np.count_nonzero(hit)
    if not n:
        return _NO_FILLS
    if n == hit.shape[0]:  # all filled (the usual): the orders' own arrays, no gather
        order_id, agent, inst, side = d.order_id, d.agent, d.instrument, d.side
        q, p, f = filled, price, fee
    else:
        order_id, agent, inst, side = d.order_id[hit], d.agent[hit], d.instrument[hit], d.side[hit]
        q, p, f = filled[hit], price[hit], fee[hit]
    ref = bar_open[inst]
    slip = slippage_cost(p, ref, q, unit_values[inst])
    return FillBatch(order_id, agent, inst, side, q, p, ref, f, slip, np.zeros(n, dtype=bool))


def _refused(d: OrderBatch, lots: np.ndarray, reason: np.ndarray) -> RejectBatch:
    """The rows a compiled bar refused (``reason`` >= 0), with their refused ``lots``."""
    refused = reason >= 0
    if not refused.any():
        return _NO_REJECTS
    return RejectBatch(d.order_id[refused], d.agent[refused], lots[refused], reason[refused])
