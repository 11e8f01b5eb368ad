"""The report's PNGs: trade markers and the risk-event timeline (the equity and drawdown
charts are the tearsheet's interactive ones, :mod:`scarline.report.tearsheet`).

Each function draws one figure into ``plots_dir`` and returns its path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.axes import Axes

from scarline.report.figure import new_figure, save_png, show_message, time_axis
from scarline.report.metrics import AgentMetrics, agent_metrics
from scarline.report.results import OUTCOMES, RunResults

OUTCOME_COLOURS = {
    "pass": "#b0b0b0",
    "warn": "#e6b422",
    "throttle": "#f28e2b",
    "reject": "#d62728",
    "halt": "#7b3fb5",
    "kill": "#000000",
}
PLOT_FILES = ("trades.png", "risk_events.png")


def plain(text: str) -> str:
    """``text`` drawn as it is: matplotlib reads a span between two ``$`` as mathtext, and a
    symbol or strategy parameter such as ``$\\frac{$`` failed the whole report."""
    return text.replace("$", r"\$")


def _label(metrics: AgentMetrics, col: int) -> str:
    return plain(f"#{metrics.agent_ids[col]} {metrics.policies[col]}")


def _split_line(ax: Axes, x: np.ndarray, split_step: int | None) -> None:
    if split_step is not None:
        ax.axvline(
            x[split_step],
            color="#444444",
            linestyle="--",
            linewidth=1,
            label="in-sample | out-of-sample",
        )


def _legend(ax: Axes) -> None:
    ax.legend(loc="upper left", fontsize=7, framealpha=0.85, ncols=2)


def trade_plot_agent(results: RunResults, metrics: AgentMetrics) -> int | None:
    """Column of the best agent by return with a fill on instrument 0 (None: nobody traded)."""
    tr = results.trades
    traded = np.bincount(tr.agent[tr.instrument == 0], minlength=results.n_agents) > 0
    order = metrics.ranking()
    hits = order[traded[order]]
    return int(hits[0]) if hits.size else None


def plot_trades(results: RunResults, plots_dir: Path, metrics: AgentMetrics | None = None) -> Path:
    """Instrument 0's close with the fills of the best agent that traded it (▲ buy, ▼ sell)."""
    metrics = metrics if metrics is not None else agent_metrics(results)
    fig, ax = new_figure()
    path = plots_dir / "trades.png"
    if not results.symbols:
        show_message(ax, "no instruments")
        return save_png(fig, path)
    x = time_axis(ax, results.timestamps)
    symbol = plain(results.symbols[0])
    ax.plot(x, results.close[:, 0], color="#555555", linewidth=0.9, label=f"{symbol} close")
    col = trade_plot_agent(results, metrics)
    if col is None:
        ax.set_title(f"{symbol}: trades")
        show_message(ax, "no trades")
        return save_png(fig, path)
    tr = results.trades
    mine = (tr.instrument == 0) & (tr.agent == col)
    for side, marker, colour, name in ((1, "^", "#2ca02c", "buy"), (-1, "v", "#d62728", "sell")):
        sel = mine & (tr.side == side)
        ax.scatter(
            x[tr.step[sel]],
            tr.price[sel],
            marker=marker,
            color=colour,
            s=36,
            zorder=3,
            label=f"{name} ({int(sel.sum())})",
        )
    _split_line(ax, x, results.split_step)
    ax.set_title(f"{symbol}: fills of {_label(metrics, col)} (best return among agents trading it)")
    ax.set_ylabel("price")
    _legend(ax)
    return save_png(fig, path)


def plot_risk_events(results: RunResults, plots_dir: Path) -> Path:
    """One row per rule, one tick per step with an event, coloured by outcome."""
    log = results.risk_events
    # rows only for rules that occur (a code table such as risk.codes.RULES has many more)
    present, row_of_rule = np.unique(log.rule, return_inverse=True)
    labels = [plain(log.rule_names[i]) for i in present.tolist()]
    fig, ax = new_figure(height=max(2.5, 1.2 + 0.35 * len(labels)))
    path = plots_dir / "risk_events.png"
    if not len(log):
        ax.set_title("Risk events")
        show_message(ax, "no risk events")
        return save_png(fig, path)
    x = time_axis(ax, results.timestamps)
    o_n, r_n = len(OUTCOMES), len(labels)
    # one mark per (step, rule, outcome), however many agents hit it: bounded by T × rules
    key = np.unique((log.step * r_n + row_of_rule) * o_n + log.outcome)
    step, rule, outcome = key // (r_n * o_n), key // o_n % r_n, key % o_n
    totals = np.bincount(log.outcome, minlength=o_n)
    for code, name in enumerate(OUTCOMES):
        sel = outcome == code
        if sel.any():
            ax.scatter(
                x[step[sel]],
                rule[sel],
                marker="|",
                s=120,
                linewidths=1.5,
                color=OUTCOME_COLOURS[name],
                alpha=0.5 if name == "pass" else 1.0,
                label=f"{name} ({totals[code]:,})",
                zorder=2 + code,
            )
    ax.set_yticks(range(r_n), labels)
    ax.set_ylim(r_n - 0.3, -0.7)  # first rule on top
    if results.n_steps > 1:
        ax.set_xlim(x[0], x[-1])
    _split_line(ax, x, results.split_step)
    ax.set_title("Risk events (rule × time, coloured by outcome)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    return save_png(fig, path)


def write_plots(
    results: RunResults, plots_dir: Path, metrics: AgentMetrics | None = None
) -> list[Path]:
    """All report PNGs, in :data:`PLOT_FILES` order."""
    metrics = metrics if metrics is not None else agent_metrics(results)
    return [
        plot_trades(results, plots_dir, metrics),
        plot_risk_events(results, plots_dir),
    ]
