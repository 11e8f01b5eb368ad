"""The replay feed: a recording (live batches or a market file) played back at a speed."""

from __future__ import annotations

from pathlib import Path

import pytest
from feed_venue import NS, T0, FakeClock, FakeVenue
from test_feed_ccxt import make_feed, run

from scarline.errors import DataError
from scarline.market.feeds.port import Candle, FeedBatch
from scarline.market.feeds.replay_feed import (
    FeedRecorder,
    Header,
    OutageRecord,
    ReplayFeed,
    candles_of_market,
    header_of,
    read_recording,
    write_recording,
)
from scarline.market.synthetic import SynthSpec, generate

MIN = 60 * NS


def play(feed: ReplayFeed, wall: FakeClock | None = None, limit: int = 10_000) -> list[FeedBatch]:
    """Poll to the end, sleeping (fake wall time) as long as the feed says."""
    batches = []
    for _ in range(limit):
        batch = feed.poll()
        batches.append(batch)
        if batch.exhausted:
            break
        if wall is not None:
            wall.advance(max(feed.seconds_until(batch.next_poll_ns), 1e-9))
    return batches


def candles(batches: list[FeedBatch]) -> list[Candle]:
    return [c for b in batches for c in b.candles]


def test_a_recorded_live_feed_replays_the_same_candles(
    venue: FakeVenue, clock: FakeClock, tmp_path: Path
) -> None:
    live = make_feed(venue, clock)
    path = tmp_path / "feed.jsonl"
    with FeedRecorder(path, header_of(live.info, live.instruments())) as recorder:
        batches = run(live, clock, T0 + 30 * NS)
        for batch in batches:
            recorder.write(batch)
    header, _, quotes, _ = read_recording(path)
    assert header.venue == "binance" and header.instruments[0].lot_size == "0.00001"
    assert quotes

    wall = FakeClock(5 * NS)
    replay = ReplayFeed(path, speed=10.0, clock=wall)
    played = play(replay, wall)
    assert candles(played) == candles(batches)
    assert replay.instruments() == live.instruments()
    assert played[-1].exhausted and not any(b.gaps for b in played)
    times = [c.end for c in candles(batches)] + [q.ts for q in quotes]
    data_span = max(times) - min(times)
    assert wall.now() - 5 * NS == pytest.approx(data_span / 10, abs=NS // 10)  # 10x speed


def test_a_market_file_replays_as_fast_as_polled_with_gaps_and_an_outage(tmp_path: Path) -> None:
    market = generate(SynthSpec(n_steps=120, n_instruments=2, freq="1min", seed=5))
    bars = candles_of_market(market)
    assert len(bars) == 240 and bars[0].step == MIN
    hole = bars[0].ts + 10 * MIN
    kept = [c for c in bars if not (c.symbol == market.symbols[0] and c.ts == hole)]
    start = bars[0].ts + 50 * MIN
    outage = OutageRecord(start=start, end=start + 15 * MIN, failures=5, kinds=["server"])
    header = Header(step=MIN, symbols=market.symbols, venue="synth")
    path = write_recording(tmp_path / "day.jsonl", header, kept, outages=[outage])

    feed = ReplayFeed(path, speed=None, clock=FakeClock(0))
    played = play(feed)
    assert candles(played) == sorted(kept, key=lambda c: (c.ts, market.symbols.index(c.symbol)))
    (gap,) = [g for b in played for g in b.gaps]
    assert (gap.symbol, gap.start, gap.bars) == (market.symbols[0], hole, 1)
    (started,) = [b for b in played if b.outage_started]
    (ended,) = [b for b in played if b.outage_ended]
    assert not started.healthy and ended.healthy and ended.outage_ended is not None
    assert ended.outage_ended.bars_missed == 15
    # the 15 bars that closed during the outage arrive as a backfill with the one closing at
    # its end; every other close time is its own batch
    assert len(ended.candles) == 2 * 16
    assert sum(1 for b in played if b.candles) == 120 - 15


def play_all(feed: ReplayFeed) -> list[FeedBatch]:
    return play(feed, FakeClock(0))


def test_a_replay_resumes_after_the_bar_it_has_and_picks_symbols(tmp_path: Path) -> None:
    market = generate(SynthSpec(n_steps=30, n_instruments=2, freq="1min", seed=1))
    bars = candles_of_market(market)
    path = write_recording(tmp_path / "r.jsonl", Header(step=MIN, symbols=market.symbols), bars)
    first = market.symbols[0]
    feed = ReplayFeed(path, speed=None, symbols=[first], after={first: bars[0].ts + 19 * MIN})
    got = candles(play_all(feed))
    assert [c.ts for c in got] == [bars[0].ts + k * MIN for k in range(20, 30)]
    assert {c.symbol for c in got} == {first}
    with pytest.raises(DataError, match="no symbol 'NOPE'"):
        ReplayFeed(path, symbols=["NOPE"])


def test_a_bad_recording_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    header = Header(step=MIN, symbols=["X"])
    write_recording(path, header, [])
    path.write_text(path.read_text() + '{"kind": "candle", "symbol": "X"}\n')
    with pytest.raises(DataError, match="line 2"):
        ReplayFeed(path)
    with pytest.raises(DataError, match="no such feed recording"):
        ReplayFeed(tmp_path / "none.jsonl")
    (tmp_path / "h.jsonl").write_text('{"format": "other", "step": 1, "symbols": []}\n')
    with pytest.raises(DataError, match="is not read"):
        ReplayFeed(tmp_path / "h.jsonl")
