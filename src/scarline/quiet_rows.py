"""The rows a few rule agents step in one compiled call: quiet rows, fills, crossovers.

A quiet step is one in which nothing happens but the passing of a bar: nobody's decision
changes, no order is pending, the risk ladder moves nobody and no scar or death occurs. Most
bars of a single strategy are quiet (an SMA(10, 30) crossover changes its mind on ~4 % of
minute bars), and a quiet step's whole effect on the state is the marking of positions, the
peaks of the ladder and the scar tracker, and trust's moments. The others, at N = 1, are
mostly a crossover (the decision changes: size, intents, the risk check, orders) and the row
after it (the orders fill at its open). :func:`quiet_rows` steps all three kinds, row after
row, as the ordinary step does, and stops *before* the first row it cannot finish exactly
so (a check that does not pass in full, a refused fill, a ladder move, a scar, …), leaving
the state as the last row it took left it; the kernel steps that row the ordinary way.

The rule that keeps replay exact: each row calls the same compiled passes the ordinary step
calls (:func:`~scarline.execution.market_fill_compiled.execute_market`,
:func:`~scarline.execution.book_fills.book_fills`,
:func:`~scarline.execution.book_fills.mark_to_close`,
:func:`~scarline.risk.ladder_screen.peaks_and_screen`,
:func:`~scarline.evolution.scar_step.scar_step`,
:func:`~scarline.agents.sizing.size_changed_cells`,
:func:`~scarline.execution.intents.orders_of_cells`,
:func:`~scarline.risk.check_compiled._kernel`) on the same operands, into scratch arrays
committed only once the row is taken, so a row that is not leaves no trace. The
population's equity is summed left to right, which is what the ladder's ``float_total``
does for fewer than eight agents; :class:`~scarline.quiet_path.QuietPath` serves no more.
``tests/test_quiet_path.py`` compares whole WALs with and without this path.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from scarline.agents.sizing import size_changed_cells
from scarline.evolution.scar_step import scar_step
from scarline.execution.book_fills import book_fills, mark_to_close
from scarline.execution.intents import orders_of_cells
from scarline.execution.latency import NO_TS_BOUND
from scarline.execution.market_fill_compiled import execute_market
from scarline.risk.check import _IS_BREACH
from scarline.risk.check_compiled import OK, _kernel
from scarline.risk.codes import PASS
from scarline.risk.ladder_screen import peaks_and_screen


@njit(cache=True)
def _same_decision(
    bits: np.ndarray, last_bits: np.ndarray, row: np.ndarray, sized: np.ndarray,
    valid: np.ndarray,
) -> bool:  # fmt: skip
    """Every cell's bits equal the last step's decision's (what the change tracker compares:
    a -0.0 after a 0.0 is a change) and, where the instrument has a bar, its value equals
    the exposure the sizer last sized (what the sizer compares: a NaN never does)."""
    for i in range(row.shape[0]):
        for j in range(row.shape[1]):
            if bits[i, j] != last_bits[i, j]:
                return False
            if valid[j] and row[i, j] != sized[i, j]:
                return False
    return True


@njit(cache=True)
def _fill(
    agent: np.ndarray, inst: np.ndarray, side: np.ndarray, qty: np.ndarray,
    bar_open: np.ndarray, bar_volume: np.ndarray, bar_valid: np.ndarray,
    bar_sigma: np.ndarray, unit_values: np.ndarray, fixed: float, vol_coef: float,
    bps: float, minimum: int, cover_on: bool, filled: np.ndarray, price: np.ndarray,
    fee: np.ndarray, position: np.ndarray, cost_basis: np.ndarray, basis_total: np.ndarray,
    realized: np.ndarray, cash: np.ndarray, fees: np.ndarray, traded: np.ndarray,
    trades: np.ndarray,
) -> bool:  # fmt: skip
    """Fill the due market orders in full and book them (the broker's and the accounts'
    compiled passes, as the ordinary step calls them), or return False — nothing booked —
    where any order is refused (no bar, too little cash): the ordinary step journals that.
    ``position`` and ``cash`` are the accounts' before the fills (``cover_on``: a buy
    covering a short is not held to cash, schema 15). The slippage paid is the caller's to
    add (numpy costs it, see ``market_fills``)."""
    k = agent.shape[0]
    lots, reason = np.empty(k, np.int64), np.empty(k, np.int8)
    execute_market(
        agent, inst, side, qty, bar_open, bar_volume, bar_valid, bar_sigma, unit_values,
        cash, position, cover_on, fixed, vol_coef, bps, minimum, filled, price, fee, lots,
        reason,
    )  # fmt: skip
    for r in range(k):
        if reason[r] >= 0 or filled[r] <= 0:
            return False
    book_fills(
        agent, inst, side, filled, price, fee, np.zeros(k, np.int64), unit_values, position,
        cost_basis, basis_total, realized, cash, fees, np.zeros(cash.shape[0], np.int64),
        traded, trades,
    )  # fmt: skip
    return True


@njit(cache=True)
def quiet_rows(
    decisions: np.ndarray, decision_bits: np.ndarray, last_bits: np.ndarray,
    sized: np.ndarray, t0: int,
    close: np.ndarray, valid: np.ndarray,
    position: np.ndarray, unit_values: np.ndarray, cash: np.ndarray,
    last_close: np.ndarray, market_value: np.ndarray, equity: np.ndarray,
    ladder_peak: np.ndarray, next_dd: np.ndarray, level: np.ndarray, hair: float,
    global_on: bool, global_next: float, global_peak: float,
    prev_equity: np.ndarray, realized: np.ndarray, last_realized: np.ndarray,
    alive: np.ndarray, sensitivity: np.ndarray, ruin: np.ndarray, scar_peak: np.ndarray,
    mean: np.ndarray, var: np.ndarray, alpha: float, scar_dd_pct: float,
    scar_loss_pct: float, equity_rows: np.ndarray,
    o_agent: np.ndarray, o_inst: np.ndarray, o_side: np.ndarray, o_qty: np.ndarray,
    bar_open: np.ndarray, bar_volume: np.ndarray, bar_sigma: np.ndarray,
    fixed: float, vol_coef: float, bps: float, minimum: int, cover_on: bool,
    filled: np.ndarray, price: np.ndarray, fee: np.ndarray,
    cost_basis: np.ndarray, basis_total: np.ndarray, fees: np.ndarray,
    traded: np.ndarray, trades: np.ndarray,
    sizer: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    check: bool, timestamps: np.ndarray, latency: tuple[int, int],
    risk_arrays: tuple[np.ndarray, ...], risk_params: tuple[np.ndarray, np.ndarray],
    risk_scalars: tuple[bool, bool, int, float, float, bool],
    cx: tuple[np.ndarray, ...],
) -> tuple[int, float, int, int]:  # fmt: skip
    """Step rows ``t0, t0 + 1, …`` (``decisions[k]`` is row ``t0 + k``'s ``[N, M]``
    exposure, ``decision_bits`` the same as unsigned integers, ``last_bits`` the last step's
    decision's) while nothing happens in them but what this loop does as the ordinary step
    would; returns how many rows, the population's peak equity, how many rows decided anew
    (*crossovers*) and where the last one's orders went (below).

    Row ``t0`` may fill orders (``o_*``: market orders due at it, K ≥ 0 rows): they fill in
    full at its open (``filled``, ``price`` and ``fee`` per order) and are booked into the
    accounts (``position``, ``cash``, ``realized``, ``cost_basis``, …) before the row is
    marked; a refusal, or a row that is not quiet after them, leaves them unfilled. The
    broker's model parameters price them (``fixed`` … ``minimum``; ``cover_on``: its
    ``cover_uncapped``).

    A row whose decision differs is a crossover c: once it filled what was due (as above)
    and settled (marks, ladder, scars), the sizer (``sizer``: its exposures, targets, modes,
    fractions, lots, spread) sizes the changed cells and their intents are made; with
    ``check``, the risk
    engine's compiled check runs on them (:func:`_risk_check`). When it passes every one in
    full and they are due at the next row (``latency``: steps or ns, see
    :func:`_first_due`), the next row fills them (as above) and the run goes on. ``cx``
    holds per crossover its row, intents (count, rows, reducing), verdicts, the sizer's
    targets, trust's moments after the row, and its fills. A crossover at ``t0`` is
    committed whatever the check says and the run stops after it unless its orders fill at
    the next row; the last value is then 0 (not checked: the kernel routes them), 1
    (passed, for the broker) or 2 (filled at the next row). A later crossover is committed
    only when its orders fill at the next row; else the run stops before it.

    Updated in place, row by committed row: the marks (``last_close``, ``market_value``,
    ``equity``), the ladder's peaks, the scar tracker's peaks, trust's moments (``mean``,
    ``var``), its last equity (``prev_equity``) and realized PnL (``last_realized``), the
    sizer's arrays; ``equity_rows[k]`` is row k's equity.
    """
    sized_, target, mode, fraction, lots, spread = sizer
    entering = np.zeros(position.shape[0], np.int64)
    (cx_row, cx_n, cx_orders, cx_reducing, cx_outcome, cx_rule, cx_value, cx_limit,
     cx_approved, cx_breach, cx_target, cx_mean, cx_var, cx_filled, cx_price,
     cx_fee) = cx  # fmt: skip
    rate_on = risk_scalars[5]
    n = position.shape[0]
    lc, mv, eq = last_close.copy(), market_value.copy(), equity.copy()
    lpk, spk, mu, va = ladder_peak.copy(), scar_peak.copy(), mean.copy(), var.copy()
    hit, by_dd = np.zeros(n, np.bool_), np.zeros(n, np.bool_)
    scarred, dying = np.zeros(n, np.bool_), np.zeros(n, np.bool_)
    drawdown, loss = np.zeros(n), np.zeros(n)
    pos, money, gain = position, cash, realized  # a filling row's after its fills (scratch)
    basis, basis_sum = cost_basis.copy(), basis_total.copy()
    paid, turnover, count = fees.copy(), traded.copy(), trades.copy()
    p_agent, p_inst, p_side, p_qty = o_agent, o_inst, o_side, o_qty  # pending, due now
    f_filled, f_price, f_fee = filled, price, fee  # where their fills go
    fill_row = 0 if o_agent.shape[0] > 0 else -1  # the row that fills them
    changed = np.zeros(sized_.shape, np.bool_)
    bits = last_bits
    crossings, placed, rows = 0, 0, 0
    for k in range(decisions.shape[0]):
        r = t0 + k
        decides = not _same_decision(decision_bits[k], bits, decisions[k], sized_, valid[r])
        if decides and crossings == cx_row.shape[0]:
            break  # no room to record it: the next call
        if decides and k > 0 and not check:
            break  # its intents go the ordinary route, from the next call
        fills = k == fill_row
        if fills:
            pos, money, gain = position.copy(), cash.copy(), realized.copy()
            if not _fill(
                p_agent, p_inst, p_side, p_qty, bar_open[r], bar_volume[r], valid[r],
                bar_sigma[r], unit_values, fixed, vol_coef, bps, minimum, cover_on, f_filled,
                f_price, f_fee, pos, basis, basis_sum, gain, money, paid, turnover, count,
            ):  # fmt: skip
                break
        lc[:] = last_close
        mark_to_close(pos, close[r], valid[r], lc, unit_values, money, mv, eq)
        lpk[:] = ladder_peak
        if peaks_and_screen(lpk, eq, next_dd, level, hair, hit):
            break
        total = float(eq[0])  # the ladder's float_total: left to right
        for a in range(1, n):
            total += float(eq[a])
        peak = max(global_peak, total)
        if global_on and not (peak - total) * 100.0 < global_next * (peak * hair):
            break
        spk[:] = scar_peak
        mu[:] = mean
        va[:] = var
        scars, deaths, _ = scar_step(
            prev_equity, eq, gain, last_realized, alive, sensitivity, ruin, spk, mu, va,
            alpha, scar_dd_pct, scar_loss_pct, drawdown, loss, by_dd, scarred, dying,
        )  # fmt: skip
        if scars or deaths:
            break
        verdict = -1  # a crossover's: -1 none, 0 not checked, 1 passed, 2 passed and due
        if decides:
            c = crossings
            new_sized, new_target = sized_.copy(), target.copy()
            n_intents = _size_and_intend(
                decisions[k], new_sized, valid[r], mode, fraction, lots, spread, money, eq, lc,
                unit_values, new_target, changed, entering, pos, cx_orders[c],
                cx_reducing[c],
            )  # fmt: skip
            verdict = 0
            if n_intents and check and (k == 0 or not rate_on) and _risk_check(
                cx_orders[c], n_intents, pos, money, lc, unit_values, lpk, eq, level,
                valid[r], timestamps[r], risk_arrays, r, risk_params, risk_scalars,
                (cx_outcome[c], cx_rule[c], cx_value[c], cx_limit[c], cx_approved[c],
                 cx_breach[c]),
            ):  # fmt: skip
                verdict = 1
                due_step, due_ts = _first_due(latency, r, timestamps[r])
                nxt = k + 1 < decisions.shape[0]
                if nxt and due_step <= r + 1 and due_ts <= timestamps[r + 1]:
                    verdict = 2
            if k > 0 and verdict != 2:
                break  # not this call's: the row is stepped again from the next call
        if fills:  # the fills stand: booked for good
            position[:], cash[:], realized[:] = pos, money, gain
            cost_basis[:], basis_total[:], fees[:] = basis, basis_sum, paid
            traded[:], trades[:] = turnover, count
            pos, money, gain = position, cash, realized
            fill_row = -1
            if crossings:
                placed = 2  # the last crossover's orders filled at this row
        last_realized[:] = gain
        last_close[:] = lc
        market_value[:] = mv
        equity[:] = eq
        ladder_peak[:] = lpk
        global_peak = peak
        scar_peak[:] = spk
        mean[:] = mu
        var[:] = va
        prev_equity[:] = eq
        equity_rows[k] = eq
        rows += 1
        if verdict < 0:
            continue
        c = crossings  # the crossover stands: the sizer's state, its record
        sized_[:], target[:] = new_sized, new_target
        cx_row[c], cx_n[c] = r, n_intents
        cx_target[c], cx_mean[c], cx_var[c] = target, mean, var
        crossings += 1
        placed = min(verdict, 1)  # 2 once the next row filled them
        bits = decision_bits[k]
        if verdict < 2:
            break  # the kernel routes them, or the broker holds them
        p_agent, p_inst = cx_orders[c, 0, :n_intents].copy(), cx_orders[c, 1, :n_intents].copy()
        p_side = cx_orders[c, 2, :n_intents].astype(np.int8)
        p_qty = cx_orders[c, 3, :n_intents].copy()
        f_filled, f_price, f_fee = cx_filled[c], cx_price[c], cx_fee[c]
        fill_row = k + 1
    return rows, global_peak, crossings, placed


@njit(cache=True)
def _first_due(latency: tuple[int, int], step: int, ts: int) -> tuple[int, int]:
    """The broker's latency models (:mod:`scarline.execution.latency`) for one order
    submitted at ``step`` / ``ts``: ``latency`` is ``(0, steps)`` or ``(1, ns)``; int64
    arithmetic, which wraps as numpy's does."""
    kind, value = latency
    if kind == 0:
        return step + 1 + value, NO_TS_BOUND
    return step + 1, ts + value


