"""Sinks and delivery: payload shapes, a fake Telegram and Discord on loopback, retries, and
a failing sink that never holds up the trading loop."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from alert_catcher import AlertCatcher
from structlog.testing import capture_logs

from scarline.alerts_config import AlertRetryConfig, AlertsConfig, SinkConfig
from scarline.service.alert_book import AlertBook
from scarline.service.alerts import Alert, AlertInputs, AlertRules
from scarline.service.dispatch import Dispatcher
from scarline.service.sinks import (
    DISCORD_CONTENT_MAX,
    Sink,
    SinkSetupError,
    discord_request,
    slack_request,
    telegram_request,
    webhook_request,
)

S = 1_000_000_000
T0 = 1_700_000_000 * S
TOKEN = "123456:SECRET-bot-token"
ENV = {"TEST_BOT_TOKEN": TOKEN}


def alert(message: str = "drawdown 12.00% (limit 10%)", **over: object) -> Alert:
    fields: dict[str, Any] = {
        "id": "abc123",
        "rule": "drawdown",
        "severity": "warning",
        "subject": "population",
        "message": message,
        "step": 7,
        "bar_ts": T0,
        "wall_ns": T0 + S,
    } | over
    return Alert(**fields)


# -- payloads (pure) --------------------------------------------------------------------


def test_payload_shapes() -> None:
    a = alert()
    tg = telegram_request(a, url="http://h", token=TOKEN, chat_id=-100)
    assert (tg.method, tg.url) == ("POST", f"http://h/bot{TOKEN}/sendMessage")
    assert tg.json["chat_id"] == -100 and tg.json["disable_web_page_preview"] is True
    assert "drawdown" in tg.json["text"] and "step 7" in tg.json["text"]
    assert TOKEN not in repr(tg)

    dc = discord_request(alert("@everyone " + "x" * 5000, severity="critical"), url="http://h/w")
    assert len(dc.json["content"]) == DISCORD_CONTENT_MAX
    (embed,) = dc.json["embeds"]
    assert embed["color"] == 0xE74C3C and embed["title"].startswith("[CRITICAL] drawdown")
    assert len(embed["description"]) <= 4096 and embed["timestamp"].startswith("2023-11-14")
    assert dc.json["allowed_mentions"] == {"parse": []}  # a reason never pings anyone

    sl = slack_request(alert("<!channel> a & b"), url="http://h/s")
    assert "&lt;!channel&gt; a &amp; b" in sl.json["text"]
    assert [b["type"] for b in sl.json["blocks"]] == ["header", "section", "context"]

    wh = webhook_request(a, url="http://h/x")
    assert wh.json["id"] == "abc123" and wh.json["acked"] is False


def test_sink_secrets_come_from_the_environment_and_stay_out_of_repr() -> None:
    config = SinkConfig(kind="telegram", token_env="TEST_BOT_TOKEN", chat_id=5)
    sink = Sink.from_config(config, ENV)
    assert sink.url == "https://api.telegram.org"
    assert TOKEN not in repr(sink) and TOKEN not in sink.url_id
    assert sink.redact(f"failed on /bot{TOKEN}/x") == "failed on /bot***/x"
    with pytest.raises(SinkSetupError, match=r"\$TEST_BOT_TOKEN") as caught:
        Sink.from_config(config, {})
    assert TOKEN not in str(caught.value)
    hook = SinkConfig(kind="discord", name="ops", url_env="HOOK")
    assert Sink.from_config(hook, {"HOOK": "http://127.0.0.1:1/w/"}).url == "http://127.0.0.1:1/w"


# -- delivery over loopback -------------------------------------------------------------


def test_drawdown_halt_and_kill_reach_fake_telegram_and_discord(tmp_path: Path) -> None:
    with AlertCatcher() as telegram, AlertCatcher() as discord:
        config = AlertsConfig.model_validate(
            {
                "drawdown_pct": 10.0,
                "ladder_levels": ["HALT"],
                "kill": True,
                "sinks": [
                    {"kind": "telegram", "url": telegram.url, "token_env": "TEST_BOT_TOKEN",
                     "chat_id": 4242},
                    {"kind": "discord", "url": f"{discord.url}/api/webhooks/1/tok"},
                ],
            }
        )  # fmt: skip
        rules = AlertRules(config)
        book = AlertBook(tmp_path / "alerts.jsonl")
        with capture_logs() as logs:
            dispatcher = Dispatcher.from_config(config, ENV, sleep=lambda _: None)
            steps = [
                AlertInputs(step=0, bar_ts=T0, wall_ns=T0, population_drawdown_pct=12.0),
                AlertInputs(step=1, bar_ts=T0 + 60 * S, wall_ns=T0 + S, ladder=[(-1, "HALT")]),
                AlertInputs(
                    step=2, bar_ts=T0 + 120 * S, wall_ns=T0 + 2 * S, killed_now=True,
                    kill_reason="operator", kill_source="api",
                ),
            ]  # fmt: skip
            for inputs in steps:
                for a in book.add(rules.evaluate(inputs)):
                    assert dispatcher.submit(a)
            assert dispatcher.close(timeout=10.0)
        book.close()

        tg = telegram.wait_for(3)
        assert [r.path for r in tg] == [f"/bot{TOKEN}/sendMessage"] * 3
        assert [r.body["chat_id"] for r in tg] == [4242] * 3
        texts = [r.body["text"] for r in tg]
        assert "drawdown" in texts[0] and "ladder_halt" in texts[1] and "operator" in texts[2]

        dc = discord.wait_for(3)
        assert {r.path for r in dc} == {"/api/webhooks/1/tok"}
        assert [r.body["embeds"][0]["title"].split("]")[0] for r in dc] == [
            "[WARNING",
            "[CRITICAL",
            "[CRITICAL",
        ]
        assert all(isinstance(r.body["content"], str) for r in dc)
        assert [s.sent for s in dispatcher.stats] == [3, 3] and dispatcher.failures == 0
        assert TOKEN not in repr(logs) and "/api/webhooks/1/tok" not in repr(logs)


def test_a_failing_sink_is_retried_then_given_up_while_trading_continues() -> None:
    released = threading.Event()
    delays: list[float] = []

    def sleep(seconds: float) -> None:  # the first backoff waits until the loop is done
        delays.append(seconds)
        released.wait(10.0)

    with AlertCatcher(fail_first=1000) as failing, AlertCatcher() as healthy:
        sinks = [
            Sink(name="broken", kind="webhook", url=f"{failing.url}/hook"),
            Sink(name="fine", kind="discord", url=f"{healthy.url}/hook"),
        ]
        retry = AlertRetryConfig(attempts=3, base_seconds=1.0, max_seconds=1.5)
        dispatcher = Dispatcher(sinks, retry, queue_size=64, sleep=sleep)
        with capture_logs() as logs:
            stepped = 0
            for step in range(40):  # the trading loop stand-in
                if step % 10 == 0:
                    assert dispatcher.submit(alert(id=f"a{step}", step=step))
                stepped += 1
            # every step ran while the broken sink sat in its first backoff
            assert stepped == 40 and failing.wait_for(1) and not released.is_set()
            released.set()
            assert dispatcher.close(timeout=10.0)
        healthy.wait_for(4)

        broken, fine = dispatcher.stats
        assert (broken.attempts, broken.failures, broken.sent) == (12, 4, 0)
        assert len(failing.requests) == 12 and {r.status for r in failing.requests} == {500}
        assert delays == [1.0, 1.5] * 4  # base × 2^k, capped at max_seconds
        assert (fine.sent, fine.failures) == (4, 0)
        assert dispatcher.failures == 4 and dispatcher.last_error == "broken: HTTP 500"
        failed = [e for e in logs if e["event"] == "alert delivery failed"]
        assert len(failed) == 4 and failed[0]["sink"] == "broken" and failed[0]["attempts"] == 3
        assert "url_id" in failed[0] and "hook" not in repr(failed)


def test_a_4xx_is_not_retried_and_unreachable_sinks_never_raise() -> None:
    with AlertCatcher(fail_first=1, fail_status=404) as gone:
        dispatcher = Dispatcher(
            [Sink(name="t", kind="telegram", url=gone.url, token=TOKEN, chat_id=1)],
            AlertRetryConfig(attempts=5),
            sleep=lambda _: None,
        )
        dispatcher.submit(alert())
        assert dispatcher.close(timeout=10.0)
        assert len(gone.requests) == 1 and dispatcher.failures == 1
        assert dispatcher.last_error == "t: HTTP 404"
    # a port nobody listens on: connection refused, retried, redacted, counted
    with AlertCatcher() as closed:
        url = closed.url
    dispatcher = Dispatcher(
        [Sink(name="t", kind="telegram", url=url, token=TOKEN, chat_id=1)],
        AlertRetryConfig(attempts=2),
        sleep=lambda _: None,
    )
    assert dispatcher.submit(alert())
    assert dispatcher.close(timeout=10.0)
    (stats,) = dispatcher.stats
    assert (stats.attempts, stats.failures) == (2, 1)
    assert stats.last_error is not None and TOKEN not in stats.last_error
    assert dispatcher.submit(alert()) is False  # closed: refused, not raised


def test_a_full_queue_drops_instead_of_blocking() -> None:
    gate = threading.Event()
    with AlertCatcher(fail_first=1000) as failing:
        dispatcher = Dispatcher(
            [Sink(name="w", kind="webhook", url=failing.url)],
            AlertRetryConfig(attempts=2),
            queue_size=2,
            sleep=lambda _: gate.wait(10.0),
        )
        results = [dispatcher.submit(alert(id=str(n))) for n in range(10)]
        assert results.count(False) >= 7  # one in flight at most, two queued
        assert dispatcher.stats[0].dropped == results.count(False)
        gate.set()
        assert dispatcher.close(timeout=10.0)


def test_agent_drawdowns_feed_the_book_by_agent_id(tmp_path: Path) -> None:
    rules = AlertRules(AlertsConfig(drawdown_pct=5.0, drawdown_scope="agents"))
    inputs = AlertInputs(
        step=3, bar_ts=T0, wall_ns=T0, agent_ids=["q-1", "q-2"],
        agent_drawdown_pct=np.array([6.0, 1.0]),
    )  # fmt: skip
    book = AlertBook(tmp_path / "alerts.jsonl")
    assert [a.subject for a in book.add(rules.evaluate(inputs))] == ["q-1"]
    assert book.add(rules.evaluate(inputs)) == []
    book.close()
