"""Resuming a paper session whose venue changed under it."""

from __future__ import annotations

from pathlib import Path

import pytest
from feed_venue import FakeClock, FakeVenue, Market
from paper_helpers import ccxt_live, fast_feeds, paper_config
from recorded_runs import recording_as

from scarline.events import SessionStart
from scarline.journal import read_records
from scarline.paper.resume import resume_session
from scarline.paper.session import PaperOptions, PaperSession
from scarline.replayer import replay_run
from scarline.rundir import RunDir


class Crash(Exception):
    """Stands for the process dying mid-session."""


def crashed_session(venue: FakeVenue, clock: FakeClock, tmp_path: Path, at: int) -> Path:
    """A buy-and-hold paper session that died at step ``at``: its run directory."""

    def crash(t: int) -> None:
        if t == at:
            raise Crash

    config = paper_config(tmp_path, ccxt_live(venue), agents=[{"kind": "buy-and-hold"}])
    options = PaperOptions(
        out_dir=tmp_path / "runs",
        run_id="p",
        feed_factory=fast_feeds(clock),
        sleep=clock.sleep,
        on_step=crash,
    )
    with pytest.raises(Crash):
        PaperSession(config, options).run_session()
    return tmp_path / "runs" / "p"


def resumed(run_dir: Path, clock: FakeClock, steps: int) -> PaperSession:
    """``run_dir`` resumed, to stop after ``steps`` steps in all."""
    options = PaperOptions(
        out_dir=run_dir.parent, max_steps=steps, feed_factory=fast_feeds(clock), sleep=clock.sleep
    )
    return resume_session(run_dir, options)


def test_a_resume_after_the_venue_changed_a_lot_size_keeps_the_journaled_instruments(
    venue: FakeVenue, clock: FakeClock, tmp_path: Path
) -> None:
    run_dir = crashed_session(venue, clock, tmp_path, at=4)
    venue.markets[0] = Market("BTC/USDT", lot="0.0001")  # the venue coarsened BTC's lot
    # before: a ValueError (an internal error) from the book, and no way to go on
    summary = resumed(run_dir, clock, 8).run_session()
    assert summary.steps == 8
    (start,) = [r.data for r in read_records(RunDir(run_dir).wal, kinds=("SessionStart",))]
    assert isinstance(start, SessionStart)
    assert start.instruments[0].lot_size == "0.00001"
    assert replay_run(run_dir).parity


def test_a_resumed_session_keeps_the_schema_it_began_with(
    venue: FakeVenue, clock: FakeClock, tmp_path: Path
) -> None:
    """A session begun by an older scarline (schema 13: working orders netted in the risk
    check) and resumed by this one goes on with that schema's rules, so the whole journal
    replays as one run; before, the resumed steps ran the current schema's."""
    with recording_as(13):
        run_dir = crashed_session(venue, clock, tmp_path, at=3)
    session = resumed(run_dir, clock, 6)
    assert session.run is not None and session.run.kernel.schema_version == 13
    summary = session.run_session()
    assert summary.steps == 6
    (start,) = [r.data for r in read_records(RunDir(run_dir).wal, kinds=("SessionStart",))]
    assert start.schema_version == 13
    assert replay_run(run_dir).parity
