"""Alert sinks: the HTTP request each chat service expects, and one delivery attempt.

One pure function per kind builds the request (method, URL, JSON body), so payload shapes
are tested without a network:

- Telegram Bot API: ``POST {url}/bot{token}/sendMessage`` with ``chat_id``, ``text`` (plain
  text, at most 4096 characters) and ``disable_web_page_preview``;
- Discord webhook: ``POST {url}`` with ``content`` (at most 2000 characters), one embed
  (``title``, ``description``, ``color``, fields) and ``allowed_mentions`` empty, so a kill
  reason that says ``@everyone`` pings nobody;
- Slack incoming webhook: ``POST {url}`` with ``text`` (the notification fallback) and
  ``blocks`` (header, section, context), ``&<>`` escaped as Slack asks;
- generic webhook: ``POST {url}`` with the alert itself as JSON.

Secrets: the bot token (and a webhook URL, itself a credential) never reach a log. Logs name
a sink by its ``name`` and :attr:`Sink.url_id`, a short sha256 of the URL. Delivery calls an
``httpx`` transport directly rather than ``httpx.Client``, because the client logs every
request URL at INFO, and a Telegram URL carries the token; error texts are redacted too.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx
import msgspec

from scarline.alerts_config import TELEGRAM_API, SinkConfig, SinkKind

TELEGRAM_TEXT_MAX = 4096
DISCORD_CONTENT_MAX = 2000
DISCORD_TITLE_MAX = 256
DISCORD_DESCRIPTION_MAX = 4096
SLACK_HEADER_MAX = 150
SLACK_SECTION_MAX = 3000
COLORS = {"critical": 0xE74C3C, "warning": 0xF1C40F, "info": 0x3498DB}
"""Discord embed colour per severity (red, amber, blue)."""


class Alert(Protocol):
    """What a sink reads of an alert (:class:`scarline.service.alerts.Alert` has it). A
    protocol, so this module does not import the alerts module, which imports it."""

    @property
    def id(self) -> str: ...
    @property
    def rule(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def step(self) -> int: ...
    @property
    def bar_ts(self) -> int: ...
    @property
    def wall_ns(self) -> int: ...


class SinkSetupError(ValueError):
    """A sink cannot be built: its token or URL environment variable is unset."""


class DeliveryError(Exception):
    """One failed attempt; ``retryable`` is False for a 4xx other than 408/429 (a bad token
    or payload does not heal by waiting). ``retry_after`` is the server's hint, in seconds."""

    def __init__(self, text: str, *, retryable: bool, retry_after: float | None = None):
        super().__init__(text)
        self.retryable = retryable
        self.retry_after = retry_after


@dataclass(frozen=True)
class SinkRequest:
    """What to send: the method, the full URL (may hold a token: not in ``repr``), the body."""

    method: str
    url: str = field(repr=False)
    json: dict[str, Any]


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _utc(ns: int) -> str:
    try:
        return datetime.fromtimestamp(ns // 1_000_000_000, tz=UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return str(ns)


def alert_title(alert: Alert) -> str:
    return f"[{alert.severity.upper()}] {alert.rule} · {alert.subject}"


def alert_text(alert: Alert) -> str:
    """The plain text every chat sink shows: title, message, and where in the run."""
    return (
        f"{alert_title(alert)}\n{alert.message}\n"
        f"step {alert.step} · bar {_utc(alert.bar_ts)} · id {alert.id}"
    )


def telegram_request(alert: Alert, *, url: str, token: str, chat_id: int | str) -> SinkRequest:
    body = {
        "chat_id": chat_id,
        "text": _truncate(alert_text(alert), TELEGRAM_TEXT_MAX),
        "disable_web_page_preview": True,
    }
    return SinkRequest("POST", f"{url}/bot{token}/sendMessage", body)


def discord_request(alert: Alert, *, url: str) -> SinkRequest:
    embed = {
        "title": _truncate(alert_title(alert), DISCORD_TITLE_MAX),
        "description": _truncate(alert.message, DISCORD_DESCRIPTION_MAX),
        "color": COLORS.get(alert.severity, COLORS["info"]),
        "fields": [
            {"name": "step", "value": str(alert.step), "inline": True},
            {"name": "bar", "value": _utc(alert.bar_ts), "inline": True},
            {"name": "id", "value": alert.id, "inline": True},
        ],
        "timestamp": datetime.fromtimestamp(alert.wall_ns / 1e9, tz=UTC).isoformat(),
    }
    body = {
        "content": _truncate(alert_text(alert), DISCORD_CONTENT_MAX),
        "embeds": [embed],
        "allowed_mentions": {"parse": []},
    }
    return SinkRequest("POST", url, body)


def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_request(alert: Alert, *, url: str) -> SinkRequest:
    context = f"step {alert.step} · bar {_utc(alert.bar_ts)} · id {alert.id}"
    blocks = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": _truncate(alert_title(alert), SLACK_HEADER_MAX)},
        },
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": _truncate(_slack_escape(alert.message), SLACK_SECTION_MAX),
            },
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": _slack_escape(context)}]},
    ]
    return SinkRequest("POST", url, {"text": _slack_escape(alert_text(alert)), "blocks": blocks})


