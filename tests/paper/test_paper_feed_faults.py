"""A paper session through a bad print and a feed outage: faults are journaled, never
traded on, the session survives and replays with parity."""

from __future__ import annotations

import dataclasses
import itertools
import json
from decimal import Decimal
from pathlib import Path

import pytest
from feed_venue import NS, T0, FakeClock, FakeVenue, Fault
from paper_helpers import PaperRunner, after_first_bars, ccxt_live, fast_feeds, paper_config
from typer.testing import CliRunner

from scarline.cli import app
from scarline.events import Bar, DataFault, FeedOutage, Orders
from scarline.journal import read_records
from scarline.paper.session import PaperOptions, PaperSession
from scarline.replayer import replay, replay_run
from scarline.rundir import RunDir


def _times_100(text: str) -> str:
    return f"{Decimal(text) * 100:f}"


def test_a_bad_print_is_a_journaled_fault_never_traded_and_data_check_names_it(
    venue: FakeVenue, run_session: PaperRunner, tmp_path: Path
) -> None:
    bad_ts = T0 + 30 * NS  # past the 20 returns data check's outlier rule needs first
    rows = venue.candles["BTCUSDT"]
    i = next(k for k, r in enumerate(rows) if r.ts == bad_ts)
    r = rows[i]
    rows[i] = dataclasses.replace(
        r, **{f: _times_100(getattr(r, f)) for f in ("open", "high", "low", "close")}
    )
    summary = run_session(paper_config(tmp_path, ccxt_live(venue)), max_steps=45)
    records = list(read_records(RunDir(summary.run_dir).wal))
    faults = [r.data for r in records if isinstance(r.data, DataFault)]
    faults = after_first_bars(faults, ["BTC/USDT", "ETH/USDT"], T0)
    assert [(f.symbol, f.bar_ts, f.rule) for f in faults] == [("BTC/USDT", bad_ts, "price_jump")]
    assert Decimal(faults[0].close) == Decimal(rows[i].close)  # the price as served
    btc_bars = {r.ts for r in records if isinstance(r.data, Bar) and r.data.instrument == 0}
    assert bad_ts not in btc_bars and bad_ts + NS in btc_bars  # skipped, then trading on
    eth_bars = {r.ts for r in records if isinstance(r.data, Bar) and r.data.instrument == 1}
    assert bad_ts in eth_bars  # the other symbol's row still steps
    assert replay_run(summary.run_dir).parity

    feed = RunDir(summary.run_dir).root / "feed.jsonl"
    line = next(
        n
        for n, text in enumerate(feed.read_text().splitlines(), start=1)
        if f'"ts":{bad_ts}' in text and "BTC/USDT" in text
    )
    check = CliRunner().invoke(app, ["data", "check", str(feed), "--json"])
    report = json.loads(check.stdout)
    named = [f for f in report["findings"] if f["message"].startswith(f"line {line}:")]
    assert named and named[0]["check"] == "outlier", report["findings"]
    assert named[0]["symbol"] == "BTC/USDT"


@pytest.mark.parametrize("factor", ["1000", "0.001"])
def test_a_bad_first_print_is_never_a_price_and_the_first_bar_is_at_the_true_price(
    venue: FakeVenue, run_session: PaperRunner, tmp_path: Path, factor: str
) -> None:
    rows = venue.candles["BTCUSDT"]
    i = next(k for k, r in enumerate(rows) if r.ts == T0)  # the session's first print
    true = rows[i]
    rows[i] = dataclasses.replace(
        true, **{f: f"{Decimal(getattr(true, f)) * Decimal(factor):f}" for f in _OHLC}
    )
    config = paper_config(tmp_path, ccxt_live(venue), agents=[{"kind": "buy-and-hold"}])
    summary = run_session(config, max_steps=6)
    records = list(read_records(RunDir(summary.run_dir).wal))
    faults = [
        (r.data.symbol, r.data.bar_ts, r.data.rule)
        for r in records
        if isinstance(r.data, DataFault)
    ]
    # before, the bad print was the first bar (traded on) and the band's reference, so the
    # good bars after it were price_jump faults until the reset run
    assert faults == [
        ("BTC/USDT", T0, "unconfirmed"),
        ("ETH/USDT", T0, "unconfirmed"),
        ("BTC/USDT", T0 + NS, "unconfirmed"),  # beyond the band of the bad print
    ]
    btc = [(r.ts, r.data) for r in records if isinstance(r.data, Bar) and r.data.instrument == 0]
    assert [ts for ts, _ in btc] == [T0 + k * NS for k in range(2, 2 + summary.steps - 1)]
    first = next(r for r in rows if r.ts == T0 + 2 * NS)
    assert btc[0][1].close == int(Decimal(first.close) * 100)  # in ticks of 0.01
    true_ticks = Decimal(true.close) * 100
    assert all(abs(b.close / true_ticks - 1) < Decimal("0.2") for _, b in btc)  # never a bad one
    assert replay_run(summary.run_dir).parity


