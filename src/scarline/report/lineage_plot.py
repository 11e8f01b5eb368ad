"""The lineage drawn: a PNG tree, a GraphML graph and a self-contained HTML page.

All three are pure functions of a lineage table (``lineage.parquet``), so the same run
gives the same bytes. The PNG puts time (birth step, or generation) on x and gives every
agent its own row in a tidy in-order layout (half of a parent's children above it, half
below), so lifelines never overlap and a family stays together at any population size.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Literal

import networkx as nx
import numpy as np
import pyarrow as pa
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.typing import ColorType

from scarline.evolution.lineage import NO_PARENT, LineageError, ancestry
from scarline.evolution.migration import island_of
from scarline.report.figure import DPI, show_message
from scarline.report.style import CSS
from scarline.safe_write import replace_file

XAxis = Literal["step", "generation"]
LABELS_MAX = 40
"""Agent ids are written next to their node up to this many agents."""
CROWDED = 500
"""Above this many agents, scar rings and death marks are drawn thin and translucent."""
TOP_AGENTS = 20
CHAIN_SHOWN = 12
RUIN = "ruin"
CMAP = "viridis"


def _parent_rows(table: pa.Table) -> np.ndarray:
    """Row of each agent's parent (-1 for founders, and for immigrants whose parent lives on
    another island's table); an unknown parent of the agent's own island is an error."""
    ids = table.column("agent_id").to_numpy()
    parents = table.column("parent_id").to_numpy()
    order = np.argsort(ids, kind="stable")
    pos = np.minimum(np.searchsorted(ids[order], parents), max(ids.size - 1, 0))
    rows = order[pos] if ids.size else pos
    found = (ids[rows] == parents) if ids.size else np.zeros(parents.shape, bool)
    has_parent = parents != NO_PARENT
    foreign = island_of(parents) != island_of(ids)  # ids say where an agent was born
    bad = has_parent & ~found & ~foreign
    if bad.any():
        i = int(np.argmax(bad))
        raise LineageError(f"agent {ids[i]}: parent {parents[i]} is not in the lineage")
    return np.where(has_parent & found, rows, -1)


def tidy_rows(table: pa.Table) -> np.ndarray:
    """y position of every agent: in-order over each family, founder trees one row apart.

    Children are ordered by (birth step, agent id); the first half goes above the parent,
    the rest below. Deterministic, and O(N) after one sort.
    """
    n = table.num_rows
    parent = _parent_rows(table)
    ids = table.column("agent_id").to_numpy()
    birth = table.column("birth_step").to_numpy()
    order = np.lexsort((ids, birth, parent))  # children grouped by parent, in birth order
    order = order[parent[order] >= 0]
    counts = np.bincount(parent[order], minlength=n)
    starts = np.r_[0, np.cumsum(counts)]
    roots = np.flatnonzero(parent < 0)
    roots = roots[np.lexsort((ids[roots], birth[roots]))]
    y = np.empty(n, np.float64)
    row = 0.0
    for root in roots.tolist():
        stack: list[tuple[int, bool]] = [(root, False)]
        while stack:
            node, emit = stack.pop()
            if emit:
                y[node] = row
                row += 1
                continue
            kids = order[starts[node] : starts[node + 1]].tolist()
            half = len(kids) // 2
            stack.extend((k, False) for k in reversed(kids[half:]))
            stack.append((node, True))
            stack.extend((k, False) for k in reversed(kids[:half]))
        row += 1  # a blank row between founder trees
    return y


def _columns(table: pa.Table) -> dict[str, np.ndarray]:
    names = ("agent_id", "generation", "birth_step", "death_step", "fitness", "scars")
    cols = {name: table.column(name).to_numpy() for name in names}
    cols["ruin"] = np.asarray(table.column("death_cause").to_pylist(), dtype=object) == RUIN
    return cols


def render_lineage_png(table: pa.Table, x_axis: XAxis = "step") -> bytes:
    """The lineage tree as PNG bytes (no software version or date in the metadata)."""
    n = table.num_rows
    fig = Figure(figsize=(11.0, float(np.clip(2.5 + 0.2 * n, 4.5, 14.0))), dpi=DPI)
    fig.set_layout_engine("constrained")
    ax = fig.add_subplot()
    ax.set_axisbelow(True)
    ax.grid(True, axis="x", color="#e6e6e6", linewidth=0.6)
    if n == 0:
        ax.set_title("Lineage")
        show_message(ax, "no agents")
    else:
        _draw(fig, ax, table, x_axis)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def _draw(fig: Figure, ax: Axes, table: pa.Table, x_axis: XAxis) -> None:
    c = _columns(table)
    n = table.num_rows
    y = tidy_rows(table)
    parent = _parent_rows(table)
    dead = c["death_step"] >= 0
    by_step = x_axis == "step"
    x = (c["birth_step"] if by_step else c["generation"]).astype(np.float64)
    size = float(np.clip(3000.0 / n, 4.0, 40.0))
    width = float(np.clip(40.0 / n**0.5, 0.3, 1.4))
    crowded = n > CROWDED  # thin, translucent marks so the fitness colours stay visible
    mark_alpha, mark_width = (0.5, 0.4) if crowded else (1.0, max(width, 0.6))

    if by_step:  # lifelines: birth → death (or the last recorded step for the living)
        end_of_run = float(max(c["birth_step"].max(), c["death_step"].max()))
        end = np.where(dead, c["death_step"], end_of_run).astype(np.float64)
        lines = np.stack([np.c_[x, y], np.c_[end, y]], axis=1)
        ax.add_collection(LineCollection(list(lines), colors="#c8c8c8", linewidths=width, zorder=1))
    kids = np.flatnonzero(parent >= 0)
    if kids.size:  # connector: down from the parent at the branch point, across to the child
        branch = x[kids] if by_step else x[parent[kids]]
        elbows = np.stack(
            [np.c_[branch, y[parent[kids]]], np.c_[branch, y[kids]], np.c_[x[kids], y[kids]]],
            axis=1,
        )
        ax.add_collection(
            LineCollection(list(elbows), colors="#8c8c8c", linewidths=width, zorder=2)
        )

    handles: list[Line2D] = []
    fit = c["fitness"]
    scored = np.isfinite(fit)
    if scored.any():
        lo, hi = float(fit[scored].min()), float(fit[scored].max())
        norm = Normalize(lo - 0.5, hi + 0.5) if lo == hi else Normalize(lo, hi)
        pts = ax.scatter(
            x[scored], y[scored], c=fit[scored], cmap=CMAP, norm=norm, s=size,
            linewidths=0, zorder=6,
        )  # fmt: skip
        fig.colorbar(pts, ax=ax, label="fitness", shrink=0.8, pad=0.01)
        handles.append(_marker("o", colormaps[CMAP](0.6), f"agent, coloured by fitness ({n:,})"))
    if (~scored).any():
        ax.scatter(x[~scored], y[~scored], color="#bdbdbd", s=size, linewidths=0, zorder=6)
        handles.append(_marker("o", "#bdbdbd", f"never scored ({int((~scored).sum()):,})"))
    scarred = c["scars"] > 0
    if scarred.any():
        base, per_scar = (1.6, 0.5) if crowded else (2.0, 0.8)
        ring = size * (base + per_scar * np.minimum(c["scars"][scarred], 10))
        ax.scatter(
            x[scarred], y[scarred], s=ring, facecolors="none", edgecolors="#d62728",
            linewidths=mark_width, alpha=mark_alpha, zorder=4,
        )  # fmt: skip
        label = f"scarred, ring grows with scars ({int(scarred.sum()):,})"
        handles.append(_marker("o", "none", label, edge="#d62728"))
    death_x = c["death_step"].astype(np.float64) if by_step else x
    for sel, marker, colour, label in (
        (dead & c["ruin"], "x", "#000000", "died: ruin"),
        (dead & ~c["ruin"], "|", "#555555", "died: other cause (culled …)"),
    ):
        if sel.any():
            ax.scatter(
                death_x[sel], y[sel], marker=marker, color=colour,
                s=max(size, 4) if crowded else max(size * 1.5, 6),
                linewidths=mark_width, alpha=mark_alpha, zorder=5,
            )  # fmt: skip
            handles.append(_marker(marker, colour, f"{label} ({int(sel.sum()):,})"))
    if n <= LABELS_MAX:
        for xi, yi, agent in zip(x.tolist(), y.tolist(), c["agent_id"].tolist(), strict=True):
            ax.annotate(
                f"#{agent}", (xi, yi), xytext=(4, 3), textcoords="offset points",
                fontsize=7, color="#333333", zorder=7,
            )  # fmt: skip

    ax.set_ylim(float(y.max()) + 1.0, -1.0)  # first row on top
    ax.set_yticks([])
    x_hi = float(max(x.max(), death_x[dead].max() if dead.any() else x.max()))
    pad = max(1.0, 0.03 * (x_hi - float(x.min())))
    ax.set_xlim(float(x.min()) - pad, x_hi + pad)
    ax.set_xlabel("step (dot: birth, line: life to death or run end)" if by_step else "generation")
    founders = int((parent < 0).sum())
    gens = int(c["generation"].max()) + 1
    ax.set_title(
        f"Lineage — {n:,} agents, {founders:,} founders, {gens} generations, "
        f"{int(dead.sum()):,} died"
    )
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.0, -0.08), ncols=3, fontsize=8)


def _marker(marker: str, colour: ColorType, label: str, edge: str | None = None) -> Line2D:
    return Line2D(
        [], [], linestyle="none", marker=marker, markersize=7, label=label,
        markerfacecolor=colour, markeredgecolor=edge or colour, color=colour,
    )  # fmt: skip


def _write_atomic(path: Path | str, data: bytes) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_file(path, data)  # a failure (path is a directory) leaves no temporary file
    return path


def write_lineage_png(table: pa.Table, path: Path | str, x_axis: XAxis = "step") -> Path:
    """Draw the tree into ``path`` (byte-identical for the same table)."""
    return _write_atomic(path, render_lineage_png(table, x_axis))


# -- graph --------------------------------------------------------------------------------

NODE_ATTRS = (
    "generation", "island", "slot", "birth_step", "death_step", "death_cause",
    "genome_hash", "final_hash", "fitness", "scars",
)  # fmt: skip


def lineage_graph(table: pa.Table) -> nx.DiGraph:
    """Agents as nodes (their columns as attributes), edges parent → child."""
    parent = _parent_rows(table)
    ids = table.column("agent_id").to_pylist()
    attrs = {name: table.column(name).to_pylist() for name in NODE_ATTRS}
    graph = nx.DiGraph()
    for i, agent in enumerate(ids):
        graph.add_node(agent, **{name: values[i] for name, values in attrs.items()})
    kids = np.flatnonzero(parent >= 0).tolist()
    graph.add_edges_from((ids[parent[k]], ids[k]) for k in kids)
    return graph


def write_lineage_graphml(table: pa.Table, path: Path | str) -> Path:
    """The graph as GraphML (node ids are agent ids; NaN fitness is written as ``nan``)."""
    buf = io.BytesIO()
    nx.write_graphml(lineage_graph(table), buf, encoding="utf-8", prettyprint=True)
    return _write_atomic(path, buf.getvalue())


# -- html ---------------------------------------------------------------------------------


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def top_agents(table: pa.Table, k: int = TOP_AGENTS) -> np.ndarray:
    """Rows of the ``k`` fittest scored agents (ties: lower agent id first)."""
    fit = table.column("fitness").to_numpy()
    ids = table.column("agent_id").to_numpy()
    scored = np.flatnonzero(np.isfinite(fit))
    return scored[np.lexsort((ids[scored], -fit[scored]))][:k]


def _chain(table: pa.Table, agent: int) -> str:
    chain = [f"#{a}" for a in ancestry(table, agent)]
    if len(chain) > CHAIN_SHOWN:
        cut = len(chain) - CHAIN_SHOWN + 2
        chain = [*chain[: CHAIN_SHOWN - 2], f"… {cut} more", *chain[-2:]]
    return " ← ".join(chain)


def _summary_rows(table: pa.Table) -> list[tuple[str, str]]:
    death = table.column("death_step").to_numpy()
    causes = np.asarray(table.column("death_cause").to_pylist(), dtype=object)
    parent = table.column("parent_id").to_numpy()
    gens = table.column("generation").to_numpy()
    names, counts = np.unique(causes[death >= 0].astype(str), return_counts=True)
    deaths = ", ".join(f"{n} {c:,}" for n, c in zip(names.tolist(), counts.tolist(), strict=True))
    return [
        ("agents", f"{table.num_rows:,}"),
        ("founders", f"{int((parent == NO_PARENT).sum()):,}"),
        ("generations", f"{int(gens.max()) + 1 if gens.size else 0}"),
        ("alive at end", f"{int((death < 0).sum()):,}"),
        ("died", f"{int((death >= 0).sum()):,}" + (f" ({deaths})" if deaths else "")),
    ]


def lineage_caption(table: pa.Table) -> str:
    """One line for the run report: agents, founders, generations, how many died and why."""
    death = table.column("death_step").to_numpy()
    causes = np.asarray(table.column("death_cause").to_pylist(), dtype=object)[death >= 0]
    gens = table.column("generation").to_numpy()
    founders = int((table.column("parent_id").to_numpy() == NO_PARENT).sum())
    culled, ruined = int((causes == "culled").sum()), int((causes == RUIN).sum())
    other = causes.size - culled - ruined
    died = f"{culled:,} culled, {ruined:,} ruined" + (f", {other:,} other deaths" if other else "")
    return (
        f"Lineage: {table.num_rows:,} agents ({founders:,} founders) over "
        f"{int(gens.max()) + 1 if gens.size else 0} generations; {died}; "
        f"{int((death < 0).sum()):,} alive at the end."
    )


def _top_table(table: pa.Table) -> str:
    rows = top_agents(table)
    if not rows.size:
        return '<p class="note">no agent was scored (fitness is NaN for all)</p>\n'
    names = ("agent_id", "generation", "island", "fitness", "scars", "birth_step", "death_step")
    ids, gen, isl, fit, scars, born, died = (table.column(n).to_pylist() for n in names)
    cause = table.column("death_cause").to_pylist()
    num = ("rank", "agent", "generation", "island", "fitness", "scars", "born", "died")
    head = "".join(f'<th class="num">{h}</th>' for h in num) + "<th>ancestry</th>"
    body = []
    for rank, r in enumerate(rows.tolist(), 1):
        end = f"{died[r]} ({cause[r]})" if died[r] >= 0 else "alive"
        cells = (rank, ids[r], gen[r], isl[r], f"{fit[r]:.6g}", scars[r], born[r], end)
        tds = "".join(f'<td class="num">{_e(v)}</td>' for v in cells)
        body.append(f"<tr>{tds}<td>{_e(_chain(table, ids[r]))}</td></tr>\n")
    note = (
        f'<p class="note">The {len(body)} fittest agents (fitness at death or at the end); '
        "ancestry runs from the agent back to its founder.</p>\n"
    )
    return f'{note}<table class="agents">\n<tr>{head}</tr>\n{"".join(body)}</table>\n'


def render_lineage_html(table: pa.Table, title: str = "Lineage") -> str:
    """One page with the PNG embedded as base64: no scripts, no external assets."""
    png = base64.b64encode(render_lineage_png(table)).decode("ascii")
    body = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>\n" for k, v in _summary_rows(table))
    return "".join(
        [
            '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
            f"<title>{_e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
            f"<h1>{_e(title)}</h1>\n",
            f'<table class="meta">\n{body}</table>\n',
            "<h2>Tree</h2>\n",
            f'<figure><img src="data:image/png;base64,{png}" alt="lineage tree">',
            "<figcaption>x: step (dot at birth, line to death or run end); one row per agent. "
            "Colour: fitness; red ring: scars; ×: died of ruin; |: died of another cause."
            "</figcaption></figure>\n",
            "<h2>Fittest agents</h2>\n",
            _top_table(table),
            "</body>\n</html>\n",
        ]
    )


def write_lineage_html(table: pa.Table, path: Path | str, title: str = "Lineage") -> Path:
    """Write the self-contained page (temp file + rename)."""
    return _write_atomic(path, render_lineage_html(table, title).encode("utf-8"))
