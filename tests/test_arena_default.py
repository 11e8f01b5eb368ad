"""The default arena (``make run``): its learners trade out of sample, and its report is a
tearsheet a browser draws.

The full arena takes about a minute; this runs the same config with 40 of its 256 learners
(two per stock), which keeps every other setting, data and cost of ``configs/arena.toml``,
once for both tests. The browser test opens report.html in headless Chromium at 1280 px:
the charts are interactive (plotly drew them from the run directory's copy of its script),
no table is wider than the page, placebos are labelled; a screenshot is kept in
``.artifacts/`` (or ``$SCARLINE_TEST_ARTIFACTS``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from browser_helpers import ARTIFACTS, CHROMIUM, CHROMIUM_FLAGS, sync_playwright, wait_for

import scarline as sl
from scarline.config import load_config
from scarline.runner import RunSummary, execute_run

ARENA = Path(__file__).resolve().parents[1] / "configs" / "arena.toml"
LEARNERS = 40
WIDTH = 1280


@pytest.fixture(scope="module")
def arena(tmp_path_factory: pytest.TempPathFactory) -> RunSummary:
    cfg = load_config(ARENA)
    learners = cfg.agents[0].model_copy(update={"count": LEARNERS})
    cfg = cfg.model_copy(update={"agents": [learners, *cfg.agents[1:]], "report": True})
    return execute_run(cfg, run_id="arena", out_dir=tmp_path_factory.mktemp("arena"))


@pytest.mark.slow
def test_default_arena_learners_trade_out_of_sample(arena: RunSummary) -> None:
    split = arena.split_step
    assert split is not None
    result = sl.load_run(arena.run_dir)
    trades = result.trades
    learners = range(LEARNERS)
    late = trades[(trades["exit_step"] >= split) & trades["agent"].isin(learners)]
    per_learner = late.groupby("agent").size().reindex(learners, fill_value=0)
    assert per_learner.median() > 0, per_learner.to_dict()
    equity = result.equity.iloc[split - 1 :, :LEARNERS].to_numpy()
    moved = (np.abs(np.diff(equity, axis=0)) > 0).any(axis=0)
    assert moved.mean() > 0.5  # most learners hold positions out of sample, not cash


@pytest.mark.slow
def test_the_arena_report_is_interactive_fits_the_page_and_labels_placebos(
    arena: RunSummary,
) -> None:
    start_playwright = sync_playwright()
    assert arena.report is not None
    errors: list[str] = []
    with start_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": WIDTH, "height": 900})
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(arena.report.resolve().as_uri())
        wait_for(page, "document.querySelectorAll('.plotly-graph-div .main-svg').length >= 2")
        assert page.evaluate("typeof Plotly") == "object"  # the local copy loaded
        traces = page.evaluate("document.getElementById('equity-chart').data.length")
        assert traces >= 3  # top learners, buy-and-hold, placebos
        widths = page.evaluate(
            "[...document.querySelectorAll('table')].map(t => t.getBoundingClientRect().width)"
        )
        assert widths and max(widths) <= WIDTH
        assert page.evaluate("document.querySelector('table.agents').clientWidth") <= WIDTH
        stats = page.inner_text("table.stats")
        assert "(placebo)" in stats or "placebos (median)" in stats
        assert "(benchmark)" in stats and "★" in stats
        names = page.evaluate(
            "document.getElementById('equity-chart').data.map(t => t.name).join('|')"
        )
        assert "(placebo)" in names and "(benchmark)" in names
        page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=False)
        browser.close()
    assert not errors, errors
