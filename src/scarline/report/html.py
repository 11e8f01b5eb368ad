"""``RUN_DIR/report.html``: the page a human reads after a run — a tearsheet.

Inline CSS; the interactive charts use plotly's bundled script, copied to
``plots/plotly.min.js``; PNGs are referenced relatively from ``plots/`` too, so the run
directory can be moved or archived as a whole (no CDN, nothing fetched). All text passes
through ``html.escape``. The page is a pure function of the run plus the optional
``generated_at`` line, so the same run gives the same bytes.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from scarline.diary.attribution import attribution_line, read_coverage
from scarline.evolution.lineage import read_lineage
from scarline.report.gate_report import read_gate_report
from scarline.report.gates_section import gates_html
from scarline.report.headline import Headline, drawdown_percent, headline, percent
from scarline.report.learning import LEARNING_PNG, plot_learning, results_learning
from scarline.report.metrics import AgentMetrics, agent_metrics, risk_event_counts
from scarline.report.plots import write_plots
from scarline.report.results import OUTCOMES, RunResults
from scarline.report.strategies import strategy_rows
from scarline.report.style import CSS
from scarline.report.tearsheet import (
    VOL_NAMES,
    Sheet,
    copy_plotly,
    tearsheet_html,
    volatility_terciles,
)
from scarline.rundir import RunDir
from scarline.safe_write import replace_file

TABLE_ROWS = 50
LINEAGE_PNG = "lineage.png"
MAX_SYMBOLS_SHOWN = 30

INTERACTIVE = ("equity.png", "drawdown.png")
"""Drawn by the tearsheet as zoomable charts instead."""
PLOT_CAPTIONS = {
    "trades.png": "Fills on the first instrument (▲ buy, ▼ sell).",
    "risk_events.png": "Risk check outcomes over time, per rule.",
}


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _utc(ts: int) -> str:
    return str(np.datetime_as_string(np.datetime64(int(ts), "ns"), unit="s")) + "Z"


def _kv_table(rows: list[tuple[str, str]]) -> str:
    body = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>\n" for k, v in rows)
    return f'<table class="meta">\n{body}</table>\n'


def _run_rows(results: RunResults, metrics: AgentMetrics) -> list[tuple[str, str]]:
    syms = results.symbols
    shown = ", ".join(syms[:MAX_SYMBOLS_SHOWN])
    if len(syms) > MAX_SYMBOLS_SHOWN:
        shown += f" … (+{len(syms) - MAX_SYMBOLS_SHOWN} more)"
    ret = metrics.total_return[np.isfinite(metrics.total_return)]
    rows = [
        ("run id", results.run_id),
        ("period", f"{_utc(results.timestamps[0])} … {_utc(results.timestamps[-1])}"),
        ("steps", f"{results.n_steps:,}"),
        (f"instruments ({len(syms)})", shown or "—"),
        ("agents", f"{results.n_agents:,}"),
        ("initial cash", f"{results.initial_cash:,.2f}"),
        ("periods per year (Sharpe)", f"{results.periods_per_year:g}"),
        ("fills", f"{len(results.trades):,}"),
        ("risk events", f"{len(results.risk_events):,}"),
    ]
    if ret.size:
        rows += [
            ("median return", f"{np.median(ret) * 100:+.2f} %"),
            ("agents with return > 0", f"{int((ret > 0).sum()):,} of {ret.size:,}"),
        ]
    if results.split_step is not None:
        split = results.split_step
        at = _utc(results.timestamps[split])
        rows.append(("out-of-sample from", f"step {split} ({at})"))
    return rows + list(results.meta.items())


def _agents_table(table: Headline) -> str:
    def cls(numeric: bool) -> str:
        return ' class="num"' if numeric else ""

    head = '<th class="num">rank</th>' + "".join(
        f"<th{cls(c.numeric)}>{_e(c.header)}</th>" for c in table.columns
    )
    body = []
    for rank, row, base in zip(table.ranks, table.rows, table.baseline, strict=True):
        cells = "".join(
            f"<td{cls(c.numeric)}>{_e(v)}</td>" for c, v in zip(table.columns, row, strict=True)
        )
        tr = '<tr class="baseline">' if base else "<tr>"
        body.append(f'{tr}<td class="num">{rank}</td>{cells}</tr>\n')
    note = f'<p class="note">{_e(table.caption)}. Baselines are highlighted.</p>\n'
    return f'{note}<table class="agents">\n<tr>{head}</tr>\n{"".join(body)}</table>\n'


def _strategies_table(results: RunResults, metrics: AgentMetrics) -> str:
    pct = percent(signed=True)
    head = "".join(
        f'<th class="num">{h}</th>'
        for h in ("agents", "return", "in-sample", "out-of-sample", "sharpe", "max drawdown")
    )
    head = f'<th>strategy</th>{head}<th class="num">fees</th><th class="num">dead</th>'
    body = []
    assert results.kinds is not None  # RunResults fills it in (the policies when not given)
    for r in strategy_rows(metrics, results.kinds):
        cells = [
            f"{r.agents:,}",
            pct(r.median_return),
            pct(r.median_is_return),
            pct(r.median_oos_return),
            "—" if not np.isfinite(r.median_sharpe) else f"{r.median_sharpe:.2f}",
            drawdown_percent(r.median_max_drawdown),
            f"{r.fees:,.2f}",
            f"{r.dead:,}",
        ]
        tds = "".join(f'<td class="num">{_e(c)}</td>' for c in cells)
        body.append(f"<tr><td>{_e(r.kind)}</td>{tds}</tr>\n")
    if results.split_step is None:
        split = "no in-sample / out-of-sample split (evaluation.oos_fraction = 0)"
    else:
        at = _utc(results.timestamps[results.split_step])
        split = f"out-of-sample = step {results.split_step:,} ({at}) to the end"
    note = (
        f'<p class="note">Medians per strategy, net of fees and slippage; fees are the '
        f"group's total. {_e(split)}.</p>\n"
    )
    return f'{note}<table class="agents strategies">\n<tr>{head}</tr>\n{"".join(body)}</table>\n'


def _risk_table(results: RunResults) -> str:
    log = results.risk_events
    if not len(log):
        return '<p class="note">no risk events</p>\n'
    counts = risk_event_counts(log)
    head = "<th>rule</th>" + "".join(f'<th class="num">{_e(o)}</th>' for o in OUTCOMES)
    head += '<th class="num">total</th>'

    def cells(values: np.ndarray) -> str:
        return "".join(
            f'<td class="num{" zero" if v == 0 else ""}">{v:,}</td>' for v in values.tolist()
        )

    rows = [
        f"<tr><td>{_e(name)}</td>{cells(np.r_[row, row.sum()])}</tr>\n"
        for name, row in zip(log.rule_names, counts, strict=True)
        if row.any()  # only rules that occur
    ]
    total = counts.sum(axis=0)
    rows.append(f"<tr><th>total</th>{cells(np.r_[total, total.sum()])}</tr>\n")
    return f"<table>\n<tr>{head}</tr>\n{''.join(rows)}</table>\n"


def render_report(
    results: RunResults,
    metrics: AgentMetrics,
    plot_names: list[str],
    generated_at: str = "",
    lineage_caption: str | None = None,
    attribution: str | None = None,
    gates: str | None = None,
    learning: list[str] | None = None,
    tearsheet: str = "",
    script: str | None = None,
) -> str:
    """The page as text; ``plot_names`` are file names inside ``plots/``; a Lineage section
    showing ``plots/lineage.png`` is added when ``lineage_caption`` is given, an Attribution
    line (the decision diary's coverage) when ``attribution`` is."""
    title = f"scarline run {results.run_id}"
    parts = [
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
        f"<title>{_e(title)}</title>\n<style>{CSS}</style>\n",
        "" if script is None else f'<script src="{_e(script)}" charset="utf-8"></script>\n',
        "</head>\n<body>\n",
        f"<h1>Run <code>{_e(results.run_id)}</code></h1>\n",
    ]
    if generated_at:
        parts.append(f'<p class="generated">generated at {_e(generated_at)}</p>\n')
    parts += ["<h2>Run</h2>\n", _kv_table(_run_rows(results, metrics))]
    if learning is not None:
        parts.append('<h2>Learning</h2>\n<div class="learning">\n')
        parts += [f"<p>{_e(line)}</p>\n" for line in learning]
        parts.append(
            f'<figure><img src="{RunDir.PLOTS}/{LEARNING_PNG}" alt="learning curve">'
            "<figcaption>Learning curve: the learners' median cumulative return (10-90 % "
            "band) beside the placebos' median and buy-and-hold</figcaption></figure>\n</div>\n"
        )
    if attribution is not None:
        parts += [
            "<h2>Attribution</h2>\n",
            f"<p>{_e(attribution)}</p>\n",
            '<p class="note">Query every decision with <code>scarline diary RUN_DIR --sql '
            "&quot;SELECT …&quot;</code> (diary.parquet).</p>\n",
        ]
    if gates is not None:
        parts += ["<h2>Gates</h2>\n", gates]
    parts.append(tearsheet)
    parts += ["<h2>By strategy</h2>\n", _strategies_table(results, metrics)]
    parts += ["<h2>Agents</h2>\n", _agents_table(headline(metrics, TABLE_ROWS))]
    parts.append("<h2>Plots</h2>\n")
    for name in [n for n in plot_names if n not in INTERACTIVE]:
        caption = PLOT_CAPTIONS.get(name, name)
        parts.append(
            f'<figure><img src="{RunDir.PLOTS}/{_e(name)}" alt="{_e(caption)}">'
            f"<figcaption>{_e(caption)}</figcaption></figure>\n"
        )
    if lineage_caption is not None:
        parts += [
            "<h2>Lineage</h2>\n",
            f'<figure><img src="{RunDir.PLOTS}/{LINEAGE_PNG}" alt="lineage tree">'
            f"<figcaption>{_e(lineage_caption)}</figcaption></figure>\n",
        ]
    parts += ["<h2>Risk events</h2>\n", _risk_table(results), "</body>\n</html>\n"]
    return "".join(parts)


def _write_lineage(run_dir: Path) -> str | None:
    """Draw ``run_dir/lineage.parquet`` (an evolving run's) into ``plots/lineage.png``; its
    caption, or None for a run without a lineage."""
    paths = RunDir(run_dir)
    source = paths.lineage
    if not source.is_file():
        return None
    # imported here: only evolving runs need it (and networkx)
    from scarline.report.lineage_plot import lineage_caption, write_lineage_png

    table = read_lineage(source)
    write_lineage_png(table, paths.plots / LINEAGE_PNG)
    return lineage_caption(table)


def _attribution(run_dir: Path) -> str | None:
    """The attribution line of ``run_dir/diary.parquet`` (written before the report), or
    None for a run without a diary."""
    source = RunDir(run_dir).diary
    if not source.is_file():
        return None
    return attribution_line(*read_coverage(source))


def _gates(run_dir: Path) -> str | None:
    """The Gates section from ``run_dir/gates.json`` (written by ``scarline gates``)."""
    source = RunDir(run_dir).gates
    if not source.is_file():
        return None
    return gates_html(read_gate_report(source))


def _sheet(
    results: RunResults, run_dir: Path, regimes: tuple[np.ndarray, tuple[str, ...]] | None
) -> Sheet:
    index = pd.DatetimeIndex(pd.to_datetime(results.timestamps, unit="ns", utc=True))
    equity = pd.DataFrame(results.equity, index=index, columns=results.agent_ids.tolist())
    path = RunDir(run_dir).trades
    trades = pq.read_table(path).to_pandas() if path.is_file() else _no_trades()
    if regimes is None:
        regimes = (volatility_terciles(results.close), VOL_NAMES)
    ids = results.agent_ids.tolist()
    kinds = results.kinds or results.policies
    labels = dict(zip(ids, results.policies, strict=True))
    for slot, lineage_id in _occupants(run_dir).items():  # an evolving run's slots
        if slot in labels:
            labels[slot] += f" (lineage id {lineage_id})"
    return Sheet(
        equity=equity,
        trades=trades,
        kinds=dict(zip(ids, kinds, strict=True)),
        labels=labels,
        periods_per_year=results.periods_per_year,
        regimes=regimes[0],
        regime_names=regimes[1],
    )


def _occupants(run_dir: Path) -> dict[int, int]:
    """Agent id (slot) → lineage id of who holds it at the end, in an evolving run: the
    tables name slots, the lineage names individuals, and the page shows both."""
    path = RunDir(run_dir).lineage
    if not path.is_file():
        return {}
    table = read_lineage(path)
    alive = table.column("death_step").to_numpy() < 0
    slots = table.column("slot").to_numpy()[alive]
    ids = table.column("agent_id").to_numpy()[alive]
    return {int(s): int(i) for s, i in zip(slots, ids, strict=True)}


def _no_trades() -> pd.DataFrame:
    columns = ["agent", "entry_step", "exit_step", "pnl", "fees", "open"]
    return pd.DataFrame({c: pd.Series(dtype="float64") for c in columns})


@dataclass(frozen=True, eq=False)
class ReportDraft:
    """report.html but its Gates section: the plots (on disk), the tearsheet and every
    table, which take seconds. ``scarline gates`` drafts it while its re-runs run and
    writes it (:meth:`write`) once gates.json exists, so only the Gates section waits."""

    results: RunResults
    paths: RunDir
    metrics: AgentMetrics
    plots: list[str]
    caption: str | None
    attribution: str | None
    learning: list[str]
    sheet: str
    script: str

    def write(self, generated_at: str = "") -> Path:
        """Render with the run's gates.json as it is now; written to a temporary file and
        renamed, so a crash never leaves half a page."""
        page = render_report(
            self.results,
            self.metrics,
            self.plots,
            generated_at,
            self.caption,
            self.attribution,
            _gates(self.paths.root),
            self.learning,
            self.sheet,
            self.script,
        )
        path = self.paths.report
        replace_file(path, page.encode("utf-8"))  # never through a link planted in the run
        return path


def draft_report(
    results: RunResults,
    run_dir: Path,
    regimes: tuple[np.ndarray, tuple[str, ...]] | None = None,
) -> ReportDraft:
    """Write ``run_dir/plots/*.png`` and everything of the page that the gates leave alone.

    An evolving run's ``lineage.parquet`` (written before the report) adds a Lineage section,
    the decision diary ``diary.parquet`` an Attribution line.
    """
    paths = RunDir(Path(run_dir))
    metrics = agent_metrics(results)
    plots = write_plots(results, paths.plots, metrics)
    plot_learning(results, paths.plots)
    script = copy_plotly(paths.plots)
    turnover = dict(zip(results.agent_ids.tolist(), results.turnover.tolist(), strict=True))
    return ReportDraft(
        results,
        paths,
        metrics,
        [p.name for p in plots],
        _write_lineage(paths.root),
        _attribution(paths.root),
        results_learning(results, metrics).sentences(),
        tearsheet_html(_sheet(results, paths.root, regimes), turnover),
        script,
    )


def write_report(
    results: RunResults,
    run_dir: Path,
    generated_at: str = "",
    regimes: tuple[np.ndarray, tuple[str, ...]] | None = None,
) -> Path:
    """Write ``run_dir/plots/*.png`` and ``run_dir/report.html``; return the HTML path
    (:func:`draft_report`, then :meth:`ReportDraft.write`)."""
    return draft_report(results, run_dir, regimes).write(generated_at)
