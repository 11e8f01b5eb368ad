"""A paper session on a fake CoinGecko ``/simple/price``: observations become 5-second bars,
the WAL holds exactly those bars, verifies and replays with parity."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from feed_venue import NS, T0, FakeClock, FakeVenue, Observation
from paper_helpers import PaperRunner, after_first_bars, paper_config

from scarline.events import Bar, DataFault, SessionStart
from scarline.instrument import price_to_ticks
from scarline.journal import read_records, verify
from scarline.replayer import replay_run
from scarline.rundir import RunDir

STEP = 5 * NS
BARS = 60


def _walk(start_s: int, n: int, base: str) -> list[Observation]:
    price, out = Decimal(base), []
    for k in range(n):
        price += Decimal((k * 37) % 11 - 5) / 100
        out.append(Observation(updated_at=start_s + k, price=str(price)))
    return out


def test_sixty_bars_from_simple_price_are_journaled_once_each_and_replay(
    clock: FakeClock, run_session: PaperRunner, tmp_path: Path
) -> None:
    start = T0 // NS
    with FakeVenue(clock, STEP) as venue:
        venue.observations = {
            "bitcoin": _walk(start, 5 * BARS + 20, "30000.00"),
            "ethereum": _walk(start, 5 * BARS + 20, "2000.50"),
        }
        live = {
            "feed": "coingecko",
            "symbols": ["BTC/USD", "ETH/USD"],
            "coingecko_ids": {"BTC": "bitcoin", "ETH": "ethereum"},
            "timeframe": "5s",
            "base_url": venue.url,
            "poll_seconds": 1.0,
            "grace_seconds": 1.0,
            "timeout_seconds": 2.0,  # real seconds: a busy process must not time a poll out
            "tick_sizes": {"BTC/USD": "0.01", "ETH/USD": "0.01"},
            "lot_sizes": {"BTC/USD": "0.00001", "ETH/USD": "0.0001"},
        }
        summary = run_session(paper_config(tmp_path, live), max_steps=BARS)
    assert summary.steps == BARS
    records = list(read_records(RunDir(summary.run_dir).wal))
    start_rec = next(r.data for r in records if isinstance(r.data, SessionStart))
    specs = start_rec.instruments
    assert [s.lot_size for s in specs] == ["0.00001", "0.0001"]
    faults = [r.data for r in records if isinstance(r.data, DataFault)]
    assert after_first_bars(faults, ["BTC/USD", "ETH/USD"], T0) == []  # the band's anchor
    for m, coin in enumerate(["bitcoin", "ethereum"]):
        bars = [
            (r.ts, r.data) for r in records if isinstance(r.data, Bar) and r.data.instrument == m
        ]
        stamps = [ts for ts, _ in bars]
        assert stamps == [T0 + i * STEP for i in range(1, BARS + 1)]  # none missing or twice
        for ts, bar in bars:  # each bar's close is the last observation inside it
            inside = [o for o in venue.observations[coin] if ts <= o.updated_at * NS < ts + STEP]
            assert bar.close == price_to_ticks(inside[-1].price, specs[m])
            assert bar.high == max(price_to_ticks(o.price, specs[m]) for o in inside)
    assert verify(RunDir(summary.run_dir).wal, summary.run_id, expected_head=summary.wal_head).ok
    replayed = replay_run(summary.run_dir)
    assert replayed.parity, replayed.describe()
