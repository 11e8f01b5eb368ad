"""``/decisions`` pages begun from the decision index are the pages a read from the top
gives, errors included, and a page deep in a long WAL reads only the end of it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wal_helpers import age, append, decision, reads_under, refusal, regime

from scarline.config import RunConfig
from scarline.errors import WalError
from scarline.events import Event
from scarline.journal.segments import list_segments
from scarline.runner import execute_run
from scarline.service import decision_index, runs
from scarline.service.run_cache import RunCache

RUN = "index"
STEPS = 240


def _events() -> list[Event]:
    out: list[Event] = []
    for step in range(STEPS):
        out.append(decision(RUN, step, agents=1 + step % 3))
        if step % 7 == 0:
            out.append(refusal(RUN, step))
        if step % 11 == 0:
            out.append(regime(RUN, step))
    return out


@pytest.fixture(scope="module")
def small_marks() -> Any:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(decision_index, "MARK_LINES", 5)  # marks every few lines, not every 1024
        yield


@pytest.fixture(scope="module")
def long_run(tmp_path_factory: pytest.TempPathFactory, small_marks: None) -> Path:
    run = tmp_path_factory.mktemp("index") / RUN
    append(run / "wal", RUN, _events(), segment_bytes=6000)
    assert len(list_segments(run / "wal")) > 10
    age(run)  # written a while ago: the segments' stats say all
    return run


def _outcome(page: Callable[[], dict[str, Any]]) -> object:
    try:
        return page()
    except WalError as err:
        return ("error", str(err))


def _same_pages(run: Path, cache: RunCache, **query: Any) -> None:
    fresh = _outcome(lambda: runs.decisions(run, **query))
    cached = _outcome(lambda: cache.decisions(run, **query))
    assert cached == fresh


QUERIES = st.fixed_dictionaries(
    {
        "cursor": st.none() | st.integers(0, 420),
        "since": st.none() | st.integers(0, STEPS + 3),
        "agent": st.none() | st.integers(0, 3),
        "limit": st.integers(1, 40),
    }
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(QUERIES)
def test_pages_from_the_index_are_the_pages_from_the_top(
    long_run: Path, query: dict[str, Any]
) -> None:
    _same_pages(long_run, RunCache(), **query)


def test_a_late_page_reads_only_the_end(long_run: Path) -> None:
    cache = RunCache()
    segments = len(list_segments(long_run / "wal"))
    cache.decisions(long_run, agent=None, since=0, limit=1, cursor=None)  # indexed once
    for query in ({"since": STEPS - 5, "cursor": None}, {"since": None, "cursor": 280}):
        with reads_under(long_run) as reads:
            page = cache.decisions(long_run, agent=None, limit=3, **query)
        assert page == runs.decisions(long_run, agent=None, limit=3, **query)
        assert page["items"]
        assert reads.wal() <= 2 < segments  # where the page is (and a segment's first seq)


def test_a_record_that_does_not_decode_is_met_as_before(tmp_path: Path, small_marks: None) -> None:
    run = tmp_path / RUN
    append(run / "wal", RUN, _events()[:120], segment_bytes=6000)
    segments = list_segments(run / "wal")
    middle = segments[len(segments) // 2]
    lines = middle.read_bytes().split(b"\n")
    bad = b'{"seq":%d,"ts":0,"kind":"Decision","data":{"kind":"Decision"}}' % 10**6
    middle.write_bytes(b"\n".join([*lines[:3], bad, *lines[3:]]))
    cache = RunCache()
    for since in (None, 0, 30, 60, 90, 200):
        for cursor in (None, 0, 40, 80, 150, 10**6 + 1):
            _same_pages(run, cache, agent=None, since=since, limit=5, cursor=cursor)


@pytest.fixture(scope="module")
def backtest(tmp_path_factory: pytest.TempPathFactory, small_marks: None) -> Path:
    cfg = RunConfig(
        agents=[{"kind": "sma-crossover", "fast": [5], "slow": [20]}],
        data={"source": "sp500", "end": "2003-12-31"},
        report=False,
    )
    return execute_run(cfg, run_id="feed", out_dir=tmp_path_factory.mktemp("bt")).run_dir


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.fixed_dictionaries(
        {
            "cursor": st.none() | st.integers(0, 3000),
            "since": st.none() | st.integers(0, 1300),
            "agent": st.none() | st.just(0),
            "limit": st.integers(1, 20),
        }
    )
)
def test_quiet_runs_pages_are_the_same(backtest: Path, query: dict[str, Any]) -> None:
    _same_pages(backtest, RunCache(), **query)