def webhook_request(alert: Alert, *, url: str) -> SinkRequest:
    """The alert itself as JSON (every field of the msgspec struct)."""
    return SinkRequest("POST", url, msgspec.to_builtins(alert))


def url_id(url: str) -> str:
    """A short sha256 of a URL: tells sinks apart in logs without showing a secret."""
    return hashlib.sha256(url.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Sink:
    """One configured destination with its secrets resolved (kept out of ``repr``)."""

    name: str
    kind: SinkKind
    url: str = field(repr=False)
    token: str | None = field(default=None, repr=False)
    chat_id: int | str | None = None
    timeout_seconds: float = 10.0

    @classmethod
    def from_config(cls, config: SinkConfig, env: Mapping[str, str]) -> Sink:
        """Resolve ``url_env``/``token_env`` from ``env`` (``os.environ`` in a session):
        raises :class:`SinkSetupError` naming the variable, never its value."""
        url = config.url
        if config.url_env is not None:
            url = env.get(config.url_env, "").strip() or None
            if url is None:
                raise SinkSetupError(f"sink {config.label}: ${config.url_env} is unset or empty")
            url = url.rstrip("/")
        token = None
        if config.kind == "telegram":
            assert config.token_env is not None  # the config's validator
            token = env.get(config.token_env, "").strip() or None
            if token is None:
                raise SinkSetupError(f"sink {config.label}: ${config.token_env} is unset or empty")
            url = url or TELEGRAM_API
        assert url is not None  # the config's validator: url or url_env for other kinds
        return cls(
            name=config.label,
            kind=config.kind,
            url=url,
            token=token,
            chat_id=config.chat_id,
            timeout_seconds=config.timeout_seconds,
        )

    @property
    def url_id(self) -> str:
        return url_id(self.url if self.token is None else f"{self.url}/bot{self.token}")

    def request(self, alert: Alert) -> SinkRequest:
        if self.kind == "telegram":
            assert self.token is not None and self.chat_id is not None
            return telegram_request(alert, url=self.url, token=self.token, chat_id=self.chat_id)
        if self.kind == "discord":
            return discord_request(alert, url=self.url)
        if self.kind == "slack":
            return slack_request(alert, url=self.url)
        return webhook_request(alert, url=self.url)

    def redact(self, text: str) -> str:
        """``text`` with the token and the URL replaced (for error messages kept or logged)."""
        for secret in (self.token, self.url if self.kind != "telegram" else None):
            if secret:
                text = text.replace(secret, "***")
        return text

    def send(self, transport: httpx.BaseTransport, alert: Alert) -> int:
        """One attempt: the HTTP status on 2xx, else :class:`DeliveryError` (redacted)."""
        req = self.request(alert)
        request = httpx.Request(
            req.method,
            req.url,
            json=req.json,
            extensions={"timeout": httpx.Timeout(self.timeout_seconds).as_dict()},
        )
        try:
            response = transport.handle_request(request)
            try:
                response.read()
            finally:
                response.close()
        except httpx.HTTPError as exc:
            text = self.redact(f"{type(exc).__name__}: {exc}")
            raise DeliveryError(text, retryable=True) from None
        status = response.status_code
        if 200 <= status < 300:
            return status
        retry_after = _retry_after(response.headers.get("retry-after"))
        retryable = status >= 500 or status in (408, 429)
        raise DeliveryError(f"HTTP {status}", retryable=retryable, retry_after=retry_after)


def _retry_after(value: str | None) -> float | None:
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and 0 <= seconds < float("inf") else None
