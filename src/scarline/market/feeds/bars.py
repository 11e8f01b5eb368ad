"""Canonical live bars, pure: the closing rule, dedup and gaps, and the live G0 checks.

No I/O and no clock of its own: every function takes *now* (ns) as an argument, so the
same inputs give the same bars in a live session, a test and a replay.

- **Closing rule.** A bar ``[ts, ts + step)`` is final only when wall time reaches
  ``ts + step + grace`` (:func:`is_closed`). Until then the venue may still revise it, so a
  feed never delivers it.
- **Dedup and gaps** (:class:`BarAssembler`). Per symbol, a bar is delivered once, in time
  order: a bar at or before the last delivered one is dropped (a re-served overlap). A bar
  later than the next expected one leaves a :class:`~.port.Gap` of the bars between.
- **Live G0 checks** (:class:`LiveChecks`). Before the kernel sees a bar: time order, NaN,
  non-positive prices, a negative volume, high below low (and open/close outside the
  range), a price jump beyond the band from the last good close (a bad print), a first
  close no second bar has confirmed yet, and staleness (the bar arrived later than
  ``stale`` after its end). The first failing rule is the :class:`Verdict`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal, get_args

from scarline.market.feeds.port import Candle, Gap, GapReason
from scarline.market.frequency import format_frequency, frequency_ns

NS_PER_SECOND = 10**9

_CCXT_MINUTES = re.compile(r"^\s*(\d+)\s*m\s*$")


def timeframe_ns(text: str) -> int:
    """Bar length in ns: the project's frequencies (``"5s"``, ``"1min"``, ``"1h"``, ``"1d"``)
    and ccxt's minutes (``"1m"``, ``"15m"``). ``ValueError`` names the text otherwise."""
    match = _CCXT_MINUTES.match(text)
    if match is not None and int(match.group(1)) > 0:
        return int(match.group(1)) * 60 * NS_PER_SECOND
    try:
        return frequency_ns(text)
    except ValueError:
        raise ValueError(
            f"unknown timeframe {text!r} (use e.g. '5s', '1m' or '1min', '1h', '1d')"
        ) from None


def timeframe_text(step_ns: int) -> str:
    """The project's label of a bar length (``60e9`` → ``"1min"``)."""
    return format_frequency(step_ns)


def bar_open(t: int, step: int) -> int:
    """Open time of the (epoch-aligned) bar holding instant ``t``."""
    return t - t % step


def is_closed(ts: int, step: int, grace: int, now: int) -> bool:
    """The closing rule: bar ``[ts, ts + step)`` is final once ``now >= ts + step + grace``."""
    return now >= ts + step + grace


def last_closed_open(now: int, step: int, grace: int) -> int:
    """Open time of the latest bar that is closed at ``now``."""
    return bar_open(now - grace, step) - step


