"""The report's learning verdict: learners against the placebos and buy-and-hold, out of sample."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from scarline.report.learning import learning_summary, plot_learning, results_learning
from scarline.report.metrics import agent_metrics
from scarline.report.results import RiskLog, RunResults, TradeLog

T, SPLIT, N_LEARN, N_PLACEBO = 400, 280, 8, 20
KINDS = ["buy-and-hold"] + ["q-network"] * N_LEARN + ["random-entry"] * N_PLACEBO


def _results(learner_drift: float) -> RunResults:
    """Placebos and buy-and-hold are noise; the learners earn ``learner_drift`` a bar."""
    rng = np.random.default_rng(3)
    n = len(KINDS)
    r = rng.normal(0.0, 0.01, (T, n))
    r[:, 1 : 1 + N_LEARN] += learner_drift
    r[0] = 0.0
    equity = 1_000.0 * np.cumprod(1.0 + r, axis=0)
    step = np.arange(SPLIT, T, 10)  # every learner trades out of sample
    agent = np.repeat(np.arange(1, 1 + N_LEARN), step.size)
    steps = np.tile(step, N_LEARN)
    ones = np.ones(steps.size, dtype=np.int64)
    trades = TradeLog(steps, agent, 0 * ones, ones, ones, np.full(steps.size, 100.0), 0.0 * ones)
    return RunResults(
        run_id="learn",
        timestamps=np.arange(T, dtype=np.int64) * 86_400 * 10**9,
        symbols=["AAA"],
        close=np.full((T, 1), 100.0),
        agent_ids=np.arange(n, dtype=np.int64),
        policies=KINDS,
        equity=equity,
        initial_cash=1_000.0,
        fees=np.zeros(n),
        slippage=np.zeros(n),
        turnover=np.zeros(n),
        trades=trades,
        risk_events=RiskLog.empty(),
        periods_per_year=252.0,
        split_step=SPLIT,
        kinds=KINDS,
    )


def test_learners_with_an_edge_beat_the_placebos_and_the_report_says_so() -> None:
    res = _results(learner_drift=0.008)
    summary = results_learning(res, agent_metrics(res))
    assert summary.learners == N_LEARN and summary.edge
    assert summary.beat_placebos == N_LEARN
    assert summary.median_oos_trades == (T - SPLIT) // 10
    text = " ".join(summary.sentences())
    assert "beats the placebos' 95th percentile" in text and "expect a top" in text


def test_learners_without_an_edge_are_reported_as_no_edge() -> None:
    res = _results(learner_drift=0.0)
    summary = results_learning(res, agent_metrics(res))
    assert not summary.edge
    assert summary.beat_placebos < N_LEARN // 2
    text = " ".join(summary.sentences())
    assert "No edge found on this data" in text and "do not expect" in text


def test_a_run_without_learners_or_split_says_so_instead_of_numbers() -> None:
    res = _results(learner_drift=0.0)
    metrics = agent_metrics(res)
    assert learning_summary(["buy-and-hold"] * len(KINDS), metrics).sentences() == [
        "This run has no learning agents."
    ]
    unsplit = replace(res, split_step=None)
    assert "nothing to judge" in results_learning(unsplit, agent_metrics(unsplit)).sentences()[0]


def test_the_learning_curve_is_drawn(tmp_path: Path) -> None:
    res = _results(learner_drift=0.002)
    path = plot_learning(res, tmp_path)
    assert path.name == "learning.png" and path.stat().st_size > 5_000