_OHLC = ("open", "high", "low", "close")


def test_an_outage_is_survived_journaled_and_no_position_opens_on_stale_bars(
    venue: FakeVenue, run_session: PaperRunner, tmp_path: Path
) -> None:
    down, up = T0 + 10 * NS, T0 + 25 * NS  # 500s for 7 s, then time-outs for 8 s
    venue.faults = [Fault(down, T0 + 17 * NS, "500"), Fault(T0 + 17 * NS, up, "timeout")]
    live = ccxt_live(
        venue,
        retry={"base_seconds": 1.0, "factor": 2.0, "max_seconds": 4.0},
        timeout_seconds=0.5,  # below the venue's 1.2 s stall: the "timeout" faults time out
    )
    summary = run_session(paper_config(tmp_path, live), max_steps=30)
    records = list(read_records(RunDir(summary.run_dir).wal))
    outages = [r.data for r in records if isinstance(r.data, FeedOutage)]
    assert len(outages) == 1
    outage = outages[0]
    assert down <= outage.start < down + NS and up <= outage.end <= up + 5 * NS
    assert set(outage.kinds) == {"server", "timeout"} and outage.bars_missed >= 14

    bars = {(r.data.instrument, r.ts) for r in records if isinstance(r.data, Bar)}
    faults = [r.data for r in records if isinstance(r.data, DataFault)]
    faults = after_first_bars(faults, ["BTC/USDT", "ETH/USDT"], T0)
    stale = {(f.instrument, f.bar_ts) for f in faults}
    assert all(f.rule == "stale" for f in faults)
    # every bar the venue served up to the last step is either traded on or a journaled fault
    last = max(ts for _, ts in bars)
    for m, market_id in enumerate(["BTCUSDT", "ETHUSDT"]):
        served = {r.ts for r in venue.candles[market_id] if T0 <= r.ts <= last}
        mine = {ts for i, ts in bars if i == m} | {ts for i, ts in stale if i == m} | {T0}
        assert mine == served
    assert stale and not bars & stale  # the backfilled, late bars are faults, not bars
    # nothing was decided on the stale bars: no step between the last bar before the outage
    # and the first fresh bar after it
    steps_ts = sorted({ts for _, ts in bars})
    hole = [b - a for a, b in itertools.pairwise(steps_ts) if b - a > NS]
    assert len(hole) == 1 and hole[0] >= 14 * NS
    orders_ts = {r.ts for r in records if isinstance(r.data, Orders)}
    assert orders_ts <= set(steps_ts)
    assert replay_run(summary.run_dir).parity


