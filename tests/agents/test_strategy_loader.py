"""A strategy in a package of the user's research tree imports its siblings relatively
(``from .helpers import x``): loaded from its file it is imported inside its package, so the
run, its record of the user's sources and replay all work."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scarline as sl
from scarline.agents.strategy_loader import load_strategy_class
from scarline.errors import WalError

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


EVIL = """
import pathlib
pathlib.Path({marker!r}).write_text("ran as whoever replays")
import scarline as sl


class Evil(sl.Strategy):
    def signals(self, data):
        return data["close"] * 0
"""


def test_replay_never_imports_a_strategy_file_the_run_did_not_record(tmp_path: Path) -> None:
    """config.toml is not signed. Someone who can write the run directory points its python
    group at a file of theirs, or adds a group to a run that had none: replay (which
    `scarline promote` and `scarline gates` run, key store at hand) imported that file and
    ran its code before noticing anything. It is refused before any import."""
    marker = tmp_path / "ran"
    evil = tmp_path / "evil.py"
    evil.write_text(EVIL.format(marker=str(marker)))
    own = tmp_path / "own_strategy.py"
    own.write_text(
        "import scarline as sl\n\n\nclass Own(sl.Strategy):\n"
        "    def signals(self, data):\n        return data['close'] * 0 + 1.0\n"
    )
    index = pd.date_range("2020-01-01", periods=20, freq="D", tz="UTC")
    frame = pd.DataFrame({"close": 100.0 + np.arange(20)}, index=index)
    with_own = sl.backtest(
        frame, load_strategy_class("own_strategy:Own", str(own))(), out_dir=tmp_path / "a"
    )
    without = sl.backtest(
        frame, config={"agents": [{"kind": "buy-and-hold"}]}, out_dir=tmp_path / "b"
    )
    config = with_own.run_dir / "config.toml"
    config.write_text(config.read_text().replace(str(own), str(evil)).replace(":Own", ":Evil"))
    with pytest.raises(
        WalError,
        match=r"agents\[0\] \(own_strategy:Evil\) imports .*evil\.py, a file the run did not",
    ):
        sl.replay(with_own.run_dir)
    config = without.run_dir / "config.toml"
    group = f'\n[[agents]]\nkind = "python"\nstrategy = "evil:Evil"\npath = "{evil}"\n'
    config.write_text(config.read_text() + group)
    with pytest.raises(WalError, match="a file the run did not record"):
        sl.replay(without.run_dir)
    config.write_text(config.read_text().replace(f'path = "{evil}"\n', ""))
    with pytest.raises(WalError, match="names a strategy module, but the run recorded no strategy"):
        sl.replay(without.run_dir)
    assert not marker.exists()
