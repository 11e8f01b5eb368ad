"""G0 DataTruth: is this market data fit to trade on?

The checks run on the source rows (:class:`RawTable`) before the pivot, so each finding names
the row (and the file line) a user can open. Errors make data unusable: timestamps out of
order or duplicated per symbol, missing values, non-positive prices, inconsistent OHLC,
crossed quotes, negative sizes. Warnings are for a human to judge: gaps, outlier returns and
long runs of an unchanged close. Everything is vectorized with numpy/pandas.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from scarline.market.frame import MarketData
from scarline.market.frequency import format_frequency
from scarline.market.raw import MISSING_LABELS, OK, QUOTE_PRICE_COLUMNS, RawTable
from scarline.market.textfmt import units_text

Severity = Literal["error", "warning"]
MAD_TO_SIGMA = 1.4826
"""sigma of a normal variable per unit of its median absolute value."""
DETECTED = ("format", "timestamps", "time_column", "symbol", "symbol_from", "ignored_columns")
"""Keys of a source's ``meta`` that say how it was read (stated by ``data check``)."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem at one source row (1-based); ``message`` adds the file line for CSVs."""

    severity: Severity
    check: str
    row: int
    symbol: str | None
    column: str | None
    message: str


GAP_FACTOR_RANGE = (1.0, 1e6)
"""``gap_factor`` is above the first and at most the second (``[data.g0]``, ``data check``)."""
OUTLIER_K_RANGE = (0.0, 1e6)
"""``outlier_k`` is above the first and at most the second."""
STALE_RUN_RANGE = (2, 10**9)
"""``stale_run`` is at least the first and at most the second."""


def threshold_problem(name: str, value: float) -> str | None:
    """Why ``value`` is not a valid ``gap_factor``, ``outlier_k`` or ``stale_run`` (NaN
    turned a check off), or None; the bounds are those of ``[data.g0]``."""
    if name == "stale_run":
        low, high = STALE_RUN_RANGE
        ok = low <= value <= high
        return None if ok else f"must be at least {low} and at most {high:,}, got {value}"
    low_f, high_f = GAP_FACTOR_RANGE if name == "gap_factor" else OUTLIER_K_RANGE
    if low_f < value <= high_f:  # False for NaN
        return None
    return f"must be a number above {low_f:g} and at most {high_f:g}, got {value}"


@dataclass(frozen=True)
class G0Thresholds:
    """Warning thresholds: gap > ``gap_factor`` * median step, |log r| > ``outlier_k`` * the
    rolling MAD scale of the previous ``outlier_window`` returns, runs ≥ ``stale_run`` bars."""

    gap_factor: float = 5.0
    outlier_k: float = 12.0
    outlier_window: int = 100
    outlier_min_periods: int = 20
    stale_run: int = 10
    max_per_check: int = 1000


@dataclass(frozen=True)
class G0Report:
    """All findings of one source; ``ok`` is True when there is no error (warnings allowed).
    ``detected``: how the source was read (:data:`DETECTED`: format, timestamp encoding and
    column, the symbol of a one-symbol file), so a guess is never silent."""

    source: str
    findings: list[Finding]
    rows: int
    symbols: int
    ok: bool
    thresholds: G0Thresholds = field(default_factory=G0Thresholds)
    detected: dict[str, str] = field(default_factory=dict)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    def to_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "rows": self.rows,
            "symbols": self.symbols,
            "ok": self.ok,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "thresholds": asdict(self.thresholds),
            "detected": dict(self.detected),
            "findings": [asdict(f) for f in self.findings],
        }


def check_market_source(
    name_or_path: str | Path,
    *,
    thresholds: G0Thresholds | None = None,
    tick_size: str | None = None,
    symbol: str | None = None,
) -> G0Report:
    """G0 on a registered dataset or a .csv/.parquet file (unparsable cells raise DataError)."""
    from scarline.market.io import read_source

    raw = read_source(name_or_path, tick_size=tick_size, symbol=symbol)
    return check_raw(raw, thresholds)


