"""The ``[live]`` config section: which feed a live session polls, and how.

Like every config model it is strict (unknown keys and wrong types are errors) and frozen.
``timeframe`` accepts the project's frequencies and ccxt's minutes (``"5s"``, ``"1m"`` or
``"1min"``, ``"1h"``, ``"1d"``) and is stored in the project's spelling (``"1m"`` → ``"1min"``).
See docs/feeds.md.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from scarline.market.feeds.bars import timeframe_ns, timeframe_text
from scarline.strict import Strict, positive_decimals

FeedKind = Literal["ccxt", "coingecko", "replay"]
POLL_DEFAULTS: dict[str, float] = {"ccxt": 5.0, "coingecko": 30.0, "replay": 1.0}
"""Seconds between polls per feed (CoinGecko's keyless API allows a few calls a minute)."""
GRACE_DEFAULTS: dict[str, float] = {"ccxt": 2.0, "coingecko": 60.0, "replay": 0.0}
"""Grace delay per feed: CoinGecko refreshes a price about once a minute."""


_CREDENTIAL_WORDS = ("secret", "password", "apikey", "token", "privatekey")
"""Words in an ``options`` key that name a credential (case and underscores ignored)."""


def _credential_key(value: Any, path: str) -> str | None:
    """The dotted path of the first key naming a credential in ``value``, nested tables and
    lists included (a key in ``options = {headers = {...}}`` is copied to the run too)."""
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}"
            folded = str(key).lower().replace("_", "").replace("-", "")
            if any(word in folded for word in _CREDENTIAL_WORDS):
                return here
            found = _credential_key(item, here)
            if found is not None:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = _credential_key(item, f"{path}[{i}]")
            if found is not None:
                return found
    return None


class RetryConfig(Strict):
    """``[live.retry]``: the backoff after failed requests (429, 5xx, time-outs)."""

    base_seconds: float = Field(
        default=1.0, gt=0, allow_inf_nan=False, description="delay after the first failure"
    )
    factor: float = Field(
        default=2.0, ge=1, allow_inf_nan=False, description="growth of the delay per failure"
    )
    max_seconds: float = Field(
        default=60.0, gt=0, allow_inf_nan=False, description="longest delay between attempts"
    )
    jitter: float = Field(
        default=0.5,
        ge=0,
        le=1,
        allow_inf_nan=False,
        description="random share taken off each delay (seeded by the session's seed)",
    )
    rate_limit_seconds: float = Field(
        default=5.0, ge=0, allow_inf_nan=False, description="least wait after a 429"
    )


