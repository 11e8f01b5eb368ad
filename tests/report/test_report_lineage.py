"""The run report's Lineage section: present exactly when the run left a lineage.parquet."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pytest

from scarline.config import RunConfig
from scarline.evolution.lineage_book import LineageBook
from scarline.report.html import write_report
from scarline.rundir import RunDir
from scarline.runner import execute_run

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _write_lineage(run_dir: Path) -> None:
    """Five agents: two founders, three descendants; one culled, one ruined."""
    book = LineageBook()
    book.found(np.array([0, 1]), np.array([0, 1]), ["g0", "g1"], step=0)
    book.born(np.array([2, 3]), np.array([0, 0]), np.array([2, 3]), ["g2", "g3"], step=3)
    book.died(np.array([1]), 4, "ruin", ["f1"], np.array([-0.4]), np.array([2]))
    book.died(np.array([2]), 5, "culled", ["f2"], np.array([-0.1]), np.array([0]))
    book.born(np.array([4]), np.array([3]), np.array([1]), ["g4"], step=6)
    alive = book.alive_ids()
    book.finish(alive, 9, ["f"] * alive.size, np.arange(alive.size, dtype=float), alive % 2)
    book.write(run_dir / RunDir.LINEAGE)


def test_no_lineage_no_section(make_results, tmp_path: Path) -> None:
    page = write_report(make_results(), tmp_path).read_text(encoding="utf-8")
    assert "<h2>Lineage</h2>" not in page and "lineage.png" not in page
    assert not (tmp_path / "plots" / "lineage.png").exists()


def test_lineage_section_embeds_the_tree(make_results, tmp_path: Path) -> None:
    _write_lineage(tmp_path)
    page = write_report(make_results(), tmp_path).read_text(encoding="utf-8")
    section = page.split("<h2>Lineage</h2>\n", 1)[1].split("<h2>", 1)[0]
    assert '<img src="plots/lineage.png"' in section
    caption = section.split("<figcaption>", 1)[1].split("</figcaption>", 1)[0]
    assert caption == (
        "Lineage: 5 agents (2 founders) over 3 generations; 1 culled, 1 ruined; 3 alive at the end."
    )
    assert (tmp_path / "plots" / "lineage.png").read_bytes()[:8] == PNG_MAGIC


def test_lineage_section_is_deterministic(make_results, tmp_path: Path) -> None:
    pages = []
    for name in ("a", "b"):
        _write_lineage(tmp_path / name)
        pages.append(write_report(make_results(), tmp_path / name, generated_at="x").read_bytes())
    assert pages[0] == pages[1]
    png = [(tmp_path / n / "plots" / "lineage.png").read_bytes() for n in ("a", "b")]
    assert png[0] == png[1]


@pytest.mark.slow
def test_an_evolving_runs_report_has_its_lineage(
    tmp_path: Path, small_evolving_config: RunConfig
) -> None:
    cfg = small_evolving_config.model_copy(update={"report": True})
    summary = execute_run(cfg, run_id="evo", out_dir=tmp_path)
    assert summary.report is not None
    page = summary.report.read_text(encoding="utf-8")
    assert "<h2>Lineage</h2>" in page and "16 founders" in page
    assert (summary.run_dir / "plots" / "lineage.png").read_bytes()[:8] == PNG_MAGIC
    # the tables name slots (agent ids), the lineage individuals: the page shows both
    assert re.search(r"#\d+ q-network#\d+ \(lineage id \d+\)", page)
    # the report comes after the manifest: every artifact it lists still has its sha256
    manifest = json.loads((summary.run_dir / "manifest.json").read_text())
    assert RunDir.LINEAGE in manifest["artifacts"]
    for rel, digest in manifest["artifacts"].items():
        assert hashlib.sha256((summary.run_dir / rel).read_bytes()).hexdigest() == digest
