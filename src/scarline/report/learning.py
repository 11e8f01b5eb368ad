"""Did the learners learn? The report's answer, next to the placebo and buy-and-hold.

A reader opening a run wants one judgement before any table: out of sample, did the learning
agents trade, and did they do better than random timing (the random-entry placebos) and than
holding the market? :func:`learning_summary` computes it from the per-agent metrics and says
it in one sentence; :func:`plot_learning` draws the learning curve (each group's median
cumulative return, learners with their 10-90 % band) with the split marked.

The sentence about the gates is a forecast from the same figures, not a gate verdict: G2's
evidence test asks the judged learner to beat, among other benchmarks, the random-entry
placebo out of sample (at level 2 % by default, with its in-sample record joined), so the
share of learners above the placebos' 95th percentile is a rough guide to the chance that a
top in-sample learner passes it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scarline.report.figure import decimated_rows, new_figure, save_png, show_message, time_axis
from scarline.report.headline import percent
from scarline.report.kinds import BENCHMARK, LEARNER, PLACEBO
from scarline.report.metrics import AgentMetrics
from scarline.report.results import RunResults
from scarline.report.strategies import finite_median

PLACEBO_QUANTILE = 0.95
LEARNING_PNG = "learning.png"
_pct = percent(signed=True)


@dataclass(frozen=True)
class LearningSummary:
    """Out-of-sample medians per group (NaN where the run has no such group or no split)."""

    learners: int
    median_oos_return: float
    median_oos_sharpe: float
    median_oos_trades: float
    placebo_median_oos_return: float
    placebo_oos_sharpe_q95: float
    buy_and_hold_oos_return: float
    buy_and_hold_oos_sharpe: float
    beat_placebos: int  # learners whose out-of-sample Sharpe beats the placebos' 95th pct

    @property
    def edge(self) -> bool:
        """The median learner beats the placebos' 95th percentile out of sample."""
        return bool(self.median_oos_sharpe > self.placebo_oos_sharpe_q95)

    def sentences(self) -> list[str]:
        """What a reader should take away, in plain words."""
        if self.learners == 0:
            return ["This run has no learning agents."]
        if not np.isfinite(self.median_oos_return):
            return ["No out-of-sample part (evaluation.oos_fraction = 0): nothing to judge."]
        out = [
            f"Out of sample the {self.learners:,} learners' median return is "
            f"{_pct(self.median_oos_return)} with a median of {self.median_oos_trades:,.0f} "
            f"trades and a median annualized Sharpe of {_num(self.median_oos_sharpe)}; "
            f"the random-entry placebos' median return is "
            f"{_pct(self.placebo_median_oos_return)} and buy-and-hold's "
            f"{_pct(self.buy_and_hold_oos_return)} (Sharpe "
            f"{_num(self.buy_and_hold_oos_sharpe)})."
        ]
        if not np.isfinite(self.placebo_oos_sharpe_q95):
            out.append("The run has no random-entry placebos to judge the learners against.")
        elif self.edge:
            out.append(
                f"The median learner beats the placebos' 95th percentile Sharpe "
                f"({_num(self.placebo_oos_sharpe_q95)}): the learners found more than random "
                "timing finds."
            )
        else:
            out.append(
                f"No edge found on this data: the median learner's Sharpe is within the "
                f"placebos' range (95th percentile {_num(self.placebo_oos_sharpe_q95)}), so "
                "random timing explains what the learners earned."
            )
        if np.isfinite(self.placebo_oos_sharpe_q95):
            share = self.beat_placebos / self.learners
            out.append(
                f"What the gates would say: {self.beat_placebos:,} of {self.learners:,} "
                f"learners ({share:.0%}) beat the placebos' 95th percentile out of sample, "
                "roughly what G2's evidence test (SPA against the placebo) asks; "
                f"{'expect' if share > 0.5 else 'do not expect'} a top in-sample learner to "
                "pass G2 (run `scarline gates RUN_DIR --agents top:3` for the verdict)."
            )
        return out


