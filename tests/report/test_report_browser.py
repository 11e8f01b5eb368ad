"""The tearsheet of the default arena in a real browser: headless Chromium opens
report.html of ``configs/arena.toml`` (40 of its learners, every other setting as ``make
run``) at 1280 px and finds the charts interactive (plotly drew them, from the run
directory's copy of its script), the agents table no wider than the page, and the placebos
labelled. A screenshot is kept in ``.artifacts/`` (or ``$SCARLINE_TEST_ARTIFACTS``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_helpers import ARTIFACTS, CHROMIUM, CHROMIUM_FLAGS, sync_playwright, wait_for

from scarline.config import load_config
from scarline.runner import execute_run

ARENA = Path(__file__).resolve().parents[2] / "configs" / "arena.toml"
WIDTH = 1280


@pytest.mark.slow
def test_the_arena_report_is_interactive_fits_the_page_and_labels_placebos(
    tmp_path: Path,
) -> None:
    start_playwright = sync_playwright()
    cfg = load_config(ARENA)
    learners = cfg.agents[0].model_copy(update={"count": 40})
    cfg = cfg.model_copy(update={"agents": [learners, *cfg.agents[1:]], "report": True})
    summary = execute_run(cfg, run_id="arena-report", out_dir=tmp_path)
    assert summary.report is not None
    errors: list[str] = []
    with start_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": WIDTH, "height": 900})
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(summary.report.resolve().as_uri())
        wait_for(page, "document.querySelectorAll('.plotly-graph-div .main-svg').length >= 2")
        assert page.evaluate("typeof Plotly") == "object"  # the local copy loaded
        traces = page.evaluate("document.getElementById('equity-chart').data.length")
        assert traces >= 3  # top learners, buy-and-hold, placebos
        widths = page.evaluate(
            "[...document.querySelectorAll('table')].map(t => t.getBoundingClientRect().width)"
        )
        assert widths and max(widths) <= WIDTH
        agents = page.evaluate("document.querySelector('table.agents').scrollWidth")
        assert page.evaluate("document.querySelector('table.agents').clientWidth") <= WIDTH
        assert agents > 0
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
