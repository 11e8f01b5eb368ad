"""The report's interactive tearsheet: equity and drawdown charts (plotly, zoomable), the
statistics table, monthly and yearly returns, per-regime figures and the trade list.

Charts use plotly's own bundled script, copied once into ``plots/plotly.min.js`` and loaded
relatively (no CDN; the run directory stays movable). Every agent is named by its agent id,
the same id ``equity.parquet``, ``trades.parquet``, ``scarline stats`` and the API use.
Buy-and-hold is drawn thick and dashed, placebos faint and dotted and labelled "placebo"; the
best learners by final equity are drawn in colour and marked ★ in the tables.
"""

from __future__ import annotations

import html
import shutil
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scarline.performance import performance_table
from scarline.report.kinds import BENCHMARK, LEARNER, PLACEBO

PLOTLY_JS = "plotly.min.js"
TOP = 5
MAX_POINTS = 1500
TRADES_SHOWN = 40
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


@dataclass(frozen=True)
class Sheet:
    """What the tearsheet draws: equity (time × agent id), the trades, each agent's kind and
    label, a regime label per bar (or None) and the regime names."""

    equity: pd.DataFrame
    trades: pd.DataFrame
    kinds: dict[int, str]
    labels: dict[int, str]
    periods_per_year: float
    regimes: np.ndarray | None = None
    regime_names: tuple[str, ...] = ()

    def role(self, agent: int) -> str:
        kind = self.kinds.get(agent, "")
        if kind == BENCHMARK:
            return "benchmark"
        if kind == PLACEBO:
            return "placebo"
        return "learner" if kind == LEARNER else "rule"

    def name(self, agent: int) -> str:
        role = self.role(agent)
        tag = {"benchmark": " (benchmark)", "placebo": " (placebo)"}.get(role, "")
        star = "★ " if agent in self.top else ""
        return f"{star}#{agent} {self.labels.get(agent, '')}{tag}"

    @cached_property
    def top(self) -> list[int]:
        """The best non-benchmark, non-placebo agents by final equity (learners first); every
        agent's name asks, so it is sorted once."""
        last = self.equity.iloc[-1]
        pool = [a for a in self.equity.columns if self.role(a) in ("learner", "rule")]
        learners = [a for a in pool if self.role(a) == "learner"] or pool
        return sorted(learners, key=lambda a: -np.nan_to_num(last[a], nan=-np.inf))[:TOP]

    @property
    def shown(self) -> list[int]:
        bench = [a for a in self.equity.columns if self.role(a) == "benchmark"]
        placebos = [a for a in self.equity.columns if self.role(a) == "placebo"][:8]
        return [*self.top, *bench, *placebos]


VOL_NAMES = ("low-vol", "mid-vol", "high-vol")
VOL_WINDOW = 20


def volatility_terciles(close: np.ndarray) -> np.ndarray:
    """Per bar: 0/1/2 for the low/mid/high third of the universe's trailing 20-bar realized
    volatility (a regime split for runs without the HMM); the first bars count as low."""
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.diff(np.log(close), axis=0, prepend=np.log(close[:1]))
    sq = np.nanmean(np.where(np.isfinite(r), r * r, np.nan), axis=1)
    sq = np.nan_to_num(sq, nan=0.0)
    vol = pd.Series(sq).rolling(VOL_WINDOW, min_periods=1).mean().to_numpy()
    cuts = np.quantile(vol, [1 / 3, 2 / 3])
    return np.searchsorted(cuts, vol).astype(np.int64)


def _kept_rows(n: int) -> np.ndarray:
    return np.unique(np.linspace(0, n - 1, MAX_POINTS).round().astype(int))


def _thin(frame: pd.DataFrame) -> pd.DataFrame:
    if len(frame) <= MAX_POINTS:
        return frame
    return frame.iloc[_kept_rows(len(frame))]


