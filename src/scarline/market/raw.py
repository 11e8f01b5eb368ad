"""The raw long table: one row per source row, before it becomes a T * M panel.

CSV, Parquet and the package datasets are first read into a :class:`RawTable`. G0 DataTruth
checks this table (so every finding points at a source row and line), and only then is it
pivoted into :class:`~scarline.market.frame.MarketData`. Prices are already integer ticks
here: text became ticks through ``Decimal`` and floats through their ``repr``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

PRICE_COLUMNS = ("open", "high", "low", "close")
QUOTE_PRICE_COLUMNS = ("bid", "ask")
QUOTE_SIZE_COLUMNS = ("bid_size", "ask_size")

OK, EMPTY, NAN, INF = 0, 1, 2, 3
"""Missing-value codes of :attr:`RawTable.missing` (0 = a number is present)."""

MISSING_LABELS = ("present", "empty", "NaN", "inf")


@dataclass(frozen=True, eq=False)
class RawTable:
    """Rows of ``timestamp, symbol, prices…, sizes…, exog…`` in source order.

    ``prices`` holds ``int64[n]`` ticks for each present price column (open/high/low/close,
    bid/ask), ``sizes`` ``int64[n]`` lots (volume, bid_size, ask_size), ``missing`` an
    ``int8[n]`` code per numeric column (:data:`EMPTY`, :data:`NAN`, :data:`INF`; value 0
    there), ``exog`` ``float64[n]`` further numeric columns; ``lot_sizes`` the lot of each
    symbol (``[data] lot_sizes``: fractional crypto lots; one unit where not given), which
    sizes count. ``rows`` are 1-based source row
    numbers and ``lines`` the file line of each row (CSV only; the header is line 1).
    """

    source: str
    timestamps: np.ndarray
    symbol_codes: np.ndarray
    symbols: tuple[str, ...]
    tick_sizes: tuple[str, ...]
    prices: dict[str, np.ndarray]
    sizes: dict[str, np.ndarray]
    missing: dict[str, np.ndarray]
    exog: dict[str, np.ndarray]
    rows: np.ndarray
    lines: np.ndarray | None = None
    has_ohlc: bool = True
    has_volume: bool = True
    meta: dict[str, str] = field(default_factory=dict)
    lot_sizes: tuple[str, ...] = ()  # per symbol; empty: one unit each

    def lot_of(self, code: int) -> str:
        """The lot size of symbol ``code`` (sizes are counted in it)."""
        return self.lot_sizes[code] if self.lot_sizes else "1"

    @property
    def n_rows(self) -> int:
        return int(self.timestamps.shape[0])

    @property
    def has_quotes(self) -> bool:
        return "bid" in self.prices

    def where(self, i: int) -> str:
        """``"line 7"`` for a CSV row, ``"row 6"`` otherwise: the place a user can look at."""
        if self.lines is not None:
            return f"line {int(self.lines[i])}"
        return f"row {int(self.rows[i])}"

    def any_missing(self) -> np.ndarray:
        """``bool[n]``: rows where some price or size column has no value."""
        out = np.zeros(self.n_rows, dtype=bool)
        for codes in self.missing.values():
            out |= codes != OK
        return out
