"""A strategy in a package of the user's research tree imports its siblings relatively
(``from .helpers import x``): loaded from its file it is imported inside its package, so the
run, its record of the user's sources and replay all work."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

import scarline as sl
from scarline.agents.strategy_loader import load_strategy_class

STRATEGY = """
import scarline as sl
from .helpers import ones


class Rel(sl.Strategy):
    def signals(self, data):
        return ones(data["close"])
"""


def test_a_strategy_with_relative_imports_runs_and_replays(tmp_path: Path) -> None:
    """It was "importing it failed: ImportError: attempted relative import with no known
    parent package": the file was imported as a module of its own."""
    package = tmp_path / "research_pkg_rel"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "helpers.py").write_text("def ones(close):\n    return close * 0 + 1.0\n")
    (package / "strats.py").write_text(STRATEGY)
    try:
        cls = load_strategy_class("research_pkg_rel.strats:Rel", str(package / "strats.py"))
        assert str(tmp_path) not in sys.path  # found from the file, not from sys.path
        index = pd.date_range("2020-01-01", periods=20, freq="D", tz="UTC")
        frame = pd.DataFrame({"close": 100.0 + np.arange(20)}, index=index)
        res = sl.backtest(frame, cls(), out_dir=tmp_path / "runs")
        assert res.stats["exposure"].iloc[0] > 0.9  # long from the second bar on
        sources = json.loads((res.run_dir / "manifest.json").read_text())["strategy_sources"]
        assert sorted(Path(f).name for f in sources) == ["helpers.py", "strats.py"]
        _forget("research_pkg_rel")  # as a fresh process replays it
        assert sl.replay(res.run_dir).parity
    finally:
        _forget("research_pkg_rel")


def _forget(package: str) -> None:
    for name in [m for m in sys.modules if m.split(".")[0] == package]:
        del sys.modules[name]


def test_a_package_whose_init_fails_still_loads_a_self_contained_module(
    tmp_path: Path,
) -> None:
    package = tmp_path / "research_pkg_broken"
    package.mkdir()
    (package / "__init__.py").write_text("raise RuntimeError('not importable')\n")
    (package / "plain.py").write_text(
        "import scarline as sl\n\n\nclass Plain(sl.Strategy):\n"
        "    def signals(self, data):\n        return data['close'] * 0\n"
    )
    cls = load_strategy_class("research_pkg_broken.plain:Plain", str(package / "plain.py"))
    assert cls.__name__ == "Plain" and "research_pkg_broken" not in sys.modules


def test_a_class_named_in_any_script_runs_and_replays(tmp_path: Path) -> None:
    """``class Стратегия(sl.Strategy)`` is a legal Python class; the config's pattern took
    ASCII names only ("string should match pattern")."""
    path = tmp_path / "стратегии.py"
    path.write_text(
        "import scarline as sl\n\n\nclass Стратегия(sl.Strategy):\n"
        "    def signals(self, data):\n        return data['close'] * 0 + 1.0\n",
        encoding="utf-8",
    )
    cls = load_strategy_class("стратегии:Стратегия", str(path))
    index = pd.date_range("2020-01-01", periods=20, freq="D", tz="UTC")
    frame = pd.DataFrame({"close": 100.0 + np.arange(20)}, index=index)
    res = sl.backtest(frame, cls(), out_dir=tmp_path)
    assert res.stats["policy"].tolist() == ["Стратегия()"]
    assert sl.replay(res.run_dir).parity
