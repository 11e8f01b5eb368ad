"""A ``[live]`` value the venue refuses is a config error naming its key: exit 2, one line,
no traceback, no run directory."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from feed_venue import NS, T0, FakeClock, FakeVenue, Observation
from paper_helpers import fast_feeds, paper_config
from typer.testing import CliRunner

from scarline.cli import app
from scarline.errors import ConfigError
from scarline.paper.session import PaperOptions, PaperSession

runner = CliRunner()


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ('exchange = "nosuchex"', "key 'live.exchange': unknown ccxt exchange 'nosuchex'"),
        ('timeframe = "7s"', "key 'live.timeframe': ccxt exchange 'binance' has no '7s' candles"),
        (
            'symbols = ["BTC/USDT", "NOPE/USDT"]',
            "key 'live.symbols': ccxt exchange 'binance' has no market 'NOPE/USDT'",
        ),
    ],
)
def test_a_live_value_the_venue_refuses_names_its_key(
    venue: FakeVenue, tmp_path: Path, setting: str, message: str
) -> None:
    live = {
        "exchange": '"binance"',
        "symbols": '["BTC/USDT"]',
        "timeframe": '"1s"',
        "base_url": json.dumps(venue.url),
        "options": '{ fetchMarkets = { types = ["spot"] } }',
    }
    key, _, value = setting.partition(" = ")
    live[key] = value
    body = "\n".join(f"{k} = {v}" for k, v in live.items())
    config = tmp_path / "c.toml"
    config.write_text(
        f'name = "x"\nreport = false\n[[agents]]\nkind = "buy-and-hold"\n[live]\n{body}\n',
        encoding="utf-8",
    )
    out = tmp_path / "runs"
    out.mkdir()
    result = runner.invoke(app, ["paper", "-c", str(config), "--out", str(out), "--json"])
    assert result.exit_code == 2, result.output
    assert message in json.loads(result.stdout)["error"]
    assert "Traceback" not in result.output and not any(out.iterdir())


def test_a_coin_coingecko_does_not_know_names_live_symbols(
    venue: FakeVenue, clock: FakeClock, tmp_path: Path
) -> None:
    # before, the session started and waited for ever: that symbol never got a bar
    venue.observations = {"bitcoin": [Observation(T0 // NS - 5, "30000.5")]}
    live = {
        "feed": "coingecko",
        "symbols": ["BTC/USD", "NOPE/USD"],
        "timeframe": "5s",
        "coingecko_ids": {"BTC": "bitcoin"},
        "base_url": venue.url,
    }
    config = paper_config(tmp_path, live, agents=[{"kind": "buy-and-hold"}])
    options = PaperOptions(out_dir=tmp_path / "runs", feed_factory=fast_feeds(clock))
    message = "key 'live.symbols': CoinGecko has no coin for 'NOPE/USD' (coin id 'nope')"
    with pytest.raises(ConfigError, match=re.escape(message)):
        PaperSession(config, options)
    assert not (tmp_path / "runs").exists()
