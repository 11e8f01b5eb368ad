"""``bench/peers.py``: engines run interleaved, round by round, and a ratio is the median of
the rounds' ratios, so a machine that slows down mid-run weighs on both sides alike."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable

import pandas as pd
import pytest
from bench_helpers import load_bench

peers = load_bench("peers")


@pytest.fixture
def engines(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Fake timers on a machine whose speed halves after the third run: scarline takes 1 s
    a run at full speed, backtesting.py 1.5 s; vectorbt is not installed."""
    calls: list[str] = []

    def timer(name: str, seconds: float) -> Callable[..., float]:
        def run(*_: object) -> float:
            calls.append(name)
            return seconds * (2.0 if len(calls) > 3 else 1.0)

        return run

    def find_spec(name: str) -> object:
        fakes = {"backtesting": object(), "vectorbt": None}
        return fakes[name] if name in fakes else found(name)

    found = importlib.util.find_spec
    monkeypatch.setattr(peers, "_frame", lambda bars: pd.DataFrame())
    monkeypatch.setattr(peers, "time_scarline", timer("scarline", 1.0))
    monkeypatch.setattr(peers, "time_backtesting", timer("backtesting", 1.5))
    monkeypatch.setattr(peers.importlib.util, "find_spec", find_spec)
    return calls


def test_rounds_interleave_and_the_ratio_is_paired(engines: list[str]) -> None:
    out = peers.measure(1200, 3)
    assert engines == ["scarline", "backtesting"] * 3
    # runs of one engine, then the other's, would have put all of backtesting.py's in the
    # slow hour (a ratio of 3); the rounds' are 1.5, 3 (it slowed mid-round) and 1.5
    assert out["scarline_vs_backtesting"] == 1.5
    assert out["scarline_bars_per_s"] == 1200  # runs of 1, 1, 2 s: the median is 1 s
    assert out["backtesting_bars_per_s"] == 400  # 1.5, 3, 3 s
    assert out["vectorbt_bars_per_s"] == "not installed"
    assert "scarline_vs_vectorbt" not in out
