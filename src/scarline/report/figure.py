"""Deterministic PNG figures without pyplot: same inputs, byte-identical files.

``matplotlib.figure.Figure`` is used directly (no global pyplot state, no GUI backend);
PNG metadata carries no software version, so files are stable across runs.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.dates as mdates
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

DPI = 100
MAX_POINTS = 4000
"""Line plots keep at most this many time steps (every k-th row plus the last)."""


def new_figure(width: float = 10.0, height: float = 4.5) -> tuple[Figure, Axes]:
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    ax.grid(True, color="#e6e6e6", linewidth=0.6)
    ax.set_axisbelow(True)
    return fig, ax


def save_png(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", dpi=DPI, metadata={"Software": None})
    return path


def show_message(ax: Axes, text: str) -> None:
    """Write ``text`` in the middle of ``ax`` (for empty plots: "no trades" …)."""
    ax.text(
        0.5,
        0.5,
        text,
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize=14,
        color="#666666",
    )


def time_axis(ax: Axes, timestamps: np.ndarray) -> np.ndarray:
    """Timestamps (ns UTC) as ``datetime64[ns]`` x values, with concise date labels."""
    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    return np.asarray(timestamps, dtype=np.int64).astype("datetime64[ns]")


def decimated_rows(n_steps: int, max_points: int = MAX_POINTS) -> np.ndarray:
    """Row indices for line plots: all rows, or every k-th row plus the last one."""
    if n_steps <= max_points:
        return np.arange(n_steps)
    stride = -(-n_steps // max_points)
    return np.unique(np.r_[np.arange(0, n_steps, stride), n_steps - 1])
