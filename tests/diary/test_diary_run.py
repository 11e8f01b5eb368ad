"""End to end: a real evolving run with regimes writes its diary, binds it in the manifest,
reports its attribution, and stays replayable; lineage and vault fill the policy columns."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from scarline.config import RunConfig
from scarline.diary.query import query_diary
from scarline.diary.writer import build_diary
from scarline.journal import read_records
from scarline.replayer import replay_run
from scarline.rundir import RunDir
from scarline.runner import RunSummary, execute_run


@pytest.fixture(scope="module")
def summary(
    small_evolving_config: RunConfig, tmp_path_factory: pytest.TempPathFactory
) -> RunSummary:
    cfg = small_evolving_config.with_overrides(
        **{"regime.hmm.enabled": True, "regime.router.enabled": True, "report": True}
    )
    return execute_run(cfg, run_id="diary-e2e", out_dir=tmp_path_factory.mktemp("runs"))


def _one(run_dir: Path, sql: str) -> object:
    return query_diary(run_dir, sql).rows[0][0]


def test_diary_is_written_bound_and_reported(summary: RunSummary) -> None:
    run_dir = summary.run_dir
    path = run_dir / RunDir.DIARY
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["artifacts"][RunDir.DIARY] == hashlib.sha256(path.read_bytes()).hexdigest()
    stats = summary.diary
    assert stats is not None and stats.rows == _one(run_dir, "SELECT count(*) FROM diary")
    # the kernel journals regime, features and reason for every decision: full attribution
    assert stats.coverage is not None and stats.coverage >= 0.95
    assert stats.orders == _one(run_dir, "SELECT count(order_id) FROM diary") > 0
    out = summary.to_json()
    assert (out["attribution_orders"], out["attribution_coverage"]) == (
        stats.orders,
        stats.coverage,
    )
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    assert stats.line() in page


def test_one_row_per_decision_cell_of_the_wal(summary: RunSummary) -> None:
    run_dir = summary.run_dir
    decisions = list(read_records(run_dir / "wal", kinds=("Decision",)))
    cells = sum(r.data.agents.shape[0] for r in decisions)
    assert summary.diary is not None and summary.diary.rows == cells
    last = decisions[-1]
    row = query_diary(
        run_dir, f"SELECT min(wal_seq), max(step) FROM diary WHERE step = {last.data.step}"
    ).rows
    if last.data.agents.shape[0]:
        assert row[0] == (last.seq, last.data.step)
    seqs = {r.seq for r in decisions}
    assert {r[0] for r in query_diary(run_dir, "SELECT DISTINCT wal_seq FROM diary").rows} <= seqs


def test_policy_hash_follows_the_lineage(summary: RunSummary) -> None:
    run_dir = summary.run_dir
    total = _one(run_dir, "SELECT count(*) FROM diary")
    assert _one(run_dir, "SELECT count(lineage_id) FROM diary") == total  # all are evolving
    consistent = _one(  # lineage.parquet is the view `lineage`
        run_dir,
        """SELECT count(*) FROM diary d JOIN lineage l
            ON d.lineage_id = l.agent_id
            WHERE d.agent = l.slot AND l.birth_step <= d.step
              AND (l.death_step = -1 OR d.step <= l.death_step)
              AND d.policy_hash = l.genome_hash""",
    )
    assert consistent == total
    # births replaced agents: some slots decided under more than one lineage id
    reborn = _one(
        run_dir,
        "SELECT count(*) FROM (SELECT agent FROM diary GROUP BY agent "
        "HAVING count(DISTINCT lineage_id) > 1)",
    )
    assert reborn > 0
    templates = query_diary(run_dir, "SELECT DISTINCT risk_template FROM diary").rows
    assert templates and all(str(t[0]).startswith("template ") for t in templates)


def test_outcomes_are_filled_in_up_to_the_horizon(summary: RunSummary) -> None:
    run_dir = summary.run_dir
    rows = query_diary(
        run_dir,
        "SELECT max(step) FILTER (WHERE outcome_return IS NOT NULL), max(step), "
        "count(*) FILTER (WHERE outcome_return IS NULL AND step + outcome_horizon < "
        "(SELECT max(step) FROM diary)) FROM diary",
    ).rows[0]
    last_with, last, missing = rows
    assert last_with <= summary.steps - 1 - 5 and last == summary.steps - 1
    assert missing == 0
    returns = np.array(
        [r[0] for r in query_diary(run_dir, "SELECT outcome_return FROM diary").rows], float
    )
    finite = returns[np.isfinite(returns)]
    assert finite.size and np.abs(finite).max() < 1.0  # daily stocks, five bars


def test_rebuild_gives_the_same_bytes_and_replay_is_untouched(summary: RunSummary) -> None:
    run_dir = summary.run_dir
    before = (run_dir / RunDir.DIARY).read_bytes()
    stats = build_diary(run_dir)
    assert (run_dir / RunDir.DIARY).read_bytes() == before
    assert summary.diary is not None and stats.rows == summary.diary.rows
    result = replay_run(run_dir)
    assert result.parity and result.original == summary.decision_trace_hash
