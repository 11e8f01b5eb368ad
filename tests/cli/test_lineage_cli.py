"""``scarline lineage RUN_DIR`` as a user meets it: files written, paths printed, exit codes."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from typer.testing import CliRunner

from scarline.cli import app
from scarline.evolution.lineage_book import LineageBook
from scarline.rundir import RunDir

runner = CliRunner()


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    """A run directory with a 5-agent lineage: two founders, three descendants."""
    book = LineageBook()
    book.found(np.array([0, 1]), np.array([0, 1]), ["g0", "g1"], step=0)
    book.born(np.array([2, 3]), np.array([0, 0]), np.array([2, 3]), ["g2", "g3"], step=3)
    book.died(np.array([1]), 4, "ruin", ["f1"], np.array([-0.4]), np.array([2]))
    book.born(np.array([4]), np.array([3]), np.array([1]), ["g4"], step=6)
    alive = book.alive_ids()
    book.finish(alive, 9, ["f"] * alive.size, np.arange(alive.size, dtype=float), alive % 2)
    path = tmp_path / "run-1"
    book.write(path / RunDir.LINEAGE)
    return path


def _invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["lineage", *args])
    return result.exit_code, result.stdout, result.stderr


def test_default_is_a_png_next_to_the_lineage(run_dir: Path) -> None:
    code, out, err = _invoke(str(run_dir))
    target = run_dir / "lineage.png"
    assert (code, err) == (0, "")
    assert out.strip() == str(target)
    assert target.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_graphml_and_html_formats(run_dir: Path, tmp_path: Path) -> None:
    code, out, _ = _invoke(str(run_dir), "--format", "graphml")
    assert code == 0 and out.strip() == str(run_dir / "lineage.graphml")
    g = nx.read_graphml(run_dir / "lineage.graphml", node_type=int)
    assert sorted(g.edges) == [(0, 2), (0, 3), (3, 4)]
    out_file = tmp_path / "elsewhere" / "tree.html"
    code, out, _ = _invoke(str(run_dir), "-f", "html", "--out", str(out_file))
    assert code == 0 and out.strip() == str(out_file)
    page = out_file.read_text(encoding="utf-8")
    assert "Lineage of run run-1" in page and "data:image/png;base64," in page


def test_missing_run_dir(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-run"
    code, out, err = _invoke(str(missing))
    assert code == 2 and out == ""
    assert err.strip() == f"error: {missing}: no such run directory"


def test_missing_lineage_file(tmp_path: Path) -> None:
    code, _, err = _invoke(str(tmp_path))
    assert code == 2
    missing = RunDir(tmp_path).lineage
    assert err.strip() == f"error: {missing}: no lineage file in this run directory"
    assert "Traceback" not in err


def test_corrupt_lineage_file_is_one_error_line(run_dir: Path) -> None:
    (run_dir / RunDir.LINEAGE).write_bytes(b"PAR1 but not really")
    code, _, err = _invoke(str(run_dir))
    assert code == 1
    assert err.startswith(f"error: {run_dir / RunDir.LINEAGE}: not a readable Parquet file")
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_bad_format_is_a_usage_error(run_dir: Path) -> None:
    code, _, _ = _invoke(str(run_dir), "--format", "svg")
    assert code == 2
    assert not (run_dir / "lineage.svg").exists()


def test_help_names_the_formats() -> None:
    result = runner.invoke(app, ["lineage", "--help"])
    assert result.exit_code == 0
    for word in ("RUN_DIR", "png", "graphml", "html", "--out"):
        assert word in result.stdout


@pytest.mark.parametrize("fmt", ["png", "graphml", "html"])
def test_an_out_that_is_a_directory_is_refused_leaving_nothing(
    run_dir: Path, tmp_path: Path, fmt: str
) -> None:
    target = tmp_path / "figures"
    target.mkdir()
    code, out, err = _invoke(str(run_dir), "--format", fmt, "--out", str(target))
    assert code == 2 and out == ""
    assert err.strip() == f"error: --out {target}: is a directory; give the file to write"
    assert not (tmp_path / "figures.tmp").exists()  # it left a stray temporary file
