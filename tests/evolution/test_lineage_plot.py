"""Lineage drawing: graph, tidy layout, PNG/GraphML/HTML files, deterministic bytes."""

from __future__ import annotations

import re
from pathlib import Path

import networkx as nx
import numpy as np
import pyarrow as pa
import pytest
from lineage_helpers import random_book, small_book

from scarline.evolution.lineage import LineageError
from scarline.evolution.lineage_book import LineageBook
from scarline.report.lineage_plot import (
    lineage_graph,
    render_lineage_png,
    tidy_rows,
    top_agents,
    write_lineage_graphml,
    write_lineage_html,
    write_lineage_png,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_graph_nodes_edges_and_attributes() -> None:
    g = lineage_graph(small_book().table())
    assert sorted(g.nodes) == [0, 1, 2, 3, 4, 5, 6]
    assert sorted(g.edges) == [(0, 3), (0, 4), (2, 6), (4, 5)]
    assert g.nodes[5] | {"fitness": None} == {
        "generation": 2, "island": 1, "slot": 1, "birth_step": 5, "death_step": -1,
        "death_cause": "", "genome_hash": "g5", "final_hash": "f5", "fitness": None, "scars": 0,
    }  # fmt: skip
    assert np.isnan(g.nodes[5]["fitness"])
    assert g.nodes[1]["death_cause"] == "ruin" and g.nodes[1]["scars"] == 3
    assert nx.is_forest(g)


def test_missing_parent_is_an_error() -> None:
    table = small_book().table()
    orphaned = table.filter(pa.compute.not_equal(table.column("agent_id"), 4))
    with pytest.raises(LineageError, match="agent 5: parent 4 is not in the lineage"):
        lineage_graph(orphaned)


def test_tidy_rows_give_every_agent_its_own_row_and_keep_families_together() -> None:
    table = random_book(seed=2).table()
    y = tidy_rows(table)
    assert np.unique(y).size == y.size
    g = lineage_graph(table)
    ids = table.column("agent_id").to_numpy()
    row_of = dict(zip(ids.tolist(), y.tolist(), strict=True))
    for root in (n for n in g.nodes if g.in_degree(n) == 0):
        family = [row_of[a] for a in nx.descendants(g, root) | {root}]
        others = [row_of[a] for a in g.nodes if row_of[a] not in family]
        lo, hi = min(family), max(family)
        assert not any(lo <= r <= hi for r in others)  # a founder's tree is one block of rows
    np.testing.assert_array_equal(tidy_rows(table), y)


def test_png_is_a_png_and_identical_on_re_render(tmp_path: Path) -> None:
    table = random_book().table()
    a = write_lineage_png(table, tmp_path / "a.png")
    b = write_lineage_png(table, tmp_path / "sub" / "b.png")
    assert a.read_bytes().startswith(PNG_MAGIC)
    assert a.read_bytes() == b.read_bytes()
    assert b"Software" not in a.read_bytes() and b"matplotlib" not in a.read_bytes()
    by_gen = render_lineage_png(table, x_axis="generation")
    assert by_gen.startswith(PNG_MAGIC) and by_gen != a.read_bytes()


@pytest.mark.parametrize("n", [0, 1])
def test_png_for_tiny_lineages(n: int) -> None:
    book = LineageBook()
    book.found(np.arange(n), np.arange(n), ["g"] * n, step=0)
    assert render_lineage_png(book.table()).startswith(PNG_MAGIC)


def test_png_for_a_large_lineage() -> None:
    book = LineageBook()
    ids = np.arange(3000)
    book.found(ids[:100], ids[:100] % 64, ["g"] * 100, step=0)
    for lo, hi in ((100, 300), (300, 700), (700, 1500), (1500, 3000)):  # parents come first
        kids = ids[lo:hi]
        book.born(kids, kids // 2 - 50, kids % 64, ["g"] * kids.size, step=lo // 100)
    book.died(ids[::3], 30, "ruin", ["f"] * 1000, np.linspace(-1, 1, 1000), ids[::3] % 4)
    assert render_lineage_png(book.table()).startswith(PNG_MAGIC)


def test_graphml_is_readable_by_networkx(tmp_path: Path) -> None:
    table = random_book().table()
    path = write_lineage_graphml(table, tmp_path / "lineage.graphml")
    g = nx.read_graphml(path, node_type=int)
    assert g.is_directed()
    assert g.number_of_nodes() == len(table)
    parents = table.column("parent_id").to_pylist()
    ids = table.column("agent_id").to_pylist()
    assert sorted(g.edges) == sorted((p, c) for p, c in zip(parents, ids, strict=True) if p >= 0)
    assert g.nodes[ids[0]]["genome_hash"] == table.column("genome_hash")[0].as_py()
    assert write_lineage_graphml(table, tmp_path / "again.graphml").read_bytes() == (
        path.read_bytes()
    )


def test_top_agents_by_fitness_skip_unscored() -> None:
    table = small_book().table()
    ids = table.column("agent_id").to_numpy()
    assert ids[top_agents(table)].tolist() == [6, 2, 3, 4, 0, 1]  # 5 was never scored
    assert ids[top_agents(table, k=2)].tolist() == [6, 2]


def test_html_is_self_contained(tmp_path: Path) -> None:
    table = small_book().table()
    path = write_lineage_html(table, tmp_path / "lineage.html", title="Lineage <of> run")
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page.lower()
    srcs = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert srcs and all(s.startswith("data:image/png;base64,") for s in srcs)
    assert "url(" not in page
    assert "Lineage &lt;of&gt; run" in page
    assert "#5 ← #4 ← #0" not in page  # 5 is unscored: not among the fittest
    assert "#6 ← #2" in page and "#4 ← #0" in page
    assert page.index("#6 ← #2") < page.index("#4 ← #0")  # ranked by fitness
    assert write_lineage_html(
        table, tmp_path / "b.html", title="Lineage <of> run"
    ).read_bytes() == (path.read_bytes())
