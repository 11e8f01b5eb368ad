"""G2 ``time_shift``: lookahead in *code* is a broken contract; how fast the edge fades when
its exogenous inputs arrive late is a *figure*.

Truncation (Freqtrade's lookahead analysis) cuts the data at a few bars and re-runs: a causal
policy's decisions and their inputs before a cut cannot change. That is a hard failure.

The lag half-life re-runs the candidate with every exogenous column ``lag_bars`` bars late.
A one-bar signal known at its bar's close (a legitimate fast predictor) and a leaked copy of
the next return both vanish one bar late, so the lag cannot tell them apart and never fails
anyone; it says how persistent the edge is. Implausibly strong edges are flagged elsewhere
(:mod:`scarline.gating.plausibility`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from scarline.gating.context import GateContext, Verdict, figure
from scarline.gating.jobs import FrozenJob
from scarline.gating.transforms import lagged_exog, truncated
from scarline.stats import sharpe


def half_life(lags: Sequence[int], sharpes: Sequence[float]) -> float | None:
    """The lag (bars) at which the Sharpe falls to half of its lag-0 value, linearly
    interpolated between the measured lags (``lags[0]`` must be 0); None when it stays above
    half up to the largest lag. Needs a positive lag-0 Sharpe."""
    if len(lags) != len(sharpes) or len(lags) < 2 or lags[0] != 0:
        raise ValueError("need lags starting at 0 and one Sharpe per lag")
    base = float(sharpes[0])
    if base <= 0:
        raise ValueError(f"no edge to halve: lag-0 Sharpe {base}")
    ratio = [float(s) / base for s in sharpes]
    for i in range(1, len(lags)):
        if ratio[i] <= 0.5:
            share = (ratio[i - 1] - 0.5) / (ratio[i - 1] - ratio[i])
            return float(lags[i - 1] + share * (lags[i] - lags[i - 1]))
    return None


def _cuts(ctx: GateContext) -> list[int]:
    t = ctx.market.n_steps
    n_cuts = ctx.thresholds.G2.truncation_cuts
    cuts = sorted({int(c) for c in np.linspace(ctx.start, t, n_cuts + 2)[1:-1]})
    return [c for c in cuts if 2 <= c < t]


def truncation_jobs(ctx: GateContext) -> dict[str, FrozenJob]:
    """The candidates frozen, with their decision logs, on the data cut at each cut point
    (and on the whole data: the reference)."""
    jobs = {"frozen": ctx.frozen_job(log=True)}
    for cut in _cuts(ctx):
        jobs[f"cut:{cut}"] = ctx.frozen_job(market=truncated(ctx.market, cut), log=True)
    return jobs


def lag_jobs(ctx: GateContext) -> dict[str, FrozenJob]:
    """One batched frozen run per lag with every exogenous column late; none without
    exogenous columns."""
    if not ctx.market.exog_names:
        return {}
    return {
        f"lag:{lag}": ctx.frozen_job(market=lagged_exog(ctx.market, lag))
        for lag in ctx.thresholds.G2.lag_bars
    }


def _truncation(ctx: GateContext) -> tuple[list[int], list[int | None]]:
    """The cut points and, per candidate, the first bar whose decision (or, for learned
    agents, the decision inputs) changed when the data was cut; None: none changed."""
    cuts = _cuts(ctx)
    runs = ctx.results(truncation_jobs(ctx), "time shift: data cuts")
    full = ctx.frozen
    diverged: list[int | None] = [None] * len(ctx.candidates)
    for cut in cuts:
        cut_run = runs[f"cut:{cut}"]
        inputs = full.log.first_input_difference(cut_run.log, cut)
        for k, c in enumerate(ctx.candidates):
            first = full.log.first_difference(cut_run.log, full.rows[k], cut)
            if c.learned and inputs is not None:  # its features differ (rules read closes)
                first = inputs if first is None else min(first, inputs)
            earlier = diverged[k]
            if first is not None and (earlier is None or first < earlier):
                diverged[k] = first
    return cuts, diverged


def _lagged_sharpes(ctx: GateContext) -> np.ndarray | None:
    """``[len(lag_bars), K]`` Sharpes with every exogenous column late; None without
    exogenous columns."""
    jobs = lag_jobs(ctx)
    if not jobs:
        return None
    returns = ctx.frozen_returns(jobs)
    return np.asarray([sharpe(returns[name]) for name in jobs])


def _lag_figures(lags: list[int], sharpes: np.ndarray) -> Verdict:
    """The reported lag figures of one candidate (lag 0 first)."""
    verdict: Verdict = {
        "bars": lags,
        "sharpe": [figure(s) for s in sharpes],
    }
    if sharpes[0] <= 0:
        verdict["half_life_bars"] = "n/a: no edge to shift"
        return verdict
    verdict["retention"] = [figure(s / sharpes[0]) for s in sharpes]
    h = half_life(lags, list(sharpes))
    verdict["half_life_bars"] = figure(h) if h is not None else f"> {lags[-1]}"
    return verdict


def time_shift(ctx: GateContext) -> list[Verdict]:
    """Contract: truncation leaves everything before a cut unchanged. Figure: the Sharpe
    with exogenous columns ``lag_bars`` late and the lag at which it halves."""
    cuts, diverged = _truncation(ctx)
    lagged = _lagged_sharpes(ctx)
    lags = [0, *ctx.thresholds.G2.lag_bars]
    out: list[Verdict] = []
    for k, base in enumerate(ctx.base_sharpe):
        verdict: Verdict = {"cuts": cuts, "truncation_identical": diverged[k] is None}
        if diverged[k] is not None:
            verdict["first_divergent_bar"] = diverged[k]
        if lagged is None:
            verdict["lag"] = "n/a: no exogenous columns"
        else:
            verdict["lag"] = _lag_figures(lags, np.concatenate([[base], lagged[:, k]]))
        verdict["pass"] = diverged[k] is None
        out.append(verdict)
    return out