class LiveConfig(Strict):
    """``[live]``: the feed of a live (paper) session (docs/feeds.md)."""

    feed: FeedKind = Field(default="ccxt", description="ccxt, coingecko or replay")
    exchange: str = Field(default="binance", description="the ccxt exchange id (feed = ccxt)")
    symbols: list[str] = Field(
        default_factory=lambda: ["BTC/USDT", "ETH/USDT"],
        min_length=1,
        description="unified symbols, BASE/QUOTE",
    )
    timeframe: str = Field(default="1min", description='bar length: "5s", "1m"/"1min", "1h" …')
    poll_seconds: float | None = Field(
        default=None,
        gt=0,
        allow_inf_nan=False,
        description="seconds between polls when all is well (unset: ccxt 5, coingecko 30)",
    )
    grace_seconds: float | None = Field(
        default=None,
        ge=0,
        allow_inf_nan=False,
        description="a bar is final this long after its end, the closing rule (unset: ccxt 2, "
        "coingecko 60, replay 0)",
    )
    base_url: str | None = Field(
        default=None,
        description="replaces the scheme and host of every REST URL the feed calls (a test "
        "server, a proxy)",
    )
    timeout_seconds: float = Field(
        default=10.0, gt=0, allow_inf_nan=False, description="time-out of one request"
    )
    quotes: bool = Field(default=True, description="poll best bid/ask where the venue has them")
    warmup_bars: int = Field(
        default=0, ge=0, description="closed bars before the start delivered on the first poll"
    )
    jump_band: float = Field(
        default=0.2,
        gt=0,
        allow_inf_nan=False,
        description="a bar moving more than this share from the last good close is a bad print",
    )
    jump_reset_after: int = Field(
        default=3, ge=1, description="bars in a row beyond the band (and agreeing) that reset it"
    )
    stale_seconds: float | None = Field(
        default=None,
        gt=0,
        allow_inf_nan=False,
        description="a bar checked later than this after its end is stale (unset: two bars "
        "plus the grace delay)",
    )
    tick_sizes: dict[str, str] = Field(
        default_factory=dict,
        description="tick size per symbol, over the venue's (coingecko: needed)",
    )
    lot_sizes: dict[str, str] = Field(
        default_factory=dict,
        description="lot size per symbol, over the venue's (coingecko: needed)",
    )
    coingecko_ids: dict[str, str] = Field(
        default_factory=dict,
        description='CoinGecko coin id per symbol or base ("BTC" = "bitcoin"; default: the '
        "base in lower case)",
    )
    options: dict[str, Any] = Field(
        default_factory=dict, description="ccxt exchange options, passed as given"
    )
    replay_file: str | None = Field(default=None, description="the recording (feed = replay)")
    replay_speed: float | Literal["max"] = Field(
        default=1.0,
        description='recorded time per wall time, > 0, or "max": as fast as polled',
    )
    retry: RetryConfig = Field(default_factory=RetryConfig, description="backoff after failures")
    policies: str | None = Field(
        default=None,
        description='run the ledger\'s learned policies at a stage: "ledger:Shadow" (each on '
        "every symbol; docs/paper.md)",
    )
    ledger_dir: str | None = Field(
        default=None, description="the ledger (unset: $SCARLINE_LEDGER_DIR or the default)"
    )
    policy_slots: int = Field(
        default=1, ge=1, le=64, description="how many of the stage's policies run at once"
    )
    policy_group: int | None = Field(
        default=None,
        ge=0,
        description="set by the session: the agents group that holds the ledger's policies",
    )

    @field_validator("timeframe")
    @classmethod
    def _timeframe(cls, value: str) -> str:
        return timeframe_text(timeframe_ns(value))

    @field_validator("replay_speed")
    @classmethod
    def _speed(cls, value: float | str) -> float | str:
        if value != "max" and not (isinstance(value, float) and 0 < value < float("inf")):
            raise ValueError(f'replay_speed must be > 0 or "max", got {value!r}')
        return value

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"base_url must be http(s)://host[:port][/path], got {value!r}")
        if parts.query or parts.fragment:
            raise ValueError(f"base_url may not have a query or fragment, got {value!r}")
        if parts.username is not None or parts.password is not None:  # no secret in a snapshot
            raise ValueError(
                "base_url may not hold credentials (user:password@): the config is copied "
                "into the run directory; a paper feed reads public market data"
            )
        return value.rstrip("/")

    @field_validator("options")
    @classmethod
    def _no_credentials(cls, value: dict[str, Any]) -> dict[str, Any]:
        path = _credential_key(value, "options")
        if path is not None:
            raise ValueError(
                f"{path}: looks like a credential; the config is copied into the run "
                "directory, and a paper feed reads public market data without one"
            )
        return value

    @field_validator("symbols")
    @classmethod
    def _symbols(cls, value: list[str]) -> list[str]:
        for symbol in value:
            base, sep, quote = symbol.partition("/")
            if not (base and sep and quote):
                raise ValueError(f"symbol {symbol!r} is not BASE/QUOTE (e.g. 'BTC/USDT')")
        if len(set(value)) != len(value):
            raise ValueError("symbols are listed twice")
        return value

    @field_validator("tick_sizes", "lot_sizes")
    @classmethod
    def _sizes(cls, value: dict[str, str]) -> dict[str, str]:
        return positive_decimals(value)

    @model_validator(mode="after")
    def _replay_needs_a_file(self) -> LiveConfig:
        if self.feed == "replay" and not self.replay_file:
            raise ValueError("live.feed = 'replay' needs live.replay_file")
        return self

    @property
    def step_ns(self) -> int:
        return timeframe_ns(self.timeframe)

    @property
    def poll(self) -> float:
        """``poll_seconds``, or the feed's default."""
        return self.poll_seconds if self.poll_seconds is not None else POLL_DEFAULTS[self.feed]

    @property
    def grace(self) -> float:
        """``grace_seconds``, or the feed's default."""
        if self.grace_seconds is not None:
            return self.grace_seconds
        return GRACE_DEFAULTS[self.feed]

    @property
    def stale_ns(self) -> int:
        """``stale_seconds`` in ns, or two bars plus the grace delay."""
        if self.stale_seconds is not None:
            return round(self.stale_seconds * 1e9)
        return 2 * self.step_ns + round(self.grace * 1e9)