def _thin_worst(frame: pd.DataFrame) -> pd.DataFrame:
    """:func:`_thin`'s rows, each holding the lowest value since the previous kept row: a
    drawdown chart keeps its deepest point (the table's max drawdown) however it is thinned."""
    if len(frame) <= MAX_POINTS:
        return frame
    rows = _kept_rows(len(frame))
    starts = np.concatenate([[0], rows[:-1] + 1])
    worst = np.fmin.reduceat(frame.to_numpy(dtype=np.float64), starts, axis=0)
    return pd.DataFrame(worst, index=frame.index[rows], columns=frame.columns)


def _line(sheet: Sheet, agent: int) -> dict[str, object]:
    role = sheet.role(agent)
    if role == "benchmark":
        return {"color": "#111111", "width": 3, "dash": "dash"}
    if role == "placebo":
        return {"color": "#b0bec5", "width": 1, "dash": "dot"}
    return {"width": 2}


def _figure_html(fig: object, div_id: str) -> str:
    html_text: str = fig.to_html(  # type: ignore[attr-defined]
        full_html=False, include_plotlyjs=False, div_id=div_id, config={"responsive": True}
    )
    return html_text


def _plotly_x(index: pd.Index) -> pd.Index | np.ndarray:
    """Timestamps as the ISO strings plotly writes for them: the same figure JSON, without
    plotly deep-copying and converting thousands of Timestamp objects per trace (~1 s)."""
    if isinstance(index, pd.DatetimeIndex):
        return np.array([t.isoformat() for t in index])
    return index


def figures(sheet: Sheet) -> tuple[Any, Any]:
    """The equity and drawdown figures (plotly): what the report embeds and
    ``Result.plot`` returns."""
    import plotly.graph_objects as go  # type: ignore[import-untyped]

    full = sheet.equity[sheet.shown]
    # the drawdown from the running peak of every bar, thinned after, keeping each span's
    # worst: thinned first, the peaks and troughs between the kept bars were lost and the
    # chart understated the fall the statistics table shows
    falls = _thin_worst(100.0 * (full / full.cummax() - 1.0))
    shown = _thin(full)
    x = _plotly_x(shown.index)
    equity, drawdown = go.Figure(), go.Figure()
    for agent in sheet.shown:
        curve = shown[agent]
        common = {"x": x, "mode": "lines", "name": sheet.name(agent)}
        equity.add_trace(go.Scatter(y=curve, line=_line(sheet, agent), **common))
        drawdown.add_trace(go.Scatter(y=falls[agent], line=_line(sheet, agent), **common))
    layout = {"hovermode": "x unified", "height": 460, "margin": {"l": 60, "r": 20, "t": 40}}
    equity.update_layout(title="Equity (currency): zoom with a drag, double-click to reset",
                         **layout)  # fmt: skip
    drawdown.update_layout(title="Drawdown from the running peak (%)", **layout)
    return equity, drawdown


def charts(sheet: Sheet) -> str:
    """The equity and drawdown figures as two plotly divs."""
    equity, drawdown = figures(sheet)
    return _figure_html(equity, "equity-chart") + _figure_html(drawdown, "drawdown-chart")


def stats_table(sheet: Sheet, turnover: dict[int, float] | None = None) -> str:
    """The statistics of the top agents, the benchmark and the placebos' median."""
    table = performance_table(sheet.equity, sheet.trades, sheet.periods_per_year, turnover)
    placebos = [a for a in table.index if sheet.role(a) == "placebo"]
    rows = [(sheet.name(a), table.loc[a], sheet.role(a)) for a in sheet.shown[: TOP + 1]]
    if placebos:
        rows.append(("placebos (median)", table.loc[placebos].median(), "placebo"))
    pct = {"return", "cagr", "volatility", "max_drawdown", "win_rate", "exposure"}
    columns = ["return", "cagr", "sharpe", "sortino", "calmar", "max_drawdown", "win_rate",
               "profit_factor", "exposure", "trades"]  # fmt: skip
    head = "".join(f'<th class="num">{_e(c.replace("_", " "))}</th>' for c in columns)
    body = []
    for name, row, role in rows:
        cells = "".join(f'<td class="num">{_e(_fmt(row[c], c in pct))}</td>' for c in columns)
        body.append(f'<tr class="{role}"><td class="agent">{_e(name)}</td>{cells}</tr>\n')
    rows_html = "".join(body)
    return f'<table class="stats fit">\n<tr><th>agent</th>{head}</tr>\n{rows_html}</table>\n'


