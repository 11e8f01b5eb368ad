"""The time-shift check's truncation half catches lookahead in *code*: a feature computed
from the next bar changes the past when the data is cut, which a causal policy never does."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

import scarline.agents.qagents as qagents
from scarline.config import RunConfig
from scarline.gating.config import GatesConfig
from scarline.gating.context import GateContext
from scarline.gating.lookahead import half_life, time_shift
from scarline.gating.subject import load_run_under_test, select
from scarline.market.io import write_market
from scarline.market.synthetic import SynthSpec, generate
from scarline.runner import execute_run


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("time-shift")
    data = write_market(generate(SynthSpec(n_steps=300, seed=2)), tmp / "synth.csv")
    cfg = RunConfig(
        seed=2,
        data={"source": str(data)},
        report=False,
        agents=[{"kind": "q-network", "count": 4, "qnet": {"warmup_steps": 16}}],
        evaluation={"oos_fraction": 0.3},
    )
    return execute_run(cfg, run_id="time-shift", out_dir=tmp / "runs").run_dir


def _context(run_dir: Path) -> GateContext:
    run = load_run_under_test(run_dir)
    return GateContext(run, select(run, ["0", "1"]), GatesConfig(G2={"truncation_cuts": 2}))


def test_causal_features_survive_truncation(run_dir: Path) -> None:
    verdicts = time_shift(_context(run_dir))
    assert [v["truncation_identical"] for v in verdicts] == [True, True]
    assert all(v["lag"] == "n/a: no exogenous columns" for v in verdicts)
    assert all(v["pass"] is True for v in verdicts)
    assert len(verdicts[0]["cuts"]) == 2  # type: ignore[arg-type]


def test_a_feature_that_reads_the_next_bar_is_caught(
    run_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    causal = qagents.market_features

    def peeking(market, cfg):  # type: ignore[no-untyped-def]
        table = causal(market, cfg)
        ahead = np.concatenate([table.values[1:], table.values[-1:]])  # row t sees t + 1
        return dataclasses.replace(table, values=ahead)

    monkeypatch.setattr(qagents, "market_features", peeking)
    verdicts = time_shift(_context(run_dir))
    assert [v["truncation_identical"] for v in verdicts] == [False, False]
    for v in verdicts:
        assert v["pass"] is False
        first = int(v["first_divergent_bar"])  # type: ignore[call-overload]
        assert 0 <= first < max(v["cuts"])  # type: ignore[type-var]


# --- the lag half-life: a figure ---------------------------------------------------------


def test_half_life_interpolates_where_the_sharpe_halves() -> None:
    # a one-bar signal: gone one bar late -> the Sharpe halves half-way to lag 1
    assert half_life([0, 1, 2, 4], [0.2, 0.0, 0.01, -0.01]) == pytest.approx(0.5)
    # geometric decay 0.8 per bar: 0.8, 0.64 at lag 2, 0.41 at lag 4 -> between 2 and 4
    h = half_life([0, 1, 2, 4], [1.0, 0.8, 0.64, 0.8**4])
    assert h == pytest.approx(2 + (0.64 - 0.5) / (0.64 - 0.8**4) * 2)
    assert 3.0 < h < 3.3  # the exact half-life of 0.8^l is 3.1
    assert half_life([0, 1, 2, 4], [0.3, 0.3, 0.29, 0.2]) is None  # persistent: > 4 bars


def test_half_life_needs_an_edge_and_lag_zero() -> None:
    with pytest.raises(ValueError, match="no edge"):
        half_life([0, 1], [0.0, 0.1])
    with pytest.raises(ValueError, match="starting at 0"):
        half_life([1, 2], [0.1, 0.1])
