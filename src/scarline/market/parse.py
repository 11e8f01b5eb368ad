"""Source columns → integer units, exactly.

Text cells go text → ``Decimal`` → units (``texts_to_units``) and float cells go through
their shortest ``repr`` (``floats_to_units``); neither passes a text price through ``float``.
Each distinct value is converted once (prices repeat a lot), which keeps a 200k-row file
well under a second.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import numpy as np
import pandas as pd

from scarline.instrument import floats_to_units, texts_to_units
from scarline.market.raw import EMPTY, INF, NAN, OK
from scarline.strict import UNSIGNED_DECIMAL

_NAN_TEXTS = frozenset({"nan", "-nan", "+nan", "na", "n/a", "null", "none", "snan"})
_INF_TEXTS = frozenset({"inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"})
_DECIMAL = re.compile(f"[+-]?{UNSIGNED_DECIMAL}", re.ASCII)
"""A number cell as a file writes it (:data:`~scarline.strict.UNSIGNED_DECIMAL`, signed)."""


class CellError(ValueError):
    """A cell that is not a number: ``index`` is its 0-based position in the column."""

    def __init__(self, index: int, message: str) -> None:
        super().__init__(message)
        self.index = index


@dataclass(frozen=True, eq=False)
class Cells:
    """One numeric column: distinct values plus, per row, which one (-1 where missing)."""

    codes: np.ndarray
    missing: np.ndarray
    texts: list[str]
    floats: np.ndarray | None = None

    def to_units(self, unit: Decimal) -> np.ndarray:
        """``int64[n]`` counts of ``unit`` (half-even), 0 where the cell is missing."""
        if self.floats is not None:
            distinct = floats_to_units(self.floats, unit)
        else:
            distinct = texts_to_units(np.array(self.texts, dtype=object), unit)
        out = np.zeros(self.codes.shape, dtype=np.int64)
        present = self.codes >= 0
        out[present] = distinct[self.codes[present]]
        return out

    def decimals(self, symbol_codes: np.ndarray, n_symbols: int, cap: int = 8) -> np.ndarray:
        """``int[n_symbols]``: decimal places each symbol's values need (at most ``cap``).

        Text keeps the places it was written with (``"100.10"`` → 2, so a tick-0.01 file
        round-trips); floats have no written precision and use their shortest ``repr``
        (the rule of ``infer_decimals``).
        """
        places = np.array([_places(t, normalize=self.floats is not None) for t in self.texts])
        present = self.codes >= 0
        out = np.zeros(n_symbols, dtype=np.int64)
        if places.size:
            np.maximum.at(out, symbol_codes[present], places[self.codes[present]])
        return np.minimum(out, cap)


def _places(text: str, *, normalize: bool) -> int:
    value = Decimal(text)
    exponent = (value.normalize() if normalize else value).as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def text_cells(values: np.ndarray) -> Cells:
    """Classify text cells (empty / NaN / inf are missing) and check the rest parse as numbers.

    Raises :class:`CellError` at the first row whose text is not a decimal number.
    """
    stripped = pd.Series(values, dtype=object).astype(str).str.strip()
    lowered = stripped.str.lower()
    missing = np.full(len(stripped), OK, dtype=np.int8)
    missing[(stripped == "").to_numpy()] = EMPTY
    missing[lowered.isin(_NAN_TEXTS).to_numpy()] = NAN
    missing[lowered.isin(_INF_TEXTS).to_numpy()] = INF
    codes = np.full(len(stripped), -1, dtype=np.int64)
    present = missing == OK
    sub_codes, uniques = pd.factorize(stripped[present], sort=False)
    texts = [str(u) for u in uniques]
    for k, text in enumerate(texts):
        try:
            ok = _DECIMAL.fullmatch(text) is not None and Decimal(text).is_finite()
        except InvalidOperation:
            ok = False
        if not ok:
            first = int(np.flatnonzero(present)[np.argmax(sub_codes == k)])
            raise CellError(first, f"cannot parse {text!r} as a number")
    codes[present] = sub_codes
    return Cells(codes=codes, missing=missing, texts=texts)


def float_cells(values: np.ndarray) -> Cells:
    """Classify float cells (NaN / inf are missing); distinct values keep their ``repr`` text."""
    arr = np.asarray(values, dtype=np.float64)
    missing = np.full(arr.shape, OK, dtype=np.int8)
    missing[np.isnan(arr)] = NAN
    missing[np.isinf(arr)] = INF
    codes = np.full(arr.shape, -1, dtype=np.int64)
    present = missing == OK
    sub_codes, uniques = pd.factorize(arr[present], sort=False)
    floats = np.asarray(uniques, dtype=np.float64)
    codes[present] = sub_codes
    return Cells(
        codes=codes, missing=missing, texts=[repr(float(x)) for x in floats], floats=floats
    )


def column_cells(series: pd.Series) -> Cells:
    """Cells of a column of any source type: floats via ``repr``, everything else via text.
    A float32 (or float16) value's digits are its own shortest ``repr`` (100.38 stored as
    float32 reads as 100.38, not as the float64 100.37999725341797 it widens to)."""
    if pd.api.types.is_float_dtype(series.dtype):
        narrow = np.dtype(getattr(series.dtype, "numpy_dtype", series.dtype))
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        if narrow.itemsize < 8:
            return _narrow_float_cells(values, narrow)
        return float_cells(values)
    if pd.api.types.is_integer_dtype(series.dtype) and not series.isna().any():
        if pd.api.types.is_unsigned_integer_dtype(series.dtype):  # past int64: not wrapped
            return text_cells(series.astype(str).to_numpy(dtype=object))
        return text_cells(series.astype("int64").astype(str).to_numpy(dtype=object))
    texts = series.astype(object).where(series.notna(), "").astype(str)
    return text_cells(texts.to_numpy(dtype=object))


def _narrow_float_cells(values: np.ndarray, narrow: np.dtype) -> Cells:
    """:func:`float_cells` of floats stored in ``narrow`` (float32, float16): each distinct
    value as the float64 of its shortest ``repr`` in that type (numpy's), so it rounds and
    infers its tick as a float column does, from the digits it was stored with."""
    cells = float_cells(values)
    assert cells.floats is not None
    texts = [str(narrow.type(x)) for x in cells.floats]
    floats = np.array([float(t) for t in texts], dtype=np.float64)
    return Cells(
        codes=cells.codes, missing=cells.missing, texts=[repr(x) for x in floats.tolist()],
        floats=floats,
    )  # fmt: skip
