"""How many of the next rows are *quiet* for a few rule agents, stepped in one compiled call.

A quiet step is one in which nothing happens but the passing of a bar: nobody's decision
changes, no order is pending, the risk ladder moves nobody and no scar or death occurs. Most
bars of a single strategy are quiet (an SMA(10, 30) crossover changes its mind on ~4 % of
minute bars), and a quiet step's whole effect on the state is the marking of positions, the
peaks of the ladder and the scar tracker, and trust's moments. :func:`quiet_rows` applies
exactly that, row after row, and stops *before* the first row that is not quiet, leaving
the state as the last quiet row left it; the kernel steps that row the ordinary way.

The rule that keeps replay exact: each row calls the same compiled passes the ordinary step
calls (:func:`~scarline.execution.book_fills.mark_to_close`,
:func:`~scarline.risk.ladder_screen.peaks_and_screen`,
:func:`~scarline.evolution.scar_step.scar_step`) on the same operands, into scratch arrays
committed only once the row proved quiet, so a row that is not quiet leaves no trace. The
population's equity is summed left to right, which is what the ladder's ``float_total``
does for fewer than eight agents; :class:`~scarline.quiet_path.QuietPath` serves no more.
``tests/test_quiet_path.py`` compares whole WALs with and without this path.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from scarline.evolution.scar_step import scar_step
from scarline.execution.book_fills import mark_to_close
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
def quiet_rows(
    decisions: np.ndarray, decision_bits: np.ndarray, last_bits: np.ndarray,
    sized: np.ndarray, t0: int,
    close: np.ndarray, valid: np.ndarray,
    position: np.ndarray, unit_values: np.ndarray, cash: np.ndarray,
    last_close: np.ndarray, market_value: np.ndarray, equity: np.ndarray,
    ladder_peak: np.ndarray, next_dd: np.ndarray, level: np.ndarray, hair: float,
    global_on: bool, global_next: float, global_peak: float,
    prev_equity: np.ndarray, realized: np.ndarray, alive: np.ndarray,
    sensitivity: np.ndarray, ruin: np.ndarray, scar_peak: np.ndarray, mean: np.ndarray,
    var: np.ndarray, alpha: float, scar_dd_pct: float, scar_loss_pct: float,
    equity_rows: np.ndarray,
) -> tuple[int, float]:  # fmt: skip
    """Step rows ``t0, t0 + 1, …`` (``decisions[k]`` is row ``t0 + k``'s ``[N, M]``
    exposure, ``decision_bits`` the same as unsigned integers, ``last_bits`` the last step's
    decision's) while they are quiet; returns how many were, and the population's peak
    equity.

    Updated in place, row by committed row: the marks (``last_close``, ``market_value``,
    ``equity``), the ladder's peaks, the scar tracker's peaks, trust's moments (``mean``,
    ``var``) and its last equity (``prev_equity``); ``equity_rows[k]`` is row k's equity.
    """
    n = position.shape[0]
    lc, mv, eq = last_close.copy(), market_value.copy(), equity.copy()
    lpk, spk, mu, va = ladder_peak.copy(), scar_peak.copy(), mean.copy(), var.copy()
    hit, by_dd = np.zeros(n, np.bool_), np.zeros(n, np.bool_)
    scarred, dying = np.zeros(n, np.bool_), np.zeros(n, np.bool_)
    drawdown, loss = np.zeros(n), np.zeros(n)
    rows = 0
    for k in range(decisions.shape[0]):
        r = t0 + k
        if not _same_decision(decision_bits[k], last_bits, decisions[k], sized, valid[r]):
            break
        lc[:] = last_close
        mark_to_close(position, close[r], valid[r], lc, unit_values, cash, mv, eq)
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
            prev_equity,
            eq,
            realized,
            realized,
            alive,
            sensitivity,
            ruin,
            spk,
            mu,
            va,
            alpha,
            scar_dd_pct,
            scar_loss_pct,
            drawdown,
            loss,
            by_dd,
            scarred,
            dying,
        )
        if scars or deaths:
            break
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
    return rows, global_peak
