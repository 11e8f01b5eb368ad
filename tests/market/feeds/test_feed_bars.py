"""Canonical live bars, pure: timeframes, the closing rule, dedup and gaps, live G0 checks."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scarline.market.feeds.bars import (
    RULES,
    BarAssembler,
    LiveChecks,
    bar_open,
    closes_between,
    is_closed,
    last_closed_open,
    timeframe_ns,
    timeframe_text,
)
from scarline.market.feeds.port import Candle, decimal_text, venue_ns

S = 10**9
T = 1_700_000_040 * S  # a whole minute


def bar(ts: int, o: str, h: str, lo: str, c: str, *, step: int = S, v: str = "1") -> Candle:
    return Candle(symbol="X", ts=ts, step=step, open=o, high=h, low=lo, close=c, volume=v)


def flat(ts: int, price: str = "100") -> Candle:
    return bar(ts, price, price, price, price)


@pytest.mark.parametrize(
    ("text", "ns", "label"),
    [
        ("5s", 5 * S, "5s"),
        ("1m", 60 * S, "1min"),
        ("15m", 900 * S, "15min"),
        ("1min", 60 * S, "1min"),
        ("1h", 3600 * S, "1h"),
        ("1d", 86_400 * S, "1d"),
    ],
)
def test_timeframes_accept_seconds_and_ccxt_minutes(text: str, ns: int, label: str) -> None:
    assert timeframe_ns(text) == ns and timeframe_text(ns) == label


@pytest.mark.parametrize("text", ["", "0s", "1M", "1y", "5 parsecs", "-1s"])
def test_an_unknown_timeframe_names_itself(text: str) -> None:
    with pytest.raises(ValueError, match="unknown timeframe"):
        timeframe_ns(text)


def test_the_closing_rule_waits_for_the_grace_delay() -> None:
    grace = S // 2
    assert bar_open(T + 1_700_000_000, 60 * S) == T
    assert not is_closed(T, S, grace, T + S + grace - 1)
    assert is_closed(T, S, grace, T + S + grace)
    assert last_closed_open(T + S + grace, S, grace) == T
    assert last_closed_open(T + S + grace - 1, S, grace) == T - S
    assert closes_between(T, T + 10 * S, S, grace) == 10
    assert closes_between(T, T, S, grace) == 0


def test_the_assembler_dedups_orders_and_leaves_unclosed_bars() -> None:
    asm = BarAssembler(["X"], S, 0, start=T)
    first = asm.offer("X", [flat(T + S), flat(T), flat(T + 2 * S)], now=T + 2 * S)
    assert [c.ts for c in first.candles] == [T, T + S]  # T + 2s is still open
    again = asm.offer("X", [flat(T), flat(T + S), flat(T + 2 * S)], now=T + 3 * S)
    assert [c.ts for c in again.candles] == [T + 2 * S] and again.dropped == 2
    assert asm.next_expected("X") == T + 3 * S
    assert asm.due("X", T + 4 * S) and not asm.due("X", T + 4 * S - 1)
    assert asm.lag("X", T + 4 * S) == 0 and asm.lag("X", T + 7 * S) == 3 * S


def test_a_skipped_bar_is_a_gap_and_a_resume_starts_after_what_it_has() -> None:
    asm = BarAssembler(["X"], S, 0, start=T, after={"X": T + 4 * S})
    out = asm.offer("X", [flat(T + 3 * S), flat(T + 5 * S), flat(T + 8 * S)], now=T + 9 * S)
    assert [c.ts for c in out.candles] == [T + 5 * S, T + 8 * S] and out.dropped == 1
    assert [(g.start, g.end, g.bars) for g in out.gaps] == [(T + 6 * S, T + 8 * S, 2)]


def test_warmup_reaches_back_and_a_bar_in_progress_at_start_comes_first() -> None:
    assert BarAssembler(["X"], S, 0, start=T + S // 2).next_expected("X") == T
    assert BarAssembler(["X"], S, 0, start=T, warmup=3).next_expected("X") == T - 3 * S


def test_decimal_text_is_exact() -> None:
    assert decimal_text(0.1) == "0.1" and decimal_text("30000.00") == "30000"
    assert decimal_text(1e-05) == "0.00001" and decimal_text(100) == "100"
    assert decimal_text(None) == "NaN" and decimal_text(float("nan")) == "NaN"
    assert decimal_text("abc") == "NaN" and decimal_text(-0.0) == "0"


def test_a_venue_time_is_read_in_the_unit_its_size_shows() -> None:
    s = 1_700_000_000
    assert venue_ns(s) == venue_ns(s * 1000) == venue_ns(s * 10**6) == venue_ns(s * 10**9)
    assert venue_ns(s) == s * S and venue_ns(0) == 0 and venue_ns(-5) < 0


def test_each_live_rule_is_named() -> None:
    checks = LiveChecks(jump_band=0.2, stale=5 * S)
    now = T + 100 * S
    cases = [
        (flat(T - 2 * S), "unconfirmed"),
        (flat(T), "ok"),
        (flat(T), "duplicate_timestamp"),
        (flat(T - S), "out_of_order"),
        (bar(T + S, "100", "NaN", "99", "100"), "missing_value"),
        (bar(T + 2 * S, "100", "101", "99", "100", v="NaN"), "missing_value"),
        (bar(T + 3 * S, "0", "101", "0", "100"), "non_positive_price"),
        (bar(T + 3 * S + S // 2, "100", "101", "99", "100", v="-0.5"), "negative_size"),
        (bar(T + 4 * S, "100", "99", "101", "100"), "ohlc_inconsistent"),
        (bar(T + 5 * S, "102", "101", "99", "100"), "ohlc_inconsistent"),
        (bar(T + 6 * S, "100", "10000", "99", "100"), "price_jump"),
        (flat(T + 7 * S, "101"), "stale"),
    ]
    verdicts = [checks.check(c, now if rule == "stale" else c.end) for c, rule in cases]
    assert [v.rule for v in verdicts] == [rule for _, rule in cases]
    assert {v.rule for v in verdicts} - {"ok"} == set(RULES)
    assert "high 99 is below low 101" in verdicts[8].message
    assert [v.ok for v in verdicts].count(True) == 1 and verdicts[1].ok


def test_a_bad_print_does_not_move_the_reference() -> None:
    checks = LiveChecks(jump_band=0.1)
    rules = [
        checks.check(flat(T + k * S, p), T + (k + 1) * S).rule
        for k, p in enumerate(["100", "105", "10500", "104", "115", "116"])
    ]
    # 105 confirms 100; 10500 is a bad print; 104 is judged against 105 (ok); 115 is +10.6 %
    assert rules == ["unconfirmed", "ok", "price_jump", "ok", "price_jump", "price_jump"]


def test_a_real_level_change_is_accepted_after_the_reset_run() -> None:
    checks = LiveChecks(jump_band=0.1, jump_reset_after=3)
    prices = ["100", "100", "150", "151", "152", "153", "100"]
    rules = [checks.check(flat(T + k * S, p), T + (k + 1) * S).rule for k, p in enumerate(prices)]
    assert rules == ["unconfirmed", "ok", "price_jump", "price_jump", "ok", "ok", "price_jump"]


@pytest.mark.parametrize("bad", ["100000", "0.1"])  # 1000x and 0.001x of 100
def test_a_bad_first_print_is_never_ok_nor_the_reference(bad: str) -> None:
    checks = LiveChecks(jump_band=0.2)
    prices = [bad, "100", "101", "102", bad, "103"]
    verdicts = [checks.check(flat(T + k * S, p), T + (k + 1) * S) for k, p in enumerate(prices)]
    # before, the bad print was ok and the reference: 100, 101 were price_jump faults and
    # 102 was accepted only by the reset run
    assert [v.rule for v in verdicts] == [
        "unconfirmed",
        "unconfirmed",  # beyond the band of the unconfirmed bad close: the new candidate
        "ok",  # within the band of 100: confirmed, the reference
        "ok",
        "price_jump",
        "ok",
    ]
    assert "unconfirmed close" in verdicts[1].message


@settings(max_examples=60, deadline=None)
@given(
    moves=st.lists(st.integers(-900, 900), min_size=3, max_size=12),  # basis points a bar
    bad=st.sampled_from([None, Decimal(1000), Decimal("0.001")]),
)
def test_the_band_anchors_on_the_second_agreeing_bar_never_on_a_bad_first_print(
    moves: list[int], bad: Decimal | None
) -> None:
    """A market moving less than the band a bar trades from its second bar; a first print
    1000x or 0.001x off is never ok and delays that by one bar (the documented bound)."""
    checks = LiveChecks(jump_band=0.2)
    price, prices = Decimal(100), []
    for bp in moves:
        price = (price * (1 + Decimal(bp) / 10_000)).quantize(Decimal("0.01"))
        prices.append(price)
    if bad is not None:
        prices[0] = prices[0] * bad
    rules = [
        checks.check(flat(T + k * S, str(p)), T + (k + 1) * S).rule for k, p in enumerate(prices)
    ]
    first_ok = 2 if bad is not None else 1
    assert rules[:first_ok] == ["unconfirmed"] * first_ok
    assert rules[first_ok:] == ["ok"] * (len(prices) - first_ok)


def test_seeding_a_resumed_symbol_checks_order_and_band_against_the_journal() -> None:
    checks = LiveChecks(jump_band=0.2)
    checks.seed("X", T, "100")
    assert checks.check(flat(T), T + S).rule == "duplicate_timestamp"
    assert checks.check(flat(T + S, "130"), T + 2 * S).rule == "price_jump"
    assert checks.check(flat(T + 2 * S, "110"), T + 3 * S).ok


def test_bad_parameters_are_refused() -> None:
    with pytest.raises(ValueError, match="jump_band"):
        LiveChecks(jump_band=0)
    with pytest.raises(ValueError, match="step"):
        BarAssembler(["X"], 0, 0, start=T)
