"""Paper sessions against the fake venue on 127.0.0.1 (tests/feed_venue.py), on a fake clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from feed_venue import T0, FakeClock, FakeVenue, loopback_only, two_symbols
from paper_helpers import PaperRunner, fast_feeds

from scarline.config import RunConfig
from scarline.paper.session import PaperOptions, run_paper
from scarline.runner import RunSummary

__all__ = ["loopback_only"]  # autouse: every paper test stays on 127.0.0.1


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def venue(clock: FakeClock) -> Iterator[FakeVenue]:
    """1-second BTC/USDT (lot 0.00001) and ETH/USDT (lot 0.0001) candles from 10 s before
    T0 to 200 s after."""
    with two_symbols(clock) as fake:
        yield fake


@pytest.fixture
def run_session(clock: FakeClock, tmp_path: Path) -> PaperRunner:
    """Run a paper session of ``config`` on the fake clock: ``run_session(config,
    max_steps=…, run_id=…)``."""

    def go(config: RunConfig, **kw: Any) -> RunSummary:
        options = PaperOptions(
            out_dir=tmp_path / "runs",
            run_id=kw.pop("run_id", "paper"),
            feed_factory=fast_feeds(clock),
            sleep=clock.sleep,
            **kw,
        )
        return run_paper(config, options)

    return go
