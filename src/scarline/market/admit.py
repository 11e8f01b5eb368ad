"""G0 DataTruth as a run's admission: the rows a run will trade pass the ``data check`` rules
before its first step.

``scarline run`` (and :func:`scarline.runner.execute_run`) calls :func:`admit` on the source,
cut to the config's ``[start, end]`` and ``symbols``, before it creates the run directory. An
error (unordered or duplicate timestamps, a missing or non-positive price, inconsistent OHLC,
crossed quotes, a negative size) refuses the run with a :class:`G0Refused` naming each
finding: file, line (or row), column and rule. There is no switch to trade on invalid bars.
Warnings (gaps, outlier returns, stale closes) are journaled in the run's ``DataWarnings``
record and printed; a warning check listed in ``refuse_warnings`` refuses the run too, unless
``allow_warnings`` (``--allow-data-warnings``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from scarline.errors import ConfigError, DataError
from scarline.events import DataWarnings
from scarline.market.checks import Finding, G0Report, G0Thresholds, check_raw
from scarline.market.io import read_source
from scarline.market.raw import RawTable
from scarline.market.subset import window_ns
from scarline.session import SessionIds

LISTED = 20
"""Findings a refusal lists (``scarline data check`` lists them all)."""


class G0Refused(DataError):
    """The rows a run would trade fail G0 (bad input: exit 2); the message lists findings."""


@dataclass(frozen=True)
class Admission:
    """The G0 report of the rows the run trades; ``allowed``: warning checks the config
    refuses that ``allow_warnings`` let through (journaled with the warnings)."""

    report: G0Report
    allowed: list[str]

    @property
    def warnings(self) -> list[Finding]:
        return self.report.warnings


def window_rows(
    raw: RawTable, start: str | None, end: str | None, symbols: Sequence[str] | None
) -> RawTable:
    """The source rows inside ``[start, end]`` (as ``data.start``/``data.end`` cut the
    market) of the named symbols, keeping their row and line numbers."""
    keep = np.ones(raw.n_rows, dtype=bool)
    first, last = window_ns(start, end)
    if first is not None:
        keep &= raw.timestamps >= first
    if last is not None:
        keep &= raw.timestamps <= last
    if symbols is not None:
        codes = [k for k, s in enumerate(raw.symbols) if s in set(symbols)]
        keep &= np.isin(raw.symbol_codes, codes)
    if keep.all():
        return raw
    return replace(
        raw,
        timestamps=raw.timestamps[keep],
        symbol_codes=raw.symbol_codes[keep],
        prices={c: v[keep] for c, v in raw.prices.items()},
        sizes={c: v[keep] for c, v in raw.sizes.items()},
        missing={c: v[keep] for c, v in raw.missing.items()},
        exog={c: v[keep] for c, v in raw.exog.items()},
        rows=raw.rows[keep],
        lines=None if raw.lines is None else raw.lines[keep],
    )


def finding_line(f: Finding) -> str:
    """``missing_value (error): line 22: empty value in 'close' [row 21, column close, SYN0]``."""
    return (
        f"{f.check} ({f.severity}): {f.message} "
        f"[row {f.row}, column {f.column or '-'}, symbol {f.symbol or '-'}]"
    )


def summary(findings: Sequence[Finding], noun: str) -> str:
    """``3 errors (missing_value 2, crossed_quote 1)``."""
    counts = Counter(f.check for f in findings)
    plural = "" if len(findings) == 1 else "s"
    return f"{len(findings)} {noun}{plural} ({', '.join(f'{c} {n}' for c, n in counts.items())})"


def refusal(report: G0Report, findings: Sequence[Finding], why: str) -> G0Refused:
    lines = [
        f"{report.source}: G0 DataTruth refuses the run: {why} "
        f"(`scarline data check {report.source}` lists every finding)"
    ]
    lines += [f"  {finding_line(f)}" for f in findings[:LISTED]]
    if len(findings) > LISTED:
        lines.append(f"  … and {len(findings) - LISTED} more")
    return G0Refused("\n".join(lines))


def admit(
    source: str | Path,
    *,
    tick_size: str | None = None,
    start: str | None = None,
    end: str | None = None,
    symbols: Sequence[str] | None = None,
    thresholds: G0Thresholds | None = None,
    refuse_warnings: Sequence[str] = (),
    allow_warnings: bool = False,
) -> Admission:
    """G0 on the rows of ``source`` a run trades; :class:`G0Refused` on any error, or on a
    warning whose check is in ``refuse_warnings`` unless ``allow_warnings``."""
    raw = read_source(source, tick_size=tick_size)
    if symbols is not None:
        unknown = [s for s in symbols if s not in raw.symbols]
        if unknown:
            have = list(raw.symbols)
            raise ConfigError(f"data.symbols: {unknown} not in {raw.source!r} (has {have})")
    rows = window_rows(raw, start, end, symbols)
    if rows.n_rows == 0:
        raise DataError(f"data: no rows of {raw.source!r} between {start} and {end}")
    report = check_raw(rows, thresholds)
    if report.errors:
        raise refusal(report, report.errors, summary(report.errors, "error"))
    refused = [f for f in report.warnings if f.check in refuse_warnings]
    if refused and not allow_warnings:
        raise refusal(
            report,
            refused,
            f"{summary(refused, 'warning')} of checks data.g0.refuse_warnings refuses "
            "(--allow-data-warnings lets the run start and journals them)",
        )
    return Admission(report, sorted({f.check for f in refused}))


def warnings_event(admission: Admission, ids: SessionIds) -> DataWarnings | None:
    """The run's ``DataWarnings`` record (None without warnings)."""
    found = admission.warnings
    if not found:
        return None
    raw_lines = [_line_of(f) for f in found]
    return DataWarnings(
        run_id=ids.run_id,
        session_id=ids.session_id,
        source=admission.report.source,
        check=[f.check for f in found],
        row=[f.row for f in found],
        line=raw_lines,
        symbol=[f.symbol or "" for f in found],
        column=[f.column or "" for f in found],
        message=[f.message for f in found],
        allowed=list(admission.allowed),
    )


def _line_of(f: Finding) -> int:
    """The file line a CSV finding's message starts with (``line 22: …``), else 0."""
    head = f.message.split(":", 1)[0]
    number = head.removeprefix("line ")
    return int(number) if head.startswith("line ") and number.isdigit() else 0