def _fmt(value: object, percent: bool = False) -> str:
    if not isinstance(value, int | float | np.number) or not np.isfinite(float(value)):
        return "—"
    v = float(value)
    if percent:
        return f"{100 * v:.1f}%"
    return f"{v:,.0f}" if abs(v) >= 1000 or float(v).is_integer() else f"{v:.2f}"


def period_returns(curve: pd.Series) -> tuple[pd.DataFrame, pd.Series]:
    """Monthly returns (year × month) and yearly returns of one equity curve, each period
    measured from the previous period's last value (the first from the curve's start)."""
    monthly_last = curve.resample("ME").last().dropna()
    start = pd.Series([curve.iloc[0]], index=[monthly_last.index[0] - pd.offsets.MonthEnd(1)])
    monthly = pd.concat([start, monthly_last]).pct_change().iloc[1:]
    table = pd.DataFrame({"year": monthly.index.year, "month": monthly.index.month, "r": monthly})
    grid = table.pivot(index="year", columns="month", values="r")
    yearly_last = curve.resample("YE").last().dropna()
    first = pd.Series([curve.iloc[0]], index=[yearly_last.index[0] - pd.offsets.YearEnd(1)])
    yearly = pd.concat([first, yearly_last]).pct_change().iloc[1:]
    yearly.index = yearly.index.year
    return grid, yearly


def returns_table(sheet: Sheet, agent: int) -> str:
    grid, yearly = period_returns(sheet.equity[agent])
    head = "".join(f'<th class="num">{m}</th>' for m in MONTHS) + '<th class="num">year</th>'
    body = []
    for year in grid.index:
        cells = "".join(
            f'<td class="num{_sign(grid.loc[year].get(m))}">{_pct(grid.loc[year].get(m))}</td>'
            for m in range(1, 13)
        )
        total = yearly.get(year)
        body.append(f'<tr><td>{year}</td>{cells}<td class="num{_sign(total)}"><b>'
                    f"{_pct(total)}</b></td></tr>\n")  # fmt: skip
    return (
        f'<p class="note">{_e(sheet.name(agent))}: monthly and yearly returns.</p>\n'
        f'<table class="months fit">\n<tr><th>year</th>{head}</tr>\n{"".join(body)}</table>\n'
    )


def _pct(value: object) -> str:
    if value is None or not np.isfinite(float(value)):  # type: ignore[arg-type]
        return ""
    return f"{100 * float(value):+.1f}"  # type: ignore[arg-type]


def _sign(value: object) -> str:
    if value is None or not np.isfinite(float(value)):  # type: ignore[arg-type]
        return ""
    return " pos" if float(value) > 0 else " neg"  # type: ignore[arg-type]


