"""The rich headline table: same rows as the HTML, sorted by return, with an omission caption."""

from __future__ import annotations

from rich.console import Console

from scarline.report.metrics import agent_metrics
from scarline.report.terminal import headline_table


def _render(table) -> str:
    console = Console(record=True, width=200, color_system=None)
    console.print(table)
    return console.export_text()


def test_table_is_sorted_by_return_and_says_what_is_omitted(make_results) -> None:
    metrics = agent_metrics(make_results(n=40, t=60, seed=2))
    table = headline_table(metrics, limit=5)
    headers = [c.header for c in table.columns]
    assert headers == [
        "rank",
        "agent",
        "policy",
        "return",
        "in-sample",
        "out-of-sample",
        "sharpe",
        "max drawdown",
        "turnover",
        "fees",
        "fills",
        "scars",
        "died at",
    ]
    best = metrics.ranking()[:5]
    ranks = list(table.columns[0].cells)
    assert ranks[:5] == ["1", "2", "3", "4", "5"]
    assert list(table.columns[1].cells)[:5] == [str(metrics.agent_ids[c]) for c in best]
    shown = table.row_count
    assert shown in (5, 6, 7)  # + baselines that are not in the top 5
    assert str(table.caption).startswith(f"{shown} of 40 agents shown (top 5 by return + ")
    assert str(table.caption).endswith(f"; {40 - shown} omitted")
    text = _render(table)
    assert "buy-and-hold" in text and f"{40 - shown} omitted" in text


def test_small_population_shows_everyone(make_results) -> None:
    metrics = agent_metrics(make_results(n=3, t=20))
    table = headline_table(metrics)
    assert table.row_count == 3
    assert table.caption == "all 3 agents, sorted by return"
    returns = list(table.columns[3].cells)
    assert all(r.endswith(" %") for r in returns)


def test_policy_labels_that_look_like_markup_are_text(make_results) -> None:
    """``scarline run`` with a strategy label such as ``Evil(tag=[/x])`` printed its
    results, then ended in an internal error (MarkupError) at this table."""
    res = make_results(n=2, t=30, policies=["Evil(tag=[/x])", "Evil(tag=[bold]b)"])
    text = _render(headline_table(agent_metrics(res)))
    assert "Evil(tag=[/x])" in text and "Evil(tag=[bold]b)" in text


def test_the_headline_labels_cannot_be_read_as_the_stats_figures(make_results) -> None:
    """The headline counts fills and keeps the drawdown as a positive fraction (``run
    --json``); the tearsheet beside it and ``scarline stats`` count round trips as "trades"
    and print the drawdown negative. The headline said "trades" and "14.59 %" for the same
    agent: its column is "fills" and the drawdown is printed as the loss it is."""
    metrics = agent_metrics(make_results(n=3, t=40, seed=1))
    table = headline_table(metrics)
    headers = [c.header for c in table.columns]
    assert "fills" in headers and "trades" not in headers
    column = table.columns[headers.index("max drawdown")]
    shown = list(column.cells)
    for col, text in zip(metrics.ranking(), shown, strict=True):
        dd = float(metrics.max_drawdown[col])
        assert text == ("0.00 %" if dd == 0 else f"-{100 * dd:.2f} %")
    assert any(t.startswith("-") for t in shown)
