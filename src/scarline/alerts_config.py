"""The ``[alerts]`` config section: which conditions raise an alert, and where alerts go.

Like every config model it is strict (unknown keys and wrong types are errors) and frozen.
It is a low-level module (pydantic and :class:`scarline.strict.Strict` only) so the run
config can hold it without importing the service.

Rules are off unless written, with one exception the operator expects: with at least one
sink and *no* rule written, the kill, HALT, feed-down and stale-heartbeat alerts are on
(:meth:`AlertsConfig.effective`), because a sink that never speaks is worse than a default.

Secrets stay out of the file: a Telegram bot token is read from the environment variable
``token_env`` names, and a Discord or Slack webhook URL (which is itself a credential) is
given the same way with ``url_env``; only a loopback one (a test's catcher) may be written
as ``url``, since the config is copied into every run directory.
"""

from __future__ import annotations

import ipaddress
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from scarline.strict import Strict

SinkKind = Literal["telegram", "discord", "slack", "webhook"]
LadderLevel = Literal["WARN", "THROTTLE", "HALT"]
DrawdownScope = Literal["population", "agents", "both"]

TELEGRAM_API = "https://api.telegram.org"
"""The Telegram Bot API base when a telegram sink has no ``url`` (tests give 127.0.0.1)."""
DEFAULT_FEED_DOWN_SECONDS = 120.0
"""Sink-only default: a feed down for two minutes. Long enough that one missed poll (ccxt
polls every 5 s, CoinGecko every 30 s) never pages anyone, short enough to matter."""
DEFAULT_STALE_HEARTBEAT_BARS = 3
"""Sink-only default: a heartbeat older than 3 bars is stale (the ``/healthz`` rule)."""
DEFAULT_STALE_HEARTBEAT_SECONDS = 300.0
"""Sink-only default when the bar length is not known: five minutes."""
RULE_KEYS = (
    "drawdown_pct",
    "ladder_levels",
    "kill",
    "drift",
    "feed_down_seconds",
    "stale_heartbeat_seconds",
    "p99_latency_seconds",
)
"""The keys that turn a rule on; writing any of them turns the sink-only defaults off."""


def _http_url(value: str, what: str) -> str:
    """``value`` as an http(s) URL. Every message says "credential", so the config's error
    report does not echo the URL: a webhook URL is one (its path holds the token)."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(
            f"{what} must be http(s)://host[:port][/path], got a {parts.scheme!r} URL "
            "(not shown: a webhook URL is a credential)"
        )
    if parts.fragment:
        raise ValueError(f"{what} may not have a fragment (not shown: it may be a credential)")
    if "@" in parts.netloc:
        raise ValueError(
            f"{what} may not hold credentials (user:password@): the config is copied into "
            "every run directory; put a secret URL in an environment variable named by url_env"
        )
    return value.rstrip("/")


SECRET_URL_KINDS = ("discord", "slack")
"""Sinks whose webhook URL is the credential itself (its path holds the token)."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine: ``localhost``, 127.0.0.0/8 or ::1 (bracketed or not)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def is_loopback_url(url: str) -> bool:
    """Whether ``url``'s host is this machine."""
    return is_loopback(urlsplit(url).hostname or "")


class AlertRetryConfig(Strict):
    """``[alerts.retry]``: how a failed delivery is retried (per sink, exponential backoff)."""

    attempts: int = Field(
        default=5, ge=1, le=20, description="tries per alert and sink, the first included"
    )
    base_seconds: float = Field(
        default=1.0, gt=0, allow_inf_nan=False, description="delay after the first failure"
    )
    max_seconds: float = Field(
        default=60.0, gt=0, allow_inf_nan=False, description="longest delay between tries"
    )


class SinkConfig(Strict):
    """``[[alerts.sinks]]``: one destination. The URL is configurable so tests point it at a
    loopback server; secrets come from the environment, never from the file."""

    kind: SinkKind = Field(description="telegram, discord, slack or webhook (JSON POST)")
    name: str | None = Field(
        default=None, min_length=1, description="the sink's name in logs (unset: the kind)"
    )
    url: str | None = Field(
        default=None,
        description="telegram: the Bot API base (unset: https://api.telegram.org); webhook: "
        "its URL; discord and slack: a loopback URL only (a test's catcher: their real "
        "webhook URLs are credentials, given with url_env)",
    )
    url_env: str | None = Field(
        default=None,
        min_length=1,
        description="environment variable holding the webhook URL instead of url (Discord and "
        "Slack webhook URLs are secrets)",
    )
    token_env: str | None = Field(
        default=None,
        min_length=1,
        description="telegram: the environment variable holding the bot token",
    )
    chat_id: int | str | None = Field(
        default=None, description="telegram: the chat id, or @channelusername"
    )
    timeout_seconds: float = Field(
        default=10.0, gt=0, allow_inf_nan=False, description="time-out of one request"
    )

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else _http_url(value, "url")

    @model_validator(mode="after")
    def _complete(self) -> SinkConfig:
        if self.url is not None and self.url_env is not None:
            raise ValueError("give url or url_env, not both")
        if self.kind == "telegram":
            if self.token_env is None or self.chat_id is None:
                raise ValueError("a telegram sink needs token_env and chat_id")
            if self.url_env is not None:
                raise ValueError("a telegram sink takes url (the Bot API base), not url_env")
        else:
            if self.url is None and self.url_env is None:
                raise ValueError(f"a {self.kind} sink needs url or url_env")
            if self.kind in SECRET_URL_KINDS and self.url and not is_loopback_url(self.url):
                raise ValueError(
                    f"a {self.kind} webhook URL is a credential (not shown): give it with "
                    "url_env, since a url is copied into every run directory (only a loopback "
                    "url, a test's catcher, may be written)"
                )
            if self.token_env is not None or self.chat_id is not None:
                raise ValueError("token_env and chat_id are for telegram sinks only")
        return self

    @property
    def label(self) -> str:
        """The name logs use (never the URL, which may carry a token)."""
        return self.name or self.kind