def check_market(market: MarketData, thresholds: G0Thresholds | None = None) -> G0Report:
    """G0 on an in-memory market (its valid bars, time-major rows)."""
    from scarline.market.pivot import from_market

    return check_raw(from_market(market), thresholds)


def check_raw(raw: RawTable, thresholds: G0Thresholds | None = None) -> G0Report:
    """Run every check on source rows."""
    th = thresholds or G0Thresholds()
    out = _Collector(raw, th.max_per_check)
    _check_order(raw, out)
    _check_values(raw, out)
    ordered = _time_order(raw)
    _check_gaps(raw, ordered, th.gap_factor, out)
    closes = ordered[(raw.missing["close"][ordered] == OK) & (raw.prices["close"][ordered] > 0)]
    _check_outliers(raw, closes, th, out)
    _check_stale(raw, closes, th.stale_run, out)
    _check_exog_inf(raw, out)
    findings = out.sorted()
    ok = not any(f.severity == "error" for f in findings)
    return G0Report(
        source=raw.source,
        findings=findings,
        rows=raw.n_rows,
        symbols=len(raw.symbols),
        ok=ok,
        thresholds=th,
        detected={k: raw.meta[k] for k in DETECTED if k in raw.meta},
    )


class _Collector:
    """Builds findings for flagged row indices, at most ``limit`` per check plus a summary."""

    def __init__(self, raw: RawTable, limit: int) -> None:
        self.raw, self.limit = raw, limit
        self.items: list[tuple[int, int, int, Finding]] = []

    def add(
        self,
        severity: Severity,
        check: str,
        idx: np.ndarray,
        column: str | None,
        message: Callable[[int], str],
    ) -> None:
        idx = np.asarray(idx, dtype=np.int64)
        idx = idx[np.argsort(self.raw.rows[idx], kind="stable")]
        for i in idx[: self.limit].tolist():
            self._put(severity, check, i, column, message(i))
        if idx.size > self.limit:
            i = int(idx[self.limit])
            self._put(
                severity,
                check,
                i,
                column,
                f"… and {idx.size - self.limit} more rows fail {check} (not listed)",
            )

    def _put(self, severity: Severity, check: str, i: int, column: str | None, text: str) -> None:
        raw = self.raw
        code = int(raw.symbol_codes[i])
        where = f"{raw.where(i)}: " if raw.lines is not None else ""
        finding = Finding(
            severity, check, int(raw.rows[i]), raw.symbols[code], column, where + text
        )
        self.items.append((finding.row, code, len(self.items), finding))

    def sorted(self) -> list[Finding]:
        return [item[3] for item in sorted(self.items, key=lambda t: t[:3])]


def _price(raw: RawTable, col: str, i: int) -> str:
    tick = np.array([raw.tick_sizes[raw.symbol_codes[i]]], dtype=object)
    return str(units_text(raw.prices[col][i : i + 1], tick)[0])


def _stamp(ns: int) -> str:
    return str(pd.Timestamp(int(ns), tz="UTC")).replace(" 00:00:00+00:00", "")


def _check_order(raw: RawTable, out: _Collector) -> None:
    """Per symbol, in file order: each timestamp must be later than the previous row's."""
    ts, sym = raw.timestamps, raw.symbol_codes
    dup = pd.DataFrame({"s": sym, "t": ts}).duplicated(keep="first").to_numpy()
    out.add(
        "error",
        "duplicate_timestamp",
        np.flatnonzero(dup),
        "timestamp",
        lambda i: f"timestamp {_stamp(ts[i])} appears again for {raw.symbols[sym[i]]}",
    )
    by = np.argsort(sym, kind="stable")
    back = (sym[by][1:] == sym[by][:-1]) & (ts[by][1:] < ts[by][:-1]) & ~dup[by][1:]
    prev: dict[int, int] = dict(zip(by[1:][back].tolist(), by[:-1][back].tolist(), strict=True))
    out.add(
        "error",
        "out_of_order",
        by[1:][back],
        "timestamp",
        lambda i: (
            f"timestamp {_stamp(ts[i])} is earlier than the previous row's "
            f"{_stamp(ts[prev[i]])} ({raw.where(prev[i])})"
        ),
    )


