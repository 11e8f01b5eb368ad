"""The service's decision feed lists a backtest's decisions, those its runs hold too."""

from __future__ import annotations

from pathlib import Path

from scarline.config import RunConfig
from scarline.events import Decision, QuietRun
from scarline.journal import read_records
from scarline.journal.quiet_run import row_records
from scarline.runner import execute_run
from scarline.service.runs import decisions


def test_decisions_held_by_quiet_runs_are_listed_once_each(tmp_path: Path) -> None:
    cfg = RunConfig(
        agents=[{"kind": "sma-crossover", "fast": [5], "slow": [20]}],
        data={"source": "sp500", "end": "2003-12-31"},
        report=False,
    )
    run_dir = execute_run(cfg, run_id="feed", out_dir=tmp_path).run_dir
    wal = run_dir / "wal"
    held = [
        sum(isinstance(e, Decision) for e in r.data.events)
        for r in read_records(wal, kinds=("QuietRun",)) if isinstance(r.data, QuietRun)
    ]  # fmt: skip
    assert max(held) > 1  # crossovers ride in runs, several in one: the case under test
    changed = [
        (r.data.step, r.ts) for r in row_records(read_records(wal))
        if isinstance(r.data, Decision) and r.data.agents.shape[0]
    ]  # fmt: skip
    listed, cursor, pages = [], None, 0
    while True:  # page through, two records at a time
        page = decisions(run_dir, limit=2, cursor=cursor)
        listed += [(item["step"], item["ts"]) for item in page["items"]]
        cursor, pages = page["next"], pages + 1
        if cursor is None:
            break
    assert [s for s in listed if s in set(changed)] == changed  # each once, at its row's ts
    assert pages > len(changed) // max(held)  # a page: two decisions, or one record's all
    middle = changed[len(changed) // 2][0]  # `since` cuts through the records too
    page = decisions(run_dir, since=middle, limit=1000)
    assert [i["step"] for i in page["items"] if i["cells"]] == [
        s for s, _ in changed if s >= middle
    ]
    assert decisions(run_dir, agent=1, limit=1000)["items"] == []  # one agent: id 0
