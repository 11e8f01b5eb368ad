"""write_report: a self-contained page whose images exist, truncated for large N, escaped."""

from __future__ import annotations

import re
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np

from scarline.report.html import write_report
from scarline.report.learning import LEARNING_PNG
from scarline.report.plots import PLOT_FILES
from scarline.report.results import RiskLog, TradeLog

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _images(page: str) -> list[str]:
    return re.findall(r'<img src="([^"]+)"', page)


def _agent_rows(page: str) -> int:
    table = page.split('<table class="agents">', 1)[1].split("</table>", 1)[0]
    return table.count("<tr") - 1  # minus the header row


def test_small_report_has_rows_and_valid_images(make_results, tmp_path: Path) -> None:
    res = make_results(n=3, t=50, split_step=30)
    path = write_report(res, tmp_path / "run", generated_at="2026-01-02 03:04 UTC")
    assert path == tmp_path / "run" / "report.html"
    page = path.read_text(encoding="utf-8")
    assert _agent_rows(page) == 3
    for policy in res.policies:
        assert f"<td>{policy}</td>" in page
    assert "all 3 agents, sorted by return" in page
    assert "generated at 2026-01-02 03:04 UTC" in page
    assert "<th>config_hash</th><td>abc123</td>" in page
    assert "out-of-sample from" in page
    # one script file, plotly's, copied into the run directory: nothing from a CDN
    assert re.findall(r'<script src="([^"]+)"', page) == ["plots/plotly.min.js"]
    assert (path.parent / "plots" / "plotly.min.js").stat().st_size > 1_000_000
    assert not re.search(r"""(src|href)=["']https?:""", page)
    assert 'id="equity-chart"' in page and 'id="drawdown-chart"' in page  # interactive
    images = _images(page)
    assert images == [f"plots/{name}" for name in (LEARNING_PNG, *PLOT_FILES)]
    for src in images:
        assert (path.parent / src).read_bytes()[:8] == PNG_MAGIC
    assert "<th>rule</th>" in page and "<th>total</th>" in page  # risk summary table


def test_without_generated_at_the_page_has_no_time_line(make_results, tmp_path: Path) -> None:
    page = write_report(make_results(), tmp_path).read_text(encoding="utf-8")
    assert "generated at" not in page


def test_large_population_is_truncated_with_a_note(make_results, tmp_path: Path) -> None:
    res = make_results(n=2000, t=300, seed=1)
    page = write_report(res, tmp_path).read_text(encoding="utf-8")
    # top 50 by return + the two baselines (buy-and-hold, random-entry) unless among them
    rows = _agent_rows(page)
    assert 50 <= rows <= 52
    assert f"{rows} of 2,000 agents shown (top 50 by return" in page
    assert f"{2000 - rows:,} omitted" in page
    assert page.count('<tr class="baseline">') == 2
    for src in _images(page):
        assert (tmp_path / src).read_bytes()[:8] == PNG_MAGIC


def test_empty_trades_and_risk_events(make_results, tmp_path: Path) -> None:
    res = make_results(n=3, t=20, with_trades=False, with_risk=False)
    assert len(res.trades) == 0 and len(res.risk_events) == 0
    page = write_report(res, tmp_path).read_text(encoding="utf-8")
    assert "no risk events" in page
    assert len(_images(page)) == len(PLOT_FILES) + 1  # + the learning curve
    for src in _images(page):
        assert (tmp_path / src).read_bytes()[:8] == PNG_MAGIC


def test_single_step_single_agent(make_results, tmp_path: Path) -> None:
    res = make_results(n=1, t=1, m=1)
    page = write_report(res, tmp_path).read_text(encoding="utf-8")
    assert _agent_rows(page) == 1