def _missing_message(col: str, codes: np.ndarray, i: int) -> str:
    return f"{MISSING_LABELS[codes[i]]} value in '{col}'"


def _non_positive_message(raw: RawTable, col: str, i: int) -> str:
    return f"{col} {_price(raw, col, i)} is not positive"


def _negative_message(col: str, lots: np.ndarray, i: int) -> str:
    return f"{col} {int(lots[i])} is negative"


def _check_values(raw: RawTable, out: _Collector) -> None:
    """Missing values, non-positive prices, negative sizes, OHLC bounds, crossed quotes."""
    present = {c: m == OK for c, m in raw.missing.items()}
    for col, codes in raw.missing.items():
        out.add(
            "error",
            "missing_value",
            np.flatnonzero(codes != OK),
            col,
            partial(_missing_message, col, codes),
        )
    for col, units in raw.prices.items():
        out.add(
            "error",
            "non_positive_price",
            np.flatnonzero(present[col] & (units <= 0)),
            col,
            partial(_non_positive_message, raw, col),
        )
    for col, lots in raw.sizes.items():
        out.add(
            "error",
            "negative_size",
            np.flatnonzero(present[col] & (lots < 0)),
            col,
            partial(_negative_message, col, lots),
        )
    if raw.has_ohlc:
        o, h, lo, c = (raw.prices[k] for k in ("open", "high", "low", "close"))
        full = present["open"] & present["high"] & present["low"] & present["close"]
        below = full & (h < lo)
        low_bad = full & ~below & (lo > np.minimum(o, c))
        high_bad = full & ~below & ~low_bad & (h < np.maximum(o, c))
        out.add(
            "error",
            "ohlc_inconsistent",
            np.flatnonzero(below),
            "high",
            lambda i: f"high {_price(raw, 'high', i)} is below low {_price(raw, 'low', i)}",
        )
        out.add(
            "error",
            "ohlc_inconsistent",
            np.flatnonzero(low_bad),
            "low",
            lambda i: (
                f"low {_price(raw, 'low', i)} is above min(open, close) "
                f"({_price(raw, 'open', i)}, {_price(raw, 'close', i)})"
            ),
        )
        out.add(
            "error",
            "ohlc_inconsistent",
            np.flatnonzero(high_bad),
            "high",
            lambda i: (
                f"high {_price(raw, 'high', i)} is below max(open, close) "
                f"({_price(raw, 'open', i)}, {_price(raw, 'close', i)})"
            ),
        )
    if raw.has_quotes:
        bid, ask = (raw.prices[k] for k in QUOTE_PRICE_COLUMNS)
        crossed = present["bid"] & present["ask"] & (bid > ask)
        out.add(
            "error",
            "crossed_quote",
            np.flatnonzero(crossed),
            "bid",
            lambda i: f"bid {_price(raw, 'bid', i)} is above ask {_price(raw, 'ask', i)}",
        )


def _time_order(raw: RawTable) -> np.ndarray:
    """Row indices sorted by (symbol, timestamp), first occurrence of a duplicate only."""
    order = np.lexsort((raw.timestamps, raw.symbol_codes))
    sym, ts = raw.symbol_codes[order], raw.timestamps[order]
    repeat = np.zeros(order.size, dtype=bool)
    repeat[1:] = (sym[1:] == sym[:-1]) & (ts[1:] == ts[:-1])
    return order[~repeat]


