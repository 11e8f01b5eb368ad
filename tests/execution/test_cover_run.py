"""A buy that covers a short is not held to cash (schema 15, docs/execution.md "Cash cap on
buys"): a short that lost more than the account closes when its agent dies or the kill
switch fires, the account going into debit. Schema 14 cut the cover to what the cash paid
for, so the short stayed open and kept losing: its runs replay as they were recorded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from list_journal import ListJournal
from recorded_runs import run_as

from scarline.assembly import kernel_for
from scarline.config import RunConfig
from scarline.events import COVER_UNCAPPED_SCHEMA, Deaths, Fills, KillSwitch, Rejects
from scarline.execution.types import CASH_SCALE, REJECT_REASONS
from scarline.journal import read_records
from scarline.kernel import Kernel
from scarline.market.io import load_market
from scarline.market.stream import normalized
from scarline.operator import ReplayOperator
from scarline.replayer import replay_run
from scarline.runner import RunSummary
from scarline.session import SessionIds

OLD = COVER_UNCAPPED_SCHEMA - 1
SHORT = {"kind": "momentum", "lookbacks": [3], "allow_short": True}  # short on the fall


def _csv(path: Path, prices: list[float]) -> Path:
    """Daily bars of one instrument, open = high = low = close."""
    rows = ["timestamp,open,high,low,close,volume"]
    rows += [f"2024-01-{t + 1:02d},{p},{p},{p},{p},1000000" for t, p in enumerate(prices)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


FALL = [100 - t * 0.5 for t in range(12)]  # the agent goes short on the third bar


def _rally_run(tmp_path: Path, schema: int | None = None) -> RunSummary:
    """The short through a 190x rally at step 12 that goes on rising: equity far below
    zero, the agent dies there and the kernel flattens it from bar 13 on."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    data = _csv(tmp_path / "rally.csv", FALL + [19_000.0 + 500 * t for t in range(8)])
    cfg = RunConfig.model_validate(
        {"data": {"source": str(data)}, "seed": 1, "agents": [SHORT], "report": False}
    )
    return run_as(cfg, schema, "rally", tmp_path / "runs")


def _wal(run_dir: Path, kind: str) -> list:
    return [r.data for r in read_records(run_dir / "wal", kinds=(kind,))]


def _position(run_dir: Path) -> list[int]:
    """The agent's position after each fill (QuietRuns' fills included: a run's rows)."""
    held, path = 0, []
    for r in read_records(run_dir / "wal", kinds=("Fills", "QuietRun")):
        events = [r.data] if r.kind == "Fills" else r.data.events
        for f in (e for e in events if isinstance(e, Fills)):
            held += int((f.side.numpy().astype(np.int64) * f.qty.numpy()).sum())
            path.append(held)
    return path


def test_a_dead_agents_short_is_covered_into_debit(tmp_path: Path) -> None:
    summary = _rally_run(tmp_path)
    (death,) = _wal(summary.run_dir, "Deaths")
    assert death.step == 12 and int(death.equity.numpy()[0]) < 0
    short, flat = _position(summary.run_dir)
    assert short < 0 and flat == 0  # the whole short bought back at bar 13's open
    assert not _wal(summary.run_dir, "Rejects")
    (cover,) = _wal(summary.run_dir, "Fills")
    assert cover.step == 13 and int(cover.qty.numpy()[0]) == -short
    # paid though the cash did not cover it: the account is in debit, and stays there
    cost = -short * int(cover.price.numpy()[0]) * 10_000_000  # tick 0.1: 10**7 units a tick
    assert summary.metrics.final_equity[0] < 0 and cost > 2 * 100_000 * CASH_SCALE
    assert replay_run(summary.run_dir).parity


def test_a_schema_14_run_cuts_the_cover_and_replays_as_recorded(tmp_path: Path) -> None:
    summary = _rally_run(tmp_path, schema=OLD)
    short, cut = _position(summary.run_dir)
    assert short < cut < 0  # what the cash paid for; the rest of the short stays open
    rejects = _wal(summary.run_dir, "Rejects")
    assert rejects and all(
        REJECT_REASONS[int(c)] == "insufficient_cash" for r in rejects for c in r.reason.numpy()
    )
    assert replay_run(summary.run_dir).parity
    # and the open short went on losing with the rally: the debit of schema 15 is smaller
    new = _rally_run(tmp_path / "new")
    assert summary.metrics.final_equity[0] < new.metrics.final_equity[0]


def _killed_short(tmp_path: Path, schema: int) -> Kernel:
    """Short on the fall, the kill switch at bar 12's close (the agent alive, its equity
    well above ruin), then a gap up at bar 13's open: the cover costs twice the cash."""
    data = _csv(tmp_path / "gap.csv", FALL + [400.0] * 4)
    market = normalized(load_market(data))
    cfg = RunConfig.model_validate(
        {"data": {"source": str(data)}, "agents": [SHORT], "report": False,
         "scars": {"ruin_fraction": 0.1}}
    )  # fmt: skip
    ids = SessionIds("kill", "s")
    kill = KillSwitch(run_id="kill", session_id="s", step=11, reason="t", source="cli")
    kernel = kernel_for(
        cfg, market, ids, ListJournal("kill"), ReplayOperator([kill]), schema_version=schema
    )
    kernel.run()
    return kernel


def test_the_kill_switch_covers_a_short_whatever_the_cash(tmp_path: Path) -> None:
    kernel = _killed_short(tmp_path, COVER_UNCAPPED_SCHEMA)
    journal = kernel.journal.inner
    assert all(d.step > 11 for d in journal.of(Deaths))  # alive when the kill fired
    (cover,) = [f for f in journal.of(Fills) if f.step == 12]
    assert int(kernel.accounts.position[0, 0]) == 0 and int(cover.qty.numpy()[0]) > 0
    assert int(kernel.accounts.cash[0]) < 0 and not journal.of(Rejects)


def test_a_schema_14_kill_leaves_the_short_open(tmp_path: Path) -> None:
    kernel = _killed_short(tmp_path, OLD)
    assert int(kernel.accounts.position[0, 0]) < 0
    cuts = kernel.journal.inner.of(Rejects)  # at bar 12, and again once the gap kills it
    assert cuts[0].step == 12
    assert {REJECT_REASONS[int(c)] for r in cuts for c in r.reason.numpy()} == {"insufficient_cash"}
