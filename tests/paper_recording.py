"""A recorded feed and a paper config that replays it (feed = "replay", as fast as polled):
a whole paper session without a network, for the CLI tests."""

from __future__ import annotations

from pathlib import Path

from scarline.market.feeds.port import Candle, FeedInfo, VenueInstrument
from scarline.market.feeds.replay_feed import header_of, write_recording

NS = 10**9
T0 = 1_700_000_000 * NS


def write_recording_of(path: Path, bars: int = 30) -> Path:
    """``bars`` one-minute BTC/USDT candles (a deterministic walk), as a recording."""
    step = 60 * NS
    info = FeedInfo(feed="ccxt", venue="binance", symbols=("BTC/USDT",), step=step)
    venue = VenueInstrument(
        symbol="BTC/USDT", venue="binance", quote="USDT", tick_size="0.01", lot_size="0.00001"
    )
    candles, cents = [], 3_000_000
    for i in range(bars):
        move = (i * 7919) % 401 - 200
        o, c = cents, cents + move
        price = {k: f"{v // 100}.{v % 100:02d}" for k, v in (("o", o), ("c", c))}
        high, low = max(o, c) + 5, min(o, c) - 5
        candles.append(
            Candle(
                symbol="BTC/USDT",
                ts=T0 + i * step,
                step=step,
                open=price["o"],
                high=f"{high // 100}.{high % 100:02d}",
                low=f"{low // 100}.{low % 100:02d}",
                close=price["c"],
                volume="1.25",
            )
        )
        cents = c
    return write_recording(path, header_of(info, {"BTC/USDT": venue}), candles)


def write_paper_config(tmp: Path, bars: int = 30) -> Path:
    """A paper config replaying a fresh recording in ``tmp``; the config's path."""
    recording = write_recording_of(tmp / "feed.jsonl", bars)
    config = tmp / "paper.toml"
    config.write_text(
        f"""name = "paper-cli"
report = false

[live]
feed = "replay"
symbols = ["BTC/USDT"]
timeframe = "1m"
replay_file = "{recording}"
replay_speed = "max"

[[agents]]
kind = "buy-and-hold"

[[agents]]
kind = "sma-crossover"
fast = [2]
slow = [5]
""",
        encoding="utf-8",
    )
    return config