def test_a_buy_and_hold_of_1000_usdt_buys_a_fractional_btc_amount_to_the_cent(
    venue: FakeVenue, run_session: PaperRunner, tmp_path: Path
) -> None:
    live = ccxt_live(venue, symbols=["BTC/USDT"])
    config = paper_config(
        tmp_path,
        live,
        agents=[{"kind": "buy-and-hold", "sizing": {"mode": "fraction", "fraction": 0.5}}],
        accounts={"initial_cash": 1000.0},
    )
    summary = run_session(config, max_steps=30)
    records = list(read_records(RunDir(summary.run_dir).wal))
    fills = [r.data for r in records if type(r.data).__name__ == "Fills"]
    assert fills
    qty = int(fills[0].qty.numpy()[0])
    fill_price = int(fills[0].price.numpy()[0])
    btc = Decimal(qty) * Decimal("0.00001")
    assert 0 < btc < 1 and btc != btc.to_integral_value()  # a fractional BTC amount
    assert Decimal("450") < btc * Decimal(fill_price) / 100 <= Decimal("500")
    # equity follows the price path exactly: cash left + qty × close at every bar after the
    # fill, in cash units (10⁻⁸ USDT), so to the cent and beyond
    step = next(r.data.step for r in records if type(r.data).__name__ == "Fills")
    closes = [r.data.close for r in records if isinstance(r.data, Bar)]
    fee = int(fills[0].fee.numpy()[0])
    unit = 10  # one lot (0.00001 BTC) moving one tick (0.01 USDT): 10⁻⁷ USDT = 10 units
    cash = 1000 * 10**8 - qty * fill_price * unit - fee
    equity = replay(summary.run_dir, keep_equity=True).kernel.recorder.equity
    assert equity is not None and len(fills) == 1
    for t in range(step, summary.steps):
        assert int(equity[t, 0]) == cash + qty * closes[t] * unit


def test_a_negative_volume_is_a_journaled_fault_never_traded(
    venue: FakeVenue, run_session: PaperRunner, tmp_path: Path
) -> None:
    bad_ts = T0 + 5 * NS  # before, the bar passed the live checks and was traded on
    rows = venue.candles["BTCUSDT"]
    i = next(k for k, r in enumerate(rows) if r.ts == bad_ts)
    rows[i] = dataclasses.replace(rows[i], volume="-5")
    config = paper_config(tmp_path, ccxt_live(venue), agents=[{"kind": "buy-and-hold"}])
    summary = run_session(config, max_steps=8)
    records = list(read_records(RunDir(summary.run_dir).wal))
    faults = [r.data for r in records if isinstance(r.data, DataFault)]
    faults = after_first_bars(faults, ["BTC/USDT", "ETH/USDT"], T0)
    assert [(f.symbol, f.bar_ts, f.rule, f.volume) for f in faults] == [
        ("BTC/USDT", bad_ts, "negative_size", "-5")
    ]
    assert all(r.data.volume >= 0 for r in records if isinstance(r.data, Bar))
    btc_bars = {r.ts for r in records if isinstance(r.data, Bar) and r.data.instrument == 0}
    assert bad_ts not in btc_bars and bad_ts + NS in btc_bars
    assert replay_run(summary.run_dir).parity


def test_a_stop_during_an_outage_journals_it_ongoing_with_the_bars_it_missed(
    venue: FakeVenue, clock: FakeClock, tmp_path: Path
) -> None:
    down = T0 + 6 * NS  # the venue answers 500s from here to the stop, 20 s later
    venue.faults = [Fault(down, T0 + 3600 * NS, "500")]
    live = ccxt_live(venue, retry={"base_seconds": 1.0, "max_seconds": 2.0})
    config = paper_config(tmp_path, live, agents=[{"kind": "buy-and-hold"}])

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        if clock.now() >= down + 20 * NS:
            session.stop.set()  # Ctrl-C

    options = PaperOptions(
        out_dir=tmp_path / "runs", run_id="p", feed_factory=fast_feeds(clock), sleep=sleep
    )
    session = PaperSession(config, options)
    summary = session.run_session()
    records = list(read_records(RunDir(summary.run_dir).wal))
    (outage,) = [r.data for r in records if isinstance(r.data, FeedOutage)]
    assert outage.ongoing and down <= outage.start < down + NS
    # before, an outage still on at the stop said it missed no bar at all
    assert outage.bars_missed == pytest.approx((outage.end - outage.start) / NS, abs=1)
    assert outage.bars_missed >= 19
    assert replay_run(summary.run_dir).parity
