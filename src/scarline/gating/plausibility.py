"""G2 ``plausibility``: an edge stronger than any real market offers is flagged, not failed.

A column that is a noisy copy of the next bar's return (a leak) and a legitimate one-bar
predictor known at its bar's close behave alike under every placebo and lag: both are real
in the data as recorded. What gives a leak away is its strength. A per-bar Sharpe above
``implausible_sharpe`` or an exogenous column whose correlation with the next bar's return
(IC) exceeds ``implausible_ic`` raises the ``implausible_edge`` flag; the ledger then wants a
human approval naming it before Shadow. docs/gates.md explains the default thresholds.
"""

from __future__ import annotations

import numpy as np

from scarline.gating.context import GateContext, Verdict, figure
from scarline.gating.flags import IMPLAUSIBLE_EDGE


def next_bar_ic(exog: np.ndarray, close: np.ndarray, valid: np.ndarray, start: int) -> np.ndarray:
    """``float64[K]`` Pearson correlation of each column of ``exog`` [T, K] at bar t - 1 with
    the close-to-close return of bar t (``close`` [T], ``valid`` [T]) over the evaluated bars
    t = max(start, 1) .. T - 1; 0 for a column (or a return) without variation."""
    start = max(start, 1)
    c = np.asarray(close, dtype=float)
    ok = valid[start:] & valid[start - 1 : -1] & (c[start - 1 : -1] > 0)
    ret = np.zeros(ok.size)
    np.divide(c[start:], c[start - 1 : -1], out=ret, where=ok)
    x = np.asarray(exog, dtype=float)[start - 1 : -1]
    ok &= np.isfinite(x).all(axis=1)
    x, y = x[ok], ret[ok] - 1.0
    out = np.zeros(x.shape[1])
    if y.size < 3:
        return out
    xc, yc = x - x.mean(axis=0), y - y.mean()
    den = np.sqrt((xc**2).sum(axis=0) * (yc**2).sum())
    np.divide(xc.T @ yc, den, out=out, where=den > 1e-300)
    return out


def plausibility(ctx: GateContext) -> list[Verdict]:
    """Per candidate: its per-bar Sharpe and, for learned agents (the ones that read
    exogenous columns), every column's IC on its instrument over the evaluated bars; the
    ``implausible_edge`` flag when either is above its threshold. Decides nothing."""
    th = ctx.thresholds.G2
    market = ctx.market
    out: list[Verdict] = []
    for k, c in enumerate(ctx.candidates):
        base = float(ctx.base_sharpe[k])
        reasons: list[str] = []
        if base > th.implausible_sharpe:
            reasons.append(f"per-bar Sharpe {base:.3f} > {th.implausible_sharpe}")
        verdict: Verdict = {"sharpe": figure(base), "implausible_sharpe": th.implausible_sharpe}
        if not c.learned:
            verdict["ic"] = "n/a: rule agents read prices only"
        elif not market.exog_names:
            verdict["ic"] = "n/a: no exogenous columns"
        else:
            i = c.instrument or 0
            exog, close, valid = market.exog[:, i, :], market.close[:, i], market.valid[:, i]
            ic = next_bar_ic(exog, close, valid, ctx.start)
            verdict["ic"] = {n: figure(v) for n, v in zip(market.exog_names, ic, strict=True)}
            verdict["max_abs_ic"] = figure(np.abs(ic).max())
            reasons += [
                f"|IC| of {n} {abs(v):.3f} > {th.implausible_ic}"
                for n, v in zip(market.exog_names, ic, strict=True)
                if abs(v) > th.implausible_ic
            ]
        verdict["implausible_ic"] = th.implausible_ic
        verdict["flags"] = [IMPLAUSIBLE_EDGE] if reasons else []
        if reasons:
            verdict["reasons"] = reasons
        out.append(verdict)
    return out