class AlertsConfig(Strict):
    """``[alerts]``: the rules, the cool-down, the retries and the sinks (docs in
    :mod:`scarline.service.alerts`). Every rule is off when unset; see :meth:`effective`."""

    drawdown_pct: float | None = Field(
        default=None,
        gt=0,
        le=100,
        allow_inf_nan=False,
        description="alert when a drawdown reaches this many percent (see drawdown_scope)",
    )
    drawdown_scope: DrawdownScope = Field(
        default="population",
        description="whose drawdown: the population total (one alert, not one per agent in a "
        "crash), each agent's, or both",
    )
    ladder_levels: list[LadderLevel] | None = Field(
        default=None,
        description='alert on a ladder transition to these levels, e.g. ["THROTTLE", "HALT"] '
        '(sink-only default: ["HALT"])',
    )
    kill: bool | None = Field(default=None, description="alert when the kill switch fires")
    drift: bool | None = Field(default=None, description="alert on a drift sentry alarm")
    feed_down_seconds: float | None = Field(
        default=None,
        gt=0,
        allow_inf_nan=False,
        description=f"alert when the feed is down this long (sink-only default: "
        f"{DEFAULT_FEED_DOWN_SECONDS:g})",
    )
    stale_heartbeat_seconds: float | None = Field(
        default=None,
        gt=0,
        allow_inf_nan=False,
        description=f"alert when the heartbeat is older than this (sink-only default: "
        f"{DEFAULT_STALE_HEARTBEAT_BARS} bars, or {DEFAULT_STALE_HEARTBEAT_SECONDS:g} s)",
    )
    p99_latency_seconds: float | None = Field(
        default=None,
        gt=0,
        allow_inf_nan=False,
        description="alert when the step latency's p99 is above this",
    )
    cooldown_seconds: float = Field(
        default=300.0,
        ge=0,
        allow_inf_nan=False,
        description="a rule that fired for a subject stays silent this long (wall time)",
    )
    keep: int = Field(
        default=1000, ge=1, le=1_000_000, description="alerts kept in memory for GET /alerts"
    )
    retry: AlertRetryConfig = Field(
        default_factory=AlertRetryConfig, description="retries of a failed delivery"
    )
    sinks: list[SinkConfig] = Field(
        default_factory=list, description="where alerts go ([[alerts.sinks]])"
    )

    @field_validator("ladder_levels")
    @classmethod
    def _levels(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError(f"ladder_levels are listed twice: {value}")
        return value

    @model_validator(mode="after")
    def _names(self) -> AlertsConfig:
        labels = [sink.label for sink in self.sinks]
        if len(set(labels)) != len(labels):
            raise ValueError(f"sink names must be unique (unset name = kind), got {labels}")
        return self

    @property
    def rules_given(self) -> bool:
        """Whether any rule key was written (an explicit ``kill = false`` counts)."""
        return any(getattr(self, key) is not None for key in RULE_KEYS)

    def effective(self, bar_seconds: float | None = None) -> AlertsConfig:
        """The config with the sink-only defaults filled in: unchanged when a rule was written
        or no sink is configured; else kill, ``ladder_levels = ["HALT"]``, feed down for
        :data:`DEFAULT_FEED_DOWN_SECONDS` and a heartbeat older than 3 bars (``bar_seconds``,
        the session's bar length) or :data:`DEFAULT_STALE_HEARTBEAT_SECONDS`."""
        if self.rules_given or not self.sinks:
            return self
        stale = (
            DEFAULT_STALE_HEARTBEAT_BARS * bar_seconds
            if bar_seconds is not None and bar_seconds > 0
            else DEFAULT_STALE_HEARTBEAT_SECONDS
        )
        return self.model_copy(
            update={
                "kill": True,
                "ladder_levels": ["HALT"],
                "feed_down_seconds": DEFAULT_FEED_DOWN_SECONDS,
                "stale_heartbeat_seconds": stale,
            }
        )
