"""Frozen evaluation, the one way every gate scores a policy: it must reproduce a run where
the run itself was frozen, and its figures, the ``--agents`` selection and the thresholds
file must behave (unit level, a tiny run of a few hundred bars)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from scarline.config import RunConfig
from scarline.errors import ConfigError
from scarline.gating.config import GatesConfig, load_gates_config
from scarline.gating.frozen import Play, bar_returns, frozen_equity, total_return
from scarline.gating.subject import GateInputError, RunUnderTest, load_run_under_test, select
from scarline.market.io import write_market
from scarline.market.synthetic import SynthSpec, generate
from scarline.runner import execute_run
from scarline.stats import sharpe

N_Q = 6  # q-network agents 0..5, then the sma-crossover agents


@pytest.fixture(scope="module")
def greedy_run(tmp_path_factory: pytest.TempPathFactory) -> RunUnderTest:
    """A run whose Q-agents never learn or explore: each acts greedily from bar 0 with its
    initial weights, exactly what a frozen evaluation of its genome does."""
    tmp = tmp_path_factory.mktemp("frozen")
    spec = SynthSpec(n_steps=300, n_instruments=2, seed=11, random_walk=True, drift_ic=0.2)
    data = write_market(generate(spec), tmp / "synth.csv")
    cfg = RunConfig(
        seed=5,
        data={"source": str(data)},
        report=False,
        agents=[
            {"kind": "q-network", "count": N_Q, "learn": False},
            {"kind": "sma-crossover", "fast": [5, 10], "slow": [20]},
        ],
        execution={"fees": {"bps": 1.0}, "slippage": {"fixed_bps": 1.0}},
        evaluation={"oos_fraction": 0.3},
    )
    summary = execute_run(cfg, run_id="greedy", out_dir=tmp / "runs")
    return load_run_under_test(summary.run_dir)


def test_frozen_equity_reproduces_a_greedy_run(greedy_run: RunUnderTest) -> None:
    # a subset in another order: rows are re-packed, each keeps its own instrument
    agents = [4, 1, 3, N_Q + 1, 0]
    candidates = [greedy_run.candidate(a) for a in agents]
    assert [c.learned for c in candidates] == [True] * 3 + [False, True]
    assert {c.instrument for c in candidates if c.learned} == {0, 1}
    equity = frozen_equity(greedy_run.config, greedy_run.market, [Play(c) for c in candidates])
    assert equity.shape == (greedy_run.market.n_steps, len(agents))
    np.testing.assert_array_equal(equity, greedy_run.equity[:, agents])


def test_frozen_equity_depends_on_the_traded_instrument(greedy_run: RunUnderTest) -> None:
    """The reproduction above is not vacuous: the same genome on the other instrument (or
    with another genome in its place) earns differently."""
    c0, c1 = greedy_run.candidate(0), greedy_run.candidate(1)
    assert c0.instrument is not None and c0.instrument != c1.instrument
    moved = dataclasses.replace(c0, instrument=1 - c0.instrument)
    swapped = Play(c0, genome=c1.genome)
    equity = frozen_equity(greedy_run.config, greedy_run.market, [Play(moved), swapped])
    own = greedy_run.equity[:, 0]
    assert not np.array_equal(equity[:, 0], own)
    assert not np.array_equal(equity[:, 1], own)


def test_frozen_equity_of_nothing(greedy_run: RunUnderTest) -> None:
    equity = frozen_equity(greedy_run.config, greedy_run.market, [])
    assert equity.shape == (greedy_run.market.n_steps, 0)


def test_select_top_k_ids_and_bad_input(greedy_run: RunUnderTest) -> None:
    ranking = [int(a) for a in greedy_run.ranking()]
    assert sorted(ranking) == list(range(N_Q))  # learning agents only, when there are any
    end = greedy_run.split - 1
    scores = greedy_run.equity[end, ranking]
    assert (np.diff(scores) <= 0).all()  # best in-sample first
    assert [c.agent for c in select(greedy_run, ["top:3"])] == ranking[:3]
    assert [c.agent for c in select(greedy_run, [])] == ranking[:1]
    picked = select(greedy_run, [" 7", "2", "top:1", "2"])
    assert [c.agent for c in picked] == list(dict.fromkeys([7, 2, ranking[0]]))
    assert picked[0].kind == "sma-crossover" and picked[0].genome is None
    assert picked[1].kind == "q-network" and picked[1].policy_hash is not None
    for bad, message in [
        (["top:0"], "K >= 1"),
        (["best"], "neither top:K nor an agent id"),
        (["top:-1"], "neither top:K nor an agent id"),
        (["99"], "no agent 99"),
    ]:
        with pytest.raises(GateInputError, match=message):
            select(greedy_run, bad)


def test_load_run_under_test_needs_a_manifest(tmp_path: Path) -> None:
    with pytest.raises(GateInputError, match=r"no manifest\.json"):
        load_run_under_test(tmp_path)


positive_equity = arrays(
    np.float64,
    st.tuples(st.integers(2, 40), st.integers(1, 4)),
    elements=st.floats(1.0, 1e4),
)


@settings(max_examples=60, deadline=None)
@given(equity=positive_equity, start=st.integers(0, 39))
def test_bar_returns_compound_back_to_the_equity(equity: np.ndarray, start: int) -> None:
    start = min(start, equity.shape[0] - 1)
    r = bar_returns(equity, start)
    first = max(start, 1)
    assert r.shape == (equity.shape[0] - first, equity.shape[1])
    np.testing.assert_allclose(
        total_return(r), equity[-1] / equity[first - 1] - 1.0, rtol=1e-9, atol=1e-8
    )
    np.testing.assert_allclose(np.cumprod(1 + r, axis=0) * equity[first - 1], equity[first:])


def test_bar_returns_are_zero_after_ruin() -> None:
    equity = np.array([[100.0], [0.0], [50.0], [55.0]])
    np.testing.assert_allclose(bar_returns(equity, 1)[:, 0], [-1.0, 0.0, 0.1])


@settings(max_examples=60, deadline=None)
@given(
    returns=arrays(
        np.float64,
        st.tuples(st.integers(2, 50), st.integers(1, 3)),
        elements=st.floats(-0.5, 0.5),
    ),
    scale=st.floats(0.1, 10.0),
)
def test_sharpe_is_scale_free_and_odd(returns: np.ndarray, scale: float) -> None:
    s = sharpe(returns)
    assert s.shape == (returns.shape[1],)
    varies = returns.std(axis=0, ddof=1) > 1e-9
    np.testing.assert_allclose(sharpe(returns * scale)[varies], s[varies], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(sharpe(-returns), -s, atol=1e-12)


def test_sharpe_edge_cases() -> None:
    assert sharpe(np.full((10, 2), 0.01)).tolist() == [0.0, 0.0]  # no variation
    assert sharpe(np.ones((1, 3))).tolist() == [0.0, 0.0, 0.0]  # one bar
    r = np.array([0.01, -0.02, 0.03, 0.0])
    assert sharpe(r).shape == (1,)  # one series
    assert sharpe(r)[0] == pytest.approx(r.mean() / r.std(ddof=1))
    assert total_return(np.array([0.1, -0.1])) == pytest.approx(-0.01)


def test_gates_config_from_toml(tmp_path: Path) -> None:
    path = tmp_path / "gates.toml"
    path.write_text("seed = 7\n[G2]\npermutations = 19\n[G4]\nlatency_calls = 100\n")
    cfg = load_gates_config(path)
    assert (cfg.seed, cfg.G2.permutations, cfg.G4.latency_calls) == (7, 19, 100)
    assert cfg.G2.alpha == GatesConfig().G2.alpha  # the rest keeps its defaults
    assert load_gates_config(None) == GatesConfig()
    assert cfg.sha256() != GatesConfig().sha256()
    assert (
        cfg.sha256()
        == GatesConfig(seed=7, G2={"permutations": 19}, G4={"latency_calls": 100}).sha256()
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[G2]\npermutation = 19\n", r"gates\.toml: unknown key 'G2\.permutation'"),
        ("[G5]\nx = 1\n", r"gates\.toml: unknown key 'G5'"),
        ("[G2]\nalpha = 2.0\n", r"gates\.toml: key 'G2\.alpha'"),
        ("[G2\n", r"gates\.toml: invalid TOML"),
    ],
)
def test_gates_config_errors_name_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "gates.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_gates_config(path)


def test_gates_config_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="gates config not found"):
        load_gates_config(tmp_path / "nope.toml")
