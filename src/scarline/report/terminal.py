"""The headline per-agent table for the terminal (rich), the same rows as the HTML report."""

from __future__ import annotations

from rich.markup import escape
from rich.table import Table

from scarline.report.headline import headline, terminal_columns
from scarline.report.metrics import AgentMetrics


def headline_table(metrics: AgentMetrics, limit: int = 20) -> Table:
    """Best ``limit`` agents by return plus baselines (dim italic); caption says what is omitted."""
    head = headline(metrics, limit, terminal_columns())
    table = Table(
        title="agents by return", title_justify="left", caption=head.caption, caption_justify="left"
    )
    table.add_column("rank", justify="right")
    for col in head.columns:
        table.add_column(
            col.header,
            justify="right" if col.numeric else "left",
            overflow="fold" if not col.numeric else "ellipsis",
        )
    for rank, row, base in zip(head.ranks, head.rows, head.baseline, strict=True):
        # escaped, not markup: a strategy label such as "Evil(tag=[/x])" is data
        cells = [escape(cell) for cell in row]
        table.add_row(str(rank), *cells, style="italic dim" if base else None)
    return table
