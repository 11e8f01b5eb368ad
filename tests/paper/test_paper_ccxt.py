"""A paper session on the fake binance venue: the WAL holds exactly the served bars, it
verifies, and replay gives parity."""

from __future__ import annotations

from pathlib import Path

from feed_venue import NS, T0, FakeVenue
from paper_helpers import PaperRunner, after_first_bars, ccxt_live, paper_config

from scarline.events import Bar, DataFault, Quote, SessionStart
from scarline.instrument import price_to_ticks, to_units
from scarline.journal import read_records, verify
from scarline.replayer import replay_run
from scarline.rundir import RunDir


def test_sixty_one_second_bars_are_journaled_once_each_and_replay(
    venue: FakeVenue, run_session: PaperRunner, tmp_path: Path
) -> None:
    config = paper_config(tmp_path, ccxt_live(venue))
    summary = run_session(config, max_steps=60)
    assert summary.steps == 60
    run_dir = summary.run_dir
    records = list(read_records(RunDir(run_dir).wal))
    start = next(r.data for r in records if isinstance(r.data, SessionStart))
    assert start.profile == "paper"
    specs = {s.symbol: s for s in start.instruments}
    assert specs["BTC/USDT"].lot_size == "0.00001" and specs["ETH/USDT"].lot_size == "0.0001"
    assert specs["BTC/USDT"].min_notional == "5"  # the venue's smallest order, enforced
    bars = [(r.ts, r.data) for r in records if isinstance(r.data, Bar)]
    faults = [r.data for r in records if isinstance(r.data, DataFault)]
    assert after_first_bars(faults, ["BTC/USDT", "ETH/USDT"], T0) == []
    for m, (symbol, market_id) in enumerate([("BTC/USDT", "BTCUSDT"), ("ETH/USDT", "ETHUSDT")]):
        got = [(ts, b) for ts, b in bars if b.instrument == m]
        stamps = [ts for ts, _ in got]
        assert len(stamps) == len(set(stamps)) == 60  # none duplicated
        assert stamps == [stamps[0] + i * NS for i in range(60)]  # none missing
        # the bar in progress at the start anchors the band; the next one, agreeing, is the first
        assert stamps[0] == T0 + NS
        rows = {r.ts: r for r in venue.candles[market_id]}
        spec = specs[symbol]
        for ts, bar in got:  # exactly what the venue served, in ticks and lots
            row = rows[ts]
            assert (bar.open, bar.high, bar.low, bar.close) == tuple(
                price_to_ticks(getattr(row, f), spec) for f in ("open", "high", "low", "close")
            )
            assert bar.volume == to_units(row.volume, spec.lot)
    # the venue's best bid/ask rides with every bar (Quote records, replayed like the bars)
    quotes = [r.data for r in records if isinstance(r.data, Quote)]
    assert len(quotes) == len(bars) and all(0 < q.bid < q.ask for q in quotes)
    assert verify(RunDir(run_dir).wal, summary.run_id, expected_head=summary.wal_head).ok
    replayed = replay_run(run_dir)
    assert replayed.parity, replayed.describe()
    assert (RunDir(run_dir).root / "heartbeat.json").is_file()
    assert (RunDir(run_dir).root / "feed.jsonl").is_file()


def test_a_crossed_book_is_never_priced_from(
    venue: FakeVenue, run_session: PaperRunner, tmp_path: Path
) -> None:
    venue.spread_ticks = -1  # every ticker's bid is above its ask
    summary = run_session(paper_config(tmp_path, ccxt_live(venue)), max_steps=8)
    assert summary.steps == 8
    records = list(read_records(RunDir(summary.run_dir).wal))
    assert sum(isinstance(r.data, Bar) for r in records) == 16  # the bars still trade
    quotes = [r.data for r in records if isinstance(r.data, Quote)]
    assert quotes and all(q.bid == q.ask == 0 for q in quotes)  # 0: no quote, none priced from
    assert replay_run(summary.run_dir).parity