def _check_gaps(raw: RawTable, order: np.ndarray, factor: float, out: _Collector) -> None:
    """A step longer than ``factor`` * the symbol's median step."""
    if order.size < 2:
        return
    sym, ts = raw.symbol_codes[order], raw.timestamps[order]
    same = sym[1:] == sym[:-1]
    steps = pd.Series(np.diff(ts)[same])
    medians = steps.groupby(sym[1:][same]).median()
    median = medians.reindex(sym[1:]).to_numpy(dtype=np.float64)
    gap = same & (np.diff(ts) > factor * median)
    rows = order[1:][gap]
    info = dict(
        zip(
            rows.tolist(),
            zip(np.diff(ts)[gap].tolist(), median[gap].tolist(), strict=True),
            strict=True,
        )
    )
    out.add(
        "warning",
        "gap",
        rows,
        "timestamp",
        lambda i: (
            f"{format_frequency(info[i][0])} since the previous bar "
            f"(> {factor:g} * median step {format_frequency(int(info[i][1]))})"
        ),
    )


def _check_outliers(raw: RawTable, order: np.ndarray, th: G0Thresholds, out: _Collector) -> None:
    """|log return| > k * 1.4826 * rolling median |log return| of the previous window."""
    sym = raw.symbol_codes[order]
    close = raw.prices["close"][order].astype(np.float64)
    rows: list[np.ndarray] = []
    info: dict[int, tuple[float, float]] = {}
    bounds = np.flatnonzero(np.diff(sym)) + 1
    for lo, hi in zip([0, *bounds], [*bounds, sym.size], strict=True):
        idx, c = order[lo:hi], close[lo:hi]
        if c.size < 3:
            continue
        r = np.diff(np.log(c))
        past = pd.Series(np.abs(r)).rolling(th.outlier_window, min_periods=th.outlier_min_periods)
        scale = MAD_TO_SIGMA * past.median().shift(1).to_numpy()
        scale = np.maximum(scale, np.log1p(1.0 / c[:-1]))  # NaN (too little history) stays
        bad = np.abs(r) > th.outlier_k * scale
        rows.append(idx[1:][bad])
        info.update(
            zip(
                idx[1:][bad].tolist(),
                zip(r[bad].tolist(), scale[bad].tolist(), strict=True),
                strict=True,
            )
        )
    flagged = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    out.add(
        "warning",
        "outlier",
        flagged,
        "close",
        lambda i: (
            f"log return {info[i][0]:+.4f} is {abs(info[i][0]) / info[i][1]:.1f}x "
            f"the rolling robust scale {info[i][1]:.5f} (k = {th.outlier_k:g})"
        ),
    )


def _check_exog_inf(raw: RawTable, out: _Collector) -> None:
    """A warning per row of an exogenous column holding ±inf: a run reads it as 0, as it
    reads NaN (no feature may be infinite), so the value the file says is not the one used."""
    for col, values in raw.exog.items():

        def message(i: int, col: str = col, values: np.ndarray = values) -> str:
            return f"{col} is {values[i]:+} (a run reads it as 0)"

        out.add("warning", "exog_inf", np.flatnonzero(np.isinf(values)), col, message)


def _check_stale(raw: RawTable, order: np.ndarray, run: int, out: _Collector) -> None:
    """One warning per run of ≥ ``run`` consecutive bars with the same close."""
    if order.size == 0:
        return
    sym, close = raw.symbol_codes[order], raw.prices["close"][order]
    starts = np.ones(order.size, dtype=bool)
    starts[1:] = (sym[1:] != sym[:-1]) | (close[1:] != close[:-1])
    first = np.flatnonzero(starts)
    lengths = np.diff(np.append(first, order.size))
    long = lengths >= run
    begin, end = order[first[long]], order[first[long] + lengths[long] - 1]
    info = dict(
        zip(begin.tolist(), zip(lengths[long].tolist(), end.tolist(), strict=True), strict=True)
    )
    out.add(
        "warning",
        "stale_close",
        begin,
        "close",
        lambda i: (
            f"close {_price(raw, 'close', i)} unchanged for {info[i][0]} consecutive "
            f"bars (rows {int(raw.rows[i])}-{int(raw.rows[info[i][1]])})"
        ),
    )