def regime_table(sheet: Sheet) -> str | None:
    """Each shown agent's Sharpe and return per regime (the run's committed regime, or
    realized-volatility terciles without one)."""
    if sheet.regimes is None or not sheet.regime_names:
        return None
    labels = sheet.regimes[1 : len(sheet.equity)]
    with np.errstate(divide="ignore", invalid="ignore"):  # a ruined curve: 0 -> x is inf
        returns = sheet.equity.pct_change().iloc[1:]
    # as performance.return_stats counts: no return from equity at or below 0
    defined = np.isfinite(returns) & (sheet.equity.shift().iloc[1:] > 0)
    returns = returns.where(defined, 0.0)
    names = sheet.regime_names
    head = "".join(f'<th class="num">{_e(n)} Sharpe</th><th class="num">{_e(n)} return</th>'
                   for n in names)  # fmt: skip
    body = []
    root = np.sqrt(sheet.periods_per_year)
    for agent in sheet.shown[: TOP + 1]:
        cells = []
        for code in range(len(names)):
            r = returns[agent].to_numpy()[labels == code]
            sd = r.std(ddof=1) if r.size > 1 else 0.0
            s = r.mean() / sd * root if sd > 0 else float("nan")
            cells.append(f'<td class="num">{_fmt(s)}</td>'
                         f'<td class="num">{_fmt(np.prod(1 + r) - 1, True)}</td>')  # fmt: skip
        body.append(f'<tr><td class="agent">{_e(sheet.name(agent))}</td>{"".join(cells)}</tr>\n')
    counts = ", ".join(f"{n} {int((labels == i).sum()):,} bars" for i, n in enumerate(names))
    return (
        f'<p class="note">Bars per regime: {_e(counts)}.</p>\n'
        f'<table class="regimes fit">\n<tr><th>agent</th>{head}</tr>\n{"".join(body)}</table>\n'
    )


def trades_table(sheet: Sheet, agent: int) -> str:
    mine = sheet.trades[sheet.trades["agent"] == agent].tail(TRADES_SHOWN)
    cols = ("instrument", "side", "qty", "entry_time", "exit_time", "entry_price", "exit_price",
            "pnl", "return_pct", "bars_held")  # fmt: skip
    head = "".join(f"<th>{_e(c.replace('_', ' '))}</th>" for c in cols)
    body = []
    for row in mine.itertuples(index=False):
        values = []
        for c in cols:
            v = getattr(row, c)
            if c.endswith("_time"):
                v = pd.Timestamp(v).strftime("%Y-%m-%d %H:%M")
            elif isinstance(v, float):
                v = f"{v:,.2f}"
            values.append(f"<td>{_e(v)}</td>")
        cls = " open" if row.open else ""
        body.append(f'<tr class="trade{cls}">{"".join(values)}</tr>\n')
    total = int((sheet.trades["agent"] == agent).sum())
    return (
        f'<p class="note">{_e(sheet.name(agent))}: the last {len(mine)} of {total:,} trades '
        "(open ones marked at the last close, in italics); all of them: "
        "<code>scarline trades RUN_DIR --agent "
        f"{agent}</code>.</p>\n"
        f'<table class="trades fit">\n<tr>{head}</tr>\n{"".join(body)}</table>\n'
    )


def copy_plotly(plots_dir: Path) -> str:
    """Copy plotly's bundled script next to the plots; its path relative to the run dir."""
    import plotly

    source = Path(plotly.__file__).parent / "package_data" / PLOTLY_JS
    plots_dir.mkdir(parents=True, exist_ok=True)
    target = plots_dir / PLOTLY_JS
    if not target.is_file() or target.stat().st_size != source.stat().st_size:
        shutil.copyfile(source, target)
    return f"{plots_dir.name}/{PLOTLY_JS}"


def tearsheet_html(sheet: Sheet, turnover: dict[int, float] | None = None) -> str:
    """Every tearsheet section, in page order."""
    best = sheet.top[0] if sheet.top else sheet.equity.columns[0]
    parts = [
        "<h2>Performance</h2>\n",
        '<p class="note">★ the best agents by final equity; buy-and-hold is the benchmark; '
        "placebos trade at random (a learner that does not beat them has shown no skill). "
        "Figures: <code>scarline stats RUN_DIR</code>, computed as docs/api.md says.</p>\n",
        stats_table(sheet, turnover),
        charts(sheet),
        "<h2>Monthly and yearly returns</h2>\n",
        returns_table(sheet, best),
    ]
    bench = [a for a in sheet.equity.columns if sheet.role(a) == "benchmark"]
    if bench:
        parts.append(returns_table(sheet, bench[0]))
    regimes = regime_table(sheet)
    if regimes is not None:
        parts += ["<h2>By regime</h2>\n", regimes]
    parts += ["<h2>Trades</h2>\n", trades_table(sheet, best)]
    return "".join(parts)