def closes_between(start: int, end: int, step: int, grace: int) -> int:
    """How many bar closes (``ts + step + grace``) fall in ``[start, end)``."""
    if end <= start:
        return 0
    return -(-(end - grace) // step) - -(-(start - grace) // step)


class BarAssembler:
    """Per symbol: closes, dedups and orders candles, and finds gaps.

    ``after[symbol]`` is the open time of the last bar the consumer already has (a resumed
    session passes what its journal holds); otherwise the first bar expected is the one in
    progress at ``start`` (``warmup`` > 0 reaches that many closed bars further back).
    """

    def __init__(
        self,
        symbols: Iterable[str],
        step: int,
        grace: int,
        *,
        start: int,
        after: Mapping[str, int] | None = None,
        warmup: int = 0,
        gap_reason: GapReason = "venue",
    ) -> None:
        if step <= 0:
            raise ValueError(f"bar step must be positive, got {step}")
        if grace < 0:
            raise ValueError(f"grace must be >= 0, got {grace}")
        self.step, self.grace, self.gap_reason = step, grace, gap_reason
        first = bar_open(start, step) - warmup * step
        after = after or {}
        self._last: dict[str, int] = {s: after.get(s, first - step) for s in symbols}

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(self._last)

    def last(self, symbol: str) -> int:
        """Open time of the last bar delivered (or already held) for ``symbol``."""
        return self._last[symbol]

    def next_expected(self, symbol: str) -> int:
        """Open time of the next bar wanted for ``symbol`` (the ``since`` of a REST fetch)."""
        return self._last[symbol] + self.step

    def due(self, symbol: str, now: int) -> bool:
        """Whether the next expected bar of ``symbol`` is closed at ``now``."""
        return is_closed(self.next_expected(symbol), self.step, self.grace, now)

    def lag(self, symbol: str, now: int) -> int:
        """How late the next expected bar of ``symbol`` is at ``now``: ns since it closed
        (0 while it is not due). A lag beyond a bar or two means stale or missing data."""
        close = self.next_expected(symbol) + self.step + self.grace
        return max(0, now - close)

    def offer(self, symbol: str, candles: Iterable[Candle], now: int) -> Assembled:
        """Keep the closed, new candles of ``symbol`` in time order; find gaps before them.

        Candles not closed at ``now`` are left out silently (they come again); candles at or
        before the last delivered one are dropped (counted).
        """
        out = Assembled()
        last = self._last[symbol]
        for candle in sorted(candles, key=lambda c: c.ts):
            if candle.symbol != symbol:
                raise ValueError(f"candle of {candle.symbol!r} offered as {symbol!r}")
            if not is_closed(candle.ts, self.step, self.grace, now):
                continue
            if candle.ts <= last:
                out.dropped += 1
                continue
            expected = last + self.step
            if candle.ts > expected:
                bars = (candle.ts - expected) // self.step
                out.gaps.append(
                    Gap(
                        symbol=symbol,
                        start=expected,
                        end=candle.ts,
                        bars=int(bars),
                        reason=self.gap_reason,
                    )
                )
            out.candles.append(candle)
            last = candle.ts
        self._last[symbol] = last
        return out


@dataclass
class Assembled:
    """What :meth:`BarAssembler.offer` kept: candles, gaps and the number dropped."""

    candles: list[Candle] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)
    dropped: int = 0


Rule = Literal[
    "ok",
    "out_of_order",
    "duplicate_timestamp",
    "missing_value",
    "non_positive_price",
    "negative_size",
    "ohlc_inconsistent",
    "price_jump",
    "unconfirmed",
    "stale",
]
"""The live G0 rules, in the order they are checked (names shared with ``data check``)."""

RULES: tuple[Rule, ...] = get_args(Rule)[1:]
"""The failing rules (every :data:`Rule` but ``ok``), in check order."""


@dataclass(frozen=True)
class Verdict:
    """The live G0 verdict of one bar: ``ok``, or the first rule it fails and why. A bar
    that is not ok is a data fault: journaled, never traded on."""

    symbol: str
    ts: int
    rule: Rule
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.rule == "ok"


@dataclass
class _SymbolState:
    last_ts: int | None = None
    reference: Decimal | None = None
    candidate: Decimal | None = None  # before a reference: the last close, unconfirmed
    jumped: list[Decimal] = field(default_factory=list)