def _num(x: float) -> str:
    return "—" if not np.isfinite(x) else f"{x:.2f}"


def _kinds(results: RunResults) -> list[str]:
    return list(results.kinds if results.kinds is not None else results.policies)


def learning_summary(kinds: list[str], metrics: AgentMetrics) -> LearningSummary:
    """The learners' out-of-sample medians beside the placebos' and buy-and-hold's;
    ``kinds`` is each agent's strategy kind (``RunResults.kinds``)."""
    labels = np.asarray(kinds)
    learn, placebo, bench = (labels == LEARNER), (labels == PLACEBO), (labels == BENCHMARK)
    placebo_sharpe = metrics.oos_sharpe[placebo]
    placebo_sharpe = placebo_sharpe[np.isfinite(placebo_sharpe)]
    q95 = float(np.quantile(placebo_sharpe, PLACEBO_QUANTILE)) if placebo_sharpe.size else np.nan
    learner_sharpe = np.nan_to_num(metrics.oos_sharpe[learn], nan=0.0)
    trades = metrics.oos_trades[learn].astype(np.float64)
    return LearningSummary(
        learners=int(learn.sum()),
        median_oos_return=finite_median(metrics.oos_return[learn]),
        median_oos_sharpe=finite_median(metrics.oos_sharpe[learn]),
        median_oos_trades=finite_median(np.where(trades < 0, np.nan, trades)),
        placebo_median_oos_return=finite_median(metrics.oos_return[placebo]),
        placebo_oos_sharpe_q95=q95,
        buy_and_hold_oos_return=finite_median(metrics.oos_return[bench]),
        buy_and_hold_oos_sharpe=finite_median(metrics.oos_sharpe[bench]),
        beat_placebos=int((learner_sharpe > q95).sum()) if np.isfinite(q95) else 0,
    )


def results_learning(results: RunResults, metrics: AgentMetrics) -> LearningSummary:
    """:func:`learning_summary` of a run's results."""
    return learning_summary(_kinds(results), metrics)


def _cumulative(equity: np.ndarray) -> np.ndarray:
    """Cumulative return of each column from its first value (NaN where not alive)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return equity / equity[:1] - 1.0


def plot_learning(results: RunResults, plots_dir: Path) -> Path:
    """The learning curve: the learners' median cumulative return in its 10-90 % band, the
    placebos' median (dotted) and buy-and-hold (dashed black), the split marked."""
    fig, ax = new_figure()
    kinds = np.asarray(_kinds(results))
    learn = kinds == LEARNER
    path = plots_dir / LEARNING_PNG
    if not learn.any():
        show_message(ax, "no learning agents")
        return save_png(fig, path)
    rows = decimated_rows(results.n_steps)
    x = time_axis(ax, results.timestamps[rows])
    curves = _cumulative(results.equity)[rows]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows (nobody alive)
        lo, mid, hi = np.nanpercentile(curves[:, learn], [10, 50, 90], axis=1)
        ax.fill_between(x, lo * 100, hi * 100, color="#1f77b4", alpha=0.2, label="learners 10-90 %")
        ax.plot(x, mid * 100, color="#1f77b4", linewidth=1.8, label="learners (median)")
        placebo = kinds == PLACEBO
        if placebo.any():
            med = np.nanmedian(curves[:, placebo], axis=1) * 100
            ax.plot(x, med, ":", color="#7f7f7f", linewidth=1.6, label="placebos (median)")
    bench = np.flatnonzero(kinds == BENCHMARK)
    if bench.size:
        ax.plot(
            x, curves[:, bench[0]] * 100, "--", color="black", linewidth=1.2, label="buy-and-hold"
        )
    if results.split_step is not None:
        ax.axvline(
            results.timestamps[results.split_step].astype("datetime64[ns]"),
            color="#444444",
            linestyle="--",
            linewidth=1,
            label="in-sample | out-of-sample",
        )
    ax.set_ylabel("cumulative return (%)")
    ax.set_yscale("symlog", linthresh=100)
    ax.legend(loc="upper left", fontsize=8)
    return save_png(fig, path)
