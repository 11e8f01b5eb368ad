"""Strategies that misuse what they are given, end to end: through ``sl.backtest`` they are
refused in one line naming the strategy, through ``scarline run`` with exit 2 and no
traceback; one strategy editing its input changes nothing for the others of its grid."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import scarline as sl
from scarline.cli import app
from scarline.errors import ConfigError

MODULE = """
import numpy as np
import scarline as sl


class WritesTime(sl.Strategy):
    def decide(self, obs):
        obs.timestamps[-1] = 0
        return np.ones(1)


class Forgets(sl.Strategy):
    def decide(self, obs):
        np.ones(1)


class NoSuper(sl.Strategy):
    def __init__(self, fast=3):
        self.fast = fast

    def signals(self, data):
        return data["close"] * 0 + 1.0


class Doubles(sl.Strategy):
    def __init__(self, fast=3):
        super().__init__(fast=fast * 2)

    def signals(self, data):
        return data["close"] * 0 + 1.0


class Scales(sl.Strategy):
    def signals(self, data):
        data["close"] = data["close"] * self.k
        return (data["close"] > 115).astype(float)
"""


@pytest.fixture
def misuse(tmp_path: Path) -> Iterator[ModuleType]:
    (tmp_path / "misuse.py").write_text(MODULE, encoding="utf-8")
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module("misuse")
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("misuse", None)


def _frame(n: int = 30) -> pd.DataFrame:
    index = pd.date_range("2020-01-01", periods=n, freq="D", tz="UTC")
    close = 100.0 + np.arange(n)
    return pd.DataFrame({"close": close}, index=index)


@pytest.mark.parametrize(
    ("name", "error", "match"),
    [
        ("WritesTime", ConfigError, r"WritesTime\(\)\.decide failed at bar 0: .*read-only"),
        ("Forgets", ConfigError, r"Forgets\(\)\.decide failed at bar 0: .*returned None"),
        ("NoSuper", TypeError, r"NoSuper: its __init__ does not call super\(\)"),
        ("Doubles", ConfigError, r"Doubles\(\*\*\{'fast': 6\}\) records the parameters"),
    ],
)
def test_misused_inputs_are_refused_naming_the_strategy(
    misuse: ModuleType, tmp_path: Path, name: str, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        sl.backtest(_frame(), [getattr(misuse, name)()], out_dir=tmp_path / "runs")


def test_a_grid_member_editing_data_does_not_change_the_next(
    misuse: ModuleType, tmp_path: Path
) -> None:
    """``Scales(k=2)`` doubling ``data["close"]`` in place used to hand ``Scales(k=1)``
    doubled closes: both entered on bar 1. Alone, k=1 first holds above 115 at bar 16."""
    grid = sl.backtest(_frame(), sl.grid(misuse.Scales, k=[2.0, 1.0]), out_dir=tmp_path)
    entries = grid.trades.groupby("agent")["entry_step"].first().to_dict()
    assert entries == {0: 1, 1: 17}


def test_the_cli_refuses_a_strategy_without_super_init(misuse: ModuleType, tmp_path: Path) -> None:
    data = tmp_path / "tiny.csv"
    _frame().to_csv(data, index_label="timestamp")
    config = tmp_path / "c.toml"
    config.write_text(
        f'report = false\n[data]\nsource = "{data}"\n[[agents]]\nkind = "python"\n'
        f'strategy = "misuse:NoSuper"\npath = "{tmp_path / "misuse.py"}"\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["run", "-c", str(config), "--out", str(tmp_path / "r")])
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [
        "error: agents[0] (misuse:NoSuper): NoSuper: its __init__ does not call "
        "super().__init__(**params), so its parameters are unknown (the run records them, "
        "replay rebuilds it from them); call it with the keyword arguments"
    ]
