"""Numeric cells: what a file writes as a number is read exactly; what no exporter writes as
a number (``1_000``, other scripts' digits) is a cell error, not a silent 1000."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scarline.market.parse import CellError, text_cells
from scarline.market.timestamps import parse_timestamps


@given(st.decimals(allow_nan=False, allow_infinity=False, places=None))
def test_every_decimal_as_python_writes_it_is_read_exactly(value: Decimal) -> None:
    cells = text_cells(np.array([str(value), f"{value:f}"], dtype=object))
    assert all(Decimal(t) == value for t in cells.texts)
    assert cells.codes.min() >= 0


@pytest.mark.parametrize("text", ["1_000", "١٢", "１２", "1.5.2", "0x10", "1,5", "--1"])
def test_text_no_exporter_writes_as_a_number_is_a_cell_error(text: str) -> None:
    with pytest.raises(CellError, match=r"cannot parse .* as a number") as err:
        text_cells(np.array(["1.5", text], dtype=object))
    assert err.value.index == 1


def test_an_epoch_in_other_scripts_digits_is_not_an_epoch() -> None:
    with pytest.raises(CellError, match=r"ISO 8601"):
        parse_timestamps(pd.Series(["١٧٠٤٠٦٧٢٠٠"]))