def test_same_results_give_identical_files(make_results, tmp_path: Path) -> None:
    res = make_results(n=30, t=120, seed=5, split_step=60)
    a = write_report(res, tmp_path / "a", generated_at="x")
    b = write_report(res, tmp_path / "b", generated_at="x")
    assert a.read_bytes() == b.read_bytes()
    for name in (LEARNING_PNG, *PLOT_FILES):
        png_a = (tmp_path / "a" / "plots" / name).read_bytes()
        assert png_a == (tmp_path / "b" / "plots" / name).read_bytes(), name
        assert b"Software" not in png_a and b"matplotlib" not in png_a


def test_all_text_is_escaped(make_results, tmp_path: Path) -> None:
    evil = "<script>alert(1)</script>"
    res = make_results(n=3, t=20, policies=["buy-and-hold", evil, "x&y"])
    rules = RiskLog.from_labels([1], [0], [f"rule{evil}"], ["reject"])
    res = replace(
        res, run_id=f"run{evil}", meta={evil: evil}, risk_events=rules, trades=TradeLog.empty()
    )
    page = write_report(res, tmp_path, generated_at=evil).read_text(encoding="utf-8")
    assert evil not in page and "</script><script>alert" not in page  # never a live tag
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<td>x&amp;y</td>" in page


def test_report_can_be_rewritten_in_place(make_results, tmp_path: Path) -> None:
    res = make_results(n=3, t=20)
    write_report(res, tmp_path)
    second = replace(res, run_id="renamed")
    page = write_report(second, tmp_path).read_text(encoding="utf-8")
    assert "renamed" in page
    assert not list(tmp_path.glob("*.tmp"))


def test_risk_summary_lists_only_rules_that_occur(make_results, tmp_path: Path) -> None:
    # the risk engine's code table has many rules; the kernel may pass it whole
    table = ("none", "kill_switch", "price_band", "max_position", "min_cash")
    log = RiskLog([3, 4, 4, 9], [0, 1, -1, 2], [2, 2, 4, 2], [3, 1, 4, 3], table)
    page = write_report(replace(make_results(), risk_events=log), tmp_path).read_text("utf-8")
    summary = page.split("<h2>Risk events</h2>", 1)[1]
    assert "<td>price_band</td>" in summary and "<td>min_cash</td>" in summary
    assert "max_position" not in summary and "kill_switch" not in summary
    # price_band: 2 reject + 1 warn; min_cash: 1 halt
    assert '<td>price_band</td><td class="num zero">0</td><td class="num">1</td>' in summary
    assert (tmp_path / "plots" / "risk_events.png").read_bytes()[:8] == PNG_MAGIC


def test_a_draft_written_later_reads_the_gates_then(make_results, tmp_path: Path) -> None:
    """`scarline gates` drafts the page while its re-runs run; the Gates section comes from
    gates.json as it is at write time, and the page is write_report's, byte for byte."""
    import msgspec

    from scarline.report.gate_report import GateReport, encode_gate_report
    from scarline.report.html import draft_report

    res = make_results(n=3, t=50, split_step=30)
    draft = draft_report(res, tmp_path / "run")
    assert "Gates" not in draft.write("x").read_text(encoding="utf-8")
    entry = {"kind": "q-network", "policy_hash": "feed01", "pass": False}
    report = msgspec.convert({"agents": {"0": entry}}, type=GateReport)
    (tmp_path / "run" / "gates.json").write_bytes(encode_gate_report(report))
    drafted = draft.write("x").read_bytes()
    assert b"feed01" in drafted
    assert drafted == write_report(res, tmp_path / "run", generated_at="x").read_bytes()


def test_ruined_or_non_finite_equity_reports_without_numpy_warnings(
    make_results, tmp_path: Path
) -> None:
    """An agent ruined to 0, one below 0, a NaN and an inf: the Performance and By-regime
    tables divided by the zero equity and printed numpy RuntimeWarnings (report, stats)."""
    res = make_results(n=4, t=40)
    equity = res.equity.copy()
    equity[10:, 0] = 0.0
    equity[20:, 1] = -500.0
    equity[5, 2], equity[6, 3] = np.nan, np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        page = write_report(replace(res, equity=equity), tmp_path).read_text(encoding="utf-8")
    assert "By regime" in page and ">nan<" not in page.lower()