class LiveChecks:
    """The live G0 checks, stateful per symbol (last timestamp, last good close).

    ``jump_band`` is the largest accepted relative move of any price of a bar from the last
    good close (0.2: ±20 %). A bar beyond it is a ``price_jump`` fault (a bad print) and does
    not move the reference. When ``jump_reset_after`` bars in a row are beyond the band but
    within it of each other, the price has moved for real: the last of them is accepted and
    becomes the reference. ``stale`` (ns, None: off) faults a bar that is checked more than
    that long after its end.

    The first reference is confirmed, not taken from one bar: a symbol's first bar could be
    a bad print (1000x, a fat finger's 0.001x), and as the reference it would be traded on
    and would fault the good bars after it until the reset run. So, with no reference yet,
    a bar is ``unconfirmed`` (not traded) and its close a candidate; the first bar within
    the band of the candidate is ok and anchors the band; a bar beyond it replaces the
    candidate. A normal start trades from its second bar; a bad first print costs one
    more bar and is never a price. A resumed session is seeded from its journal instead.
    """

    def __init__(
        self, *, jump_band: float, jump_reset_after: int = 3, stale: int | None = None
    ) -> None:
        if not jump_band > 0:
            raise ValueError(f"jump_band must be > 0, got {jump_band}")
        if jump_reset_after < 1:
            raise ValueError(f"jump_reset_after must be >= 1, got {jump_reset_after}")
        self.band = Decimal(repr(float(jump_band)))
        self.reset_after = jump_reset_after
        self.stale = stale
        self._state: dict[str, _SymbolState] = {}

    def seed(self, symbol: str, ts: int, close: str) -> None:
        """Start from a known last bar (a resumed session's journal)."""
        self._state[symbol] = _SymbolState(last_ts=ts, reference=Decimal(close))

    def check(self, candle: Candle, now: int) -> Verdict:
        """The verdict of ``candle`` checked at ``now``; updates the symbol's state."""
        state = self._state.setdefault(candle.symbol, _SymbolState())

        def fail(rule: Rule, message: str) -> Verdict:
            return Verdict(candle.symbol, candle.ts, rule, message)

        if state.last_ts is not None and candle.ts < state.last_ts:
            return fail("out_of_order", f"bar at {candle.ts} after the bar at {state.last_ts}")
        if state.last_ts is not None and candle.ts == state.last_ts:
            return fail("duplicate_timestamp", f"a second bar at {candle.ts}")
        state.last_ts = candle.ts
        prices = candle.prices()
        names = ("open", "high", "low", "close")
        for name, value in zip(names, prices, strict=True):
            if not value.is_finite():
                return fail("missing_value", f"{name} is {getattr(candle, name)!r}")
        volume = _decimal_or_nan(candle.volume)
        if not volume.is_finite():
            return fail("missing_value", f"volume is {candle.volume!r}")
        for name, value in zip(names, prices, strict=True):
            if value <= 0:
                return fail("non_positive_price", f"{name} {value} is not positive")
        if volume < 0:  # a file's bar with one is refused by data check: so is a live one
            return fail("negative_size", f"volume {candle.volume} is negative")
        o, h, lo, c = prices
        if h < lo:
            return fail("ohlc_inconsistent", f"high {h} is below low {lo}")
        if not lo <= o <= h or not lo <= c <= h:
            return fail("ohlc_inconsistent", f"open {o} or close {c} outside [{lo}, {h}]")
        verdict = self._jump(candle, state, prices)
        if verdict is not None:
            return verdict
        state.reference = c
        if self.stale is not None and now - candle.end > self.stale:
            late = (now - candle.end) / NS_PER_SECOND
            return fail("stale", f"checked {late:g} s after the bar's end")
        return Verdict(candle.symbol, candle.ts, "ok")

    def _jump(
        self, candle: Candle, state: _SymbolState, prices: tuple[Decimal, ...]
    ) -> Verdict | None:
        ref = state.reference
        if ref is None:
            return self._anchor(candle, state, prices)
        move = _move(prices, ref)
        if move <= self.band:
            state.jumped.clear()
            return None
        close = prices[3]
        run = state.jumped
        if run and abs(close / run[-1] - 1) > self.band:
            run.clear()
        run.append(close)
        if len(run) >= self.reset_after:
            run.clear()
            return None  # the level moved for real: accept, the close becomes the reference
        return Verdict(
            candle.symbol,
            candle.ts,
            "price_jump",
            f"moves {move:.4%} from the last good close {ref} (band ±{self.band:%})",
        )

    def _anchor(
        self, candle: Candle, state: _SymbolState, prices: tuple[Decimal, ...]
    ) -> Verdict | None:
        """No reference yet: ok (the caller anchors on its close) when the bar is within the
        band of the previous, unconfirmed close; else its close is the new candidate."""
        candidate = state.candidate
        if candidate is not None and _move(prices, candidate) <= self.band:
            state.candidate = None
            return None
        state.candidate = prices[3]
        if candidate is None:
            why = "the first close, until the next bar confirms it"
        else:
            why = (
                f"moves {_move(prices, candidate):.4%} from the unconfirmed close {candidate} "
                f"(band ±{self.band:%}); waits for the next bar"
            )
        return Verdict(candle.symbol, candle.ts, "unconfirmed", f"no reference yet: {why}")


def _move(prices: tuple[Decimal, ...], reference: Decimal) -> Decimal:
    """The largest relative move of ``prices`` from ``reference``."""
    return max(abs(p / reference - 1) for p in prices)


def _decimal_or_nan(text: str) -> Decimal:
    try:
        return Decimal(text)
    except ArithmeticError:
        return Decimal("NaN")