@njit(cache=True)
def _risk_check(
    orders: np.ndarray, k: int, position: np.ndarray, cash: np.ndarray,
    last_close: np.ndarray, unit_values: np.ndarray, peak: np.ndarray, equity: np.ndarray,
    level: np.ndarray, valid: np.ndarray, ts: int, risk_arrays: tuple[np.ndarray, ...],
    r: int, risk_params: tuple[np.ndarray, np.ndarray],
    risk_scalars: tuple[bool, bool, int, float, float, bool], verdicts: tuple[np.ndarray, ...],
) -> bool:  # fmt: skip
    """The risk engine's compiled check (:func:`~scarline.risk.check_compiled._kernel`) of
    the ``k`` market intents of row ``r``, on the context the ordinary step builds (nothing
    pending, the marks of this row, its quotes, the drawdown from the ladder's peak when the
    config limits it): True when it decided and passed every intent in full with no breach
    (``verdicts``: outcome, rule, value, limit, approved, breach, ``k`` rows each)."""
    q_bid, q_ask, value, limit, orders_used, venue_qty, venue_notional = risk_arrays
    ip, fp = risk_params
    dd_on, killed, global_level, global_value, global_limit, _ = risk_scalars
    outcome, rule, val, lim, approved, breach = verdicts
    n, m = position.shape
    drawdown = np.zeros(n if dd_on else 0)
    for i in range(drawdown.shape[0]):  # ladder.drawdown: stats.drawdown_pct of the peak
        pk = max(peak[i], equity[i])
        drawdown[i] = 100.0 * max((pk - equity[i]) / pk, 0.0)
    quoted = q_bid.shape[0] > 0
    bid = q_bid[r] if quoted else np.zeros(0, np.int64)
    ask = q_ask[r] if quoted else np.zeros(0, np.int64)
    quote_ts = np.zeros(m if quoted else 0, np.int64)  # the row's ts where it has a bar
    for j in range(quote_ts.shape[0]):
        quote_ts[j] = ts if valid[j] else 0
    # C-contiguous arrays (copies, and whole output rows of which the first k are written):
    # the types of the ordinary step's call, so no other specialization is compiled
    status = _kernel(
        orders[0, :k].copy(), orders[1, :k].copy(), orders[2, :k].astype(np.int8),
        orders[3, :k].copy(), np.zeros(k, np.int8), np.zeros(k, np.int64),
        position, np.zeros_like(position), np.zeros((0, 0), np.int64), cash, last_close,
        unit_values, bid, ask, quote_ts,
        level, value, limit, drawdown, orders_used, venue_qty, venue_notional, _IS_BREACH,
        ip, fp, killed, global_level, global_value, global_limit, ts,
        outcome, rule, val, lim, approved, breach,
    )  # fmt: skip
    if status != OK:
        return False
    for i in range(k):
        if outcome[i] != PASS or approved[i] != orders[3, i] or breach[i]:
            return False
    return True


@njit(cache=True)
def _size_and_intend(
    exposure: np.ndarray, sized: np.ndarray, valid: np.ndarray, mode: np.ndarray,
    fraction: np.ndarray, lots: np.ndarray, spread: np.ndarray, cash: np.ndarray,
    equity: np.ndarray, close: np.ndarray, unit_values: np.ndarray, target: np.ndarray,
    changed: np.ndarray, entering: np.ndarray, position: np.ndarray, orders: np.ndarray,
    reducing: np.ndarray,
) -> int:  # fmt: skip
    """The sizer's pass, then the intents of the cells it sized (nothing pending), as the
    ordinary step calls them: how many intents."""
    cells = np.empty(changed.size, np.int64)
    hits = size_changed_cells(
        exposure, sized, valid, mode, fraction, lots, spread, cash, equity, close,
        unit_values, target, changed, entering, np.empty(entering.shape[0], np.int64), cells,
    )  # fmt: skip
    if hits == 0:
        return 0
    m = changed.shape[1]
    cells = cells[:hits]
    return orders_of_cells(
        target, position, np.zeros_like(position), cells // m, cells % m, orders, reducing
    )
