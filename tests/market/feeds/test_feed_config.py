"""The ``[live]`` section and the factory that builds its feed."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from feed_venue import NS, FakeClock, FakeVenue
from pydantic import ValidationError

from scarline.market.feeds.ccxt_feed import CcxtFeed
from scarline.market.feeds.coingecko import CoinGeckoFeed
from scarline.market.feeds.config import LiveConfig
from scarline.market.feeds.factory import make_checks, make_feed
from scarline.market.feeds.replay_feed import Header, ReplayFeed, write_recording

TOML = """
feed = "ccxt"
exchange = "binance"
symbols = ["BTC/USDT"]
timeframe = "5s"
poll_seconds = 1
grace_seconds = 0.5
base_url = "http://127.0.0.1:9/"
jump_band = 0.5
lot_sizes = {"BTC/USDT" = "0.00001"}

[retry]
base_seconds = 0.5
max_seconds = 30
"""


def test_a_live_section_reads_from_toml() -> None:
    config = LiveConfig.model_validate(tomllib.loads(TOML))
    assert config.step_ns == 5 * NS and config.timeframe == "5s"
    assert config.base_url == "http://127.0.0.1:9"
    assert config.poll == 1.0 and config.grace == 0.5 and config.retry.base_seconds == 0.5
    assert config.stale_ns == 10 * NS + NS // 2
    assert LiveConfig(timeframe="1m").timeframe == "1min"


def test_poll_and_grace_default_per_feed() -> None:
    ccxt, gecko = LiveConfig(), LiveConfig(feed="coingecko")
    assert (ccxt.poll, ccxt.grace, gecko.poll, gecko.grace) == (5.0, 2.0, 30.0, 60.0)
    replay = LiveConfig(feed="replay", replay_file="r.jsonl", replay_speed="max")
    assert replay.grace == 0.0 and replay.replay_speed == "max"
    assert LiveConfig.model_validate({"replay_speed": 60}).replay_speed == 60.0


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"timeframe": "1y"}, "unknown timeframe"),
        ({"base_url": "ftp://x"}, "base_url must be"),
        ({"base_url": "http://x/?a=1"}, "query"),
        ({"base_url": "https://me:hunter2@api.example.com"}, "may not hold credentials"),
        ({"options": {"apiKey": "k"}}, r"options.apiKey: looks like a credential"),
        ({"options": {"secret_token": "s"}}, "looks like a credential"),
        (
            {"options": {"headers": {"X-MBX-APIKEY": "k"}}},
            r"options.headers.X-MBX-APIKEY: looks like a credential",
        ),
        ({"options": {"auth": [{"password": "p"}]}}, r"options.auth\[0\].password: looks like"),
        ({"symbols": ["BTCUSDT"]}, "BASE/QUOTE"),
        ({"symbols": []}, "at least 1"),
        ({"symbols": ["A/B", "A/B"]}, "twice"),
        ({"feed": "replay"}, "replay_file"),
        ({"feed": "kraken-ws"}, "ccxt"),
        ({"lot_sizes": {"A/B": "-1"}}, "positive decimal"),
        ({"poll_seconds": 0}, "greater than 0"),
        ({"jump_band": "0.2"}, "valid number"),
        ({"replay_speed": 0}, 'must be > 0 or "max"'),
        ({"replay_speed": "fast"}, "max"),
        ({"nope": 1}, "Extra inputs"),
    ],
)
def test_bad_values_are_refused_by_name(raw: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        LiveConfig.model_validate(raw)


def test_the_factory_builds_each_feed(venue: FakeVenue, clock: FakeClock, tmp_path: Path) -> None:
    ccxt = make_feed(
        LiveConfig(symbols=["BTC/USDT"], timeframe="1s", base_url=venue.url, poll_seconds=1),
        clock=clock,
        seed=3,
    )
    assert isinstance(ccxt, CcxtFeed) and ccxt.info.step == NS
    assert ccxt.instruments()["BTC/USDT"].lot_size == "0.00001"
    assert ccxt.client.timeout == 10_000
    gecko = make_feed(LiveConfig(feed="coingecko", symbols=["BTC/USD"], base_url=venue.url))
    assert isinstance(gecko, CoinGeckoFeed) and gecko.url == f"{venue.url}/api/v3/simple/price"
    gecko.close()
    path = write_recording(tmp_path / "r.jsonl", Header(step=NS, symbols=["BTC/USDT"]), [])
    replay = make_feed(
        LiveConfig(feed="replay", replay_file=str(path), symbols=["BTC/USDT"], replay_speed="max")
    )
    assert isinstance(replay, ReplayFeed) and replay.speed is None
    assert replay.poll().exhausted
    checks = make_checks(LiveConfig(jump_band=0.05))
    assert str(checks.band) == "0.05" and checks.stale == 2 * 60 * NS + 2 * NS


def live_reference() -> str:
    """The ``[live]`` key tables of docs/feeds.md, generated from the model."""
    from scarline.config_docs import markdown

    text = markdown(LiveConfig, "-", "-\n")
    body = text[text.index("### top level") :]
    body = body.replace("### top level", "### `[live]`").replace("`[retry]`", "`[live.retry]`")
    return body.replace("### ", "#### ")


def test_the_docs_list_every_live_key() -> None:
    docs = (Path(__file__).resolve().parents[3] / "docs" / "feeds.md").read_text()
    expected = live_reference()
    assert expected in docs, "docs/feeds.md, section `[live]` reference, should end with:\n" + (
        expected
    )


def test_a_refused_credential_is_not_repeated_in_the_message() -> None:
    with pytest.raises(ValidationError) as err:
        LiveConfig.model_validate({"base_url": "https://me:hunter2@api.example.com"})
    assert "hunter2" not in str(err.value).split("input_value")[0]
