"""The pivot refuses, with the figures, a panel that could not fit in memory."""

from __future__ import annotations

from pathlib import Path

import pytest

import scarline.market.pivot as pivot
from scarline.errors import DataError
from scarline.market.io import load_file


def test_symbols_that_share_no_timestamp_are_refused_before_the_panel_is_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [f"2024-01-01T00:{i // 60:02d}:{i % 60:02d}Z,S{i},1.5" for i in range(300)]
    path = tmp_path / "sparse.csv"
    path.write_text("timestamp,symbol,close\n" + "\n".join(rows) + "\n")
    monkeypatch.setattr(pivot, "available_memory", lambda: 10 * 2**20)  # 10 MiB left
    with pytest.raises(DataError, match=r"300 rows pivot to 300 timestamps × 300 symbols"):
        load_file(path)
    monkeypatch.setattr(pivot, "available_memory", lambda: None)  # unknown: not checked
    assert load_file(path).close.shape == (300, 300)
