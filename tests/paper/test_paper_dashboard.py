"""The dashboard in a real browser: headless Chromium (Debian's ``chromium``, driven by
Playwright with ``executable_path``) opens ``/`` of a running paper session (replay feed, one
bar a second, no network), logs in with the operate token, and sees the equity chart drawn,
the agents table filled, live updates over SSE at most two bars behind, and the kill button
halting the session (journaled with source ``api``; replay parity). A screenshot is kept in
``$SCARLINE_TEST_ARTIFACTS`` (default ``.artifacts/`` at the repository root).

``make test`` installs Chromium (apt, as root) and Playwright (dev extras); where no browser
can be had the test is skipped with the reason — never silently passed.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from browser_helpers import ARTIFACTS, CHROMIUM, CHROMIUM_FLAGS, sync_playwright, wait_for
from paper_recording import write_paper_config

from scarline.config import load_config
from scarline.events import KillSwitch
from scarline.journal import read_records
from scarline.paper.session import PaperOptions, PaperSession
from scarline.replayer import replay_run
from scarline.rundir import RunDir
from scarline.runner import RunSummary

pytestmark = pytest.mark.slow

OPERATE, READ = "dashboard-operate-token", "dashboard-read-token"
AGENTS = """
[[agents]]
kind = "random-entry"
count = 3
p_entry = 0.3
p_exit = 0.3

[[agents]]
kind = "q-network"
count = 3
qnet = { hidden = [8], epsilon_decay_steps = 20 }
"""


class Session(threading.Thread):
    """A paper session on its own thread; ``url`` once its service answers."""

    def __init__(self, tmp_path: Path) -> None:
        super().__init__(daemon=True)
        path = write_paper_config(tmp_path, bars=400)
        path.write_text(
            path.read_text(encoding="utf-8").replace('replay_speed = "max"', "replay_speed = 60")
            + AGENTS,
            encoding="utf-8",
        )
        config = load_config(path).with_overrides(**{"service.enabled": True, "service.port": 0})
        self.started = threading.Event()
        self.steps: list[int] = []
        self.summary: RunSummary | None = None
        self.error: BaseException | None = None
        self.session = PaperSession(
            config, PaperOptions(out_dir=tmp_path / "runs", run_id="dash", on_step=self._step)
        )

    def _step(self, t: int) -> None:
        self.steps.append(t)
        if t >= 3:
            self.started.set()

    @property
    def url(self) -> str:
        assert self.session.ops is not None
        return self.session.ops.url

    def run(self) -> None:
        try:
            self.summary = self.session.run_session()
        except BaseException as err:  # surfaced by the test
            self.error = err
        finally:
            self.started.set()


def test_the_dashboard_shows_a_live_session_and_its_kill_button_halts_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    start_playwright = sync_playwright()
    monkeypatch.setenv("SCARLINE_API_TOKEN", OPERATE)
    monkeypatch.setenv("SCARLINE_API_READ_TOKEN", READ)
    session = Session(tmp_path)
    session.start()
    assert session.started.wait(60) and session.error is None
    console: list[str] = []
    try:
        with start_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
            page.on("pageerror", lambda e: console.append(f"pageerror: {e}"))
            page.goto(f"{session.url}/")
            page.fill("#token", OPERATE)
            page.click("#login-button")
            page.wait_for_selector("#board", state="visible", timeout=15_000)

            # the equity chart has drawn points, the agents table has rows
            wait_for(
                page, "Number(document.getElementById('equity-chart').dataset.points || 0) > 0"
            )
            # buy-and-hold, sma-crossover, 3 placebos, 3 learners
            wait_for(page, "document.querySelectorAll('#agents-table tbody tr').length === 8")
            kinds = page.locator("#agents-table tbody tr td:nth-child(3)").all_inner_texts()
            assert any("placebo" in k for k in kinds) and any("q-network" in k for k in kinds)
            assert page.locator("#equity-chart polyline.placebo").count() == 3

            # a live update arrives: the page's step moves on and is at most 2 bars behind
            # (the table is filled by /agents before the stream's first snapshot sets the step)
            wait_for(page, "document.body.dataset.step !== undefined")
            shown = int(page.evaluate("document.body.dataset.step"))
            points = int(page.evaluate("document.getElementById('equity-chart').dataset.points"))
            wait_for(page, f"Number(document.body.dataset.step) > {shown}")
            now_shown = int(page.evaluate("document.body.dataset.step"))
            assert session.steps[-1] - now_shown <= 2
            drawn = "Number(document.getElementById('equity-chart').dataset.points)"
            wait_for(page, f"{drawn} > {points}")
            page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

            # the kill button asks for a confirmation, then halts the session
            page.click("#kill-button")
            assert page.locator("#kill-confirm").is_visible()
            page.fill("#kill-reason", "browser drill")
            page.click("#kill-confirm-button")
            wait_for(
                page, "document.getElementById('kill-result').textContent.includes('accepted')"
            )
            wait_for(page, "document.body.dataset.killed === 'true'")
            page.screenshot(path=str(ARTIFACTS / "dashboard-killed.png"), full_page=True)
            browser.close()
    finally:
        if session.is_alive() and session.session.ops is not None:  # a failed check: stop it
            session.session.ops.view.request_kill("test cleanup", "test")
        session.join(60)
    assert session.error is None, session.error
    assert not [line for line in console if line.startswith(("error", "pageerror"))], console
    summary = session.summary
    assert summary is not None and summary.killed_at is not None
    kills = [r.data for r in read_records(RunDir(summary.run_dir).wal, kinds=("KillSwitch",))]
    assert len(kills) == 1 and isinstance(kills[0], KillSwitch)
    assert kills[0].source == "api" and "browser drill" in kills[0].reason
    assert replay_run(summary.run_dir).parity
    assert (ARTIFACTS / "dashboard.png").stat().st_size > 10_000
