"""``scarline paper``: the kernel of ``run`` on a live feed, one closed bar at a time.

The loop: poll the feed; check every closed bar (the live G0 checks); journal what the
feed reported (faulted bars as ``DataFault``, gaps, outages) and step the kernel on each
new row of good bars; sleep until the next poll. Everything the kernel saw is in the WAL
(bars and feed records are inputs, like a backtest's), so ``scarline replay`` of a paper
session re-executes it with parity. It stops on a stop request (SIGINT/SIGTERM from the
CLI), after ``max_steps`` bars, when a kill switch fired, or when a finite feed (a replay)
is exhausted, then closes the run as ``run`` does: manifests, diary, report.

What the session needs of the config: a ``[live]`` section (the feed), no held-out split
(``evaluation.oos_fraction = 0``: a live session is all out of sample), and no component
that needs the whole history up front (``[regime.hmm]``, ``[risk.microstructure]``).

The run directory also gets ``feed.jsonl`` (every batch the feed gave, faulted bars
included, in the replay feed's format: ``scarline data check`` reads it, a drill replays it)
and ``heartbeat.json`` (:mod:`.heartbeat`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec
import structlog

from scarline.config import RunConfig, config_hash
from scarline.errors import ConfigError, ScarlineError
from scarline.events import DataFault, FeedGap, FeedOutage
from scarline.instrument import InstrumentSpec
from scarline.kernel import Kernel
from scarline.market.feeds.bars import LiveChecks, Verdict, closes_between, timeframe_text
from scarline.market.feeds.config import LiveConfig
from scarline.market.feeds.factory import make_checks, make_feed
from scarline.market.feeds.port import (
    Candle,
    Clock,
    Feed,
    FeedBatch,
    FeedSetupError,
    Outage,
    OutageStarted,
)
from scarline.market.feeds.replay_feed import FeedRecorder, header_of
from scarline.market.frame import MarketData
from scarline.operator import FeedQueue
from scarline.paper.book import LiveBook
from scarline.paper.heartbeat import Heartbeat, StageTimer
from scarline.paper.policies import LedgerPolicies, with_policy_group
from scarline.rundir import RunDir
from scarline.runner import OpenRun, RunSummary, absolute_paths, create_run
from scarline.session import SessionIds, make_run_id, run_dir_in, session_id_for
from scarline.settled_heap import settled_heap

if TYPE_CHECKING:
    from scarline.paper.ops import LiveOps

NS = 1_000_000_000


class PaperError(ScarlineError):
    """A paper session cannot start or resume as asked (exit 2: the input is at fault)."""

    exit_code = 2


def check_paper_config(config: RunConfig) -> LiveConfig:
    """The ``[live]`` section, or a :class:`ConfigError` naming what a paper session cannot
    do with this config."""
    if config.live is None:
        raise ConfigError("a paper session needs a [live] section (see configs/paper.toml)")
    if config.evaluation.oos_fraction:
        raise ConfigError(
            "evaluation.oos_fraction: a paper session is all out of sample; set it to 0"
        )
    if config.regime.hmm.enabled:
        raise ConfigError(
            "regime.hmm.enabled: the HMM regime needs the whole history up front; a paper "
            "session cannot use it yet (set it to false)"
        )
    if config.risk.microstructure.enabled:
        raise ConfigError(
            "risk.microstructure.enabled: not available in a paper session yet (set it to false)"
        )
    return config.live


def _named(err: FeedSetupError) -> ConfigError:
    """The venue's refusal of a ``[live]`` value, naming the key the user has to change."""
    return ConfigError(f"key 'live.{err.key}': {err}")


def venue_specs(live: LiveConfig, feed: Feed) -> tuple[InstrumentSpec, ...]:
    """Each symbol's instrument as the venue describes it (tick, fractional lot), the
    config's ``tick_sizes``/``lot_sizes`` winning where given."""
    venue = feed.instruments()
    specs = []
    for symbol in live.symbols:
        spec = venue[symbol].spec()
        spec = msgspec.structs.replace(
            spec,
            tick_size=live.tick_sizes.get(symbol, spec.tick_size),
            lot_size=live.lot_sizes.get(symbol, spec.lot_size),
        )
        specs.append(spec)
    return tuple(specs)


@dataclass
class PaperOptions:
    """How a session is driven: ``clock``/``sleep`` are injected by tests (a fake clock),
    ``on_step`` sees each step."""

    out_dir: Path | None = None
    # builds the feed from [live] and the last bar held per symbol (tests: a fake clock)
    feed_factory: Callable[[LiveConfig, Mapping[str, int] | None], Feed] | None = None
    run_id: str | None = None
    max_steps: int | None = None
    clock: Clock | None = None
    sleep: Callable[[float], None] | None = None
    on_step: Callable[[int], None] | None = None


class PaperSession:
    """One live session: feed → checks → kernel → WAL, until told to stop."""

    def __init__(
        self,
        config: RunConfig,
        options: PaperOptions | None = None,
        *,
        ids: SessionIds | None = None,
        after: Mapping[str, int] | None = None,
        recorded: tuple[InstrumentSpec, ...] | None = None,
    ) -> None:
        """``ids``, ``after`` (the last bar held per symbol) and ``recorded`` (the
        instruments its WAL holds): a resumed session's
        (:func:`scarline.paper.resume.resume_session`)."""
        self.options = options or PaperOptions()
        live = check_paper_config(config)
        factory = self.options.feed_factory
        try:
            if factory is not None:
                self.feed = factory(live, after)
            else:
                self.feed = make_feed(live, clock=self.options.clock, seed=config.seed, after=after)
        except FeedSetupError as err:
            raise _named(err) from None
        try:
            self._build(config, live, ids, recorded)
        except BaseException as err:
            self.feed.close()
            if isinstance(err, FeedSetupError):
                raise _named(err) from None
            raise

    def _build(
        self,
        config: RunConfig,
        live: LiveConfig,
        ids: SessionIds | None,
        recorded: tuple[InstrumentSpec, ...] | None,
    ) -> None:
        specs = venue_specs(live, self.feed)
        if recorded is not None and recorded != specs:
            # the venue changed a tick, lot or minimum since the session started: the run
            # goes on with the instruments it journaled (replay rebuilds those)
            venue = {s.symbol: s for s in specs}
            structlog.get_logger("scarline.paper").warning(
                "paper.instruments_changed",
                changed={
                    r.symbol: {"recorded": msgspec.to_builtins(r), "venue": msgspec.to_builtins(v)}
                    for r in recorded
                    if (v := venue.get(r.symbol)) != r
                },
                note="the resumed session keeps the instruments it journaled",
            )
            specs = recorded
        info = self.feed.info
        if not info.has_volume and config.execution.fill.participation_rate is not None:
            # no usable volume: a cap on it would refuse every fill; session.json says so
            config = config.with_overrides(**{"execution.fill.participation_rate": None})
        # the ledger's policies at a stage get a group of slots (docs/paper.md)
        paper = absolute_paths(config.with_overrides(profile="paper"))  # as its run records it
        self.config = with_policy_group(paper, len(specs))
        self.live = live
        self.checks: LiveChecks = make_checks(live)
        self.book = LiveBook(
            specs,
            name=f"{info.feed}-{info.venue}".replace("/", "-"),
            frequency=timeframe_text(info.step),
            has_volume=info.has_volume,
            has_quotes=info.has_quotes,
            meta={"feed": f"{info.feed}:{info.venue}"},
        )
        self.queue = FeedQueue()
        if ids is None:
            run_id = self.options.run_id or make_run_id(
                datetime.now(UTC), self.book.name, config_hash(self.config)
            )
            run_dir_in(Path(self.options.out_dir or self.config.out_dir), run_id)  # a safe id
            ids = SessionIds(run_id, session_id_for(run_id))
        self.ids = ids
        self.stop = threading.Event()
        self.run: OpenRun | None = None
        self.steps = 0
        self._down: OutageStarted | None = None
        self._recorder: FeedRecorder | None = None
        self._heartbeat: Heartbeat | None = None
        self._timer = StageTimer()
        self._early: list[FeedBatch] = []  # batches before the run directory exists
        self._quotes: dict[int, tuple[int, int, int, int]] = {}  # latest, by instrument
        self.policies: LedgerPolicies | None = None
        self.ops: LiveOps | None = None

    # -- the loop ---------------------------------------------------------------------------

    def run_session(self) -> RunSummary:
        """Poll and step until stopped; close the run; its summary. Full garbage
        collections skip the objects standing when the loop starts (the imported libraries:
        most of the heap), so none walks them in a bar's step (:mod:`scarline.settled_heap`)."""
        try:
            with settled_heap():
                while not self._done():
                    batch = self.feed.poll()
                    self._ingest(batch)
                    if batch.exhausted or self._done():
                        break
                    # at least a millisecond: a feed whose next poll is due at once still
                    # lets time pass (a fake clock in tests moves only when slept on)
                    self._sleep(max(self.feed.seconds_until(batch.next_poll_ns), 1e-3))
        except BaseException:
            self._abort()
            raise
        return self._close()

    def _done(self) -> bool:
        cap = self.options.max_steps
        # killed: one more bar, on which the flattening orders fill, then stop
        killed_at = None if self.run is None else self.run.kernel.killed_at
        killed = killed_at is not None and self.steps > killed_at + 1
        return self.stop.is_set() or killed or (cap is not None and self.steps >= cap)

    def _sleep(self, seconds: float) -> None:
        if self.options.sleep is not None:
            self.options.sleep(seconds)
        else:
            self.stop.wait(seconds)  # a stop request ends the wait at once

    def _ingest(self, batch: FeedBatch) -> None:
        """Journal what ``batch`` reported and step every new row of good bars."""
        self._record(batch)
        step = self.steps
        for quote in batch.quotes:  # the latest best bid/ask per symbol (journaled per row)
            m = self.book.index.get(quote.symbol)
            if m is None:
                continue  # a quote of another symbol: not used
            try:
                self._quotes[m] = self.book.quote_units(quote)
            except ValueError:  # not a number, crossed or negative: the symbol has no quote
                self._quotes.pop(m, None)  # until a good one, rather than a stale one
        if batch.outage_started is not None:
            self._down = batch.outage_started
        if batch.outage_ended is not None:
            self._down = None
            self.queue.add(self._outage(step, batch.outage_ended))
        for gap in batch.gaps:
            self.queue.add(
                FeedGap(
                    run_id=self.ids.run_id,
                    session_id=self.ids.session_id,
                    step=step,
                    instrument=self.book.index[gap.symbol],
                    symbol=gap.symbol,
                    start=gap.start,
                    end=gap.end,
                    bars=gap.bars,
                    reason=gap.reason,
                )
            )
        rows: dict[int, dict[int, Candle]] = {}
        last = self.book.last_ts
        for candle in batch.candles:
            verdict = self.checks.check(candle, batch.polled_ns)
            if verdict.ok and last is not None and candle.ts <= last:
                verdict = Verdict(candle.symbol, candle.ts, "out_of_order", "its row was stepped")
            if verdict.ok:
                try:
                    self.book.units(candle)
                except ValueError as err:  # beyond int64 in ticks or lots
                    verdict = Verdict(candle.symbol, candle.ts, "missing_value", str(err))
            if not verdict.ok:
                self.queue.add(self._fault(step, candle, verdict))
                continue
            rows.setdefault(candle.ts, {})[self.book.index[candle.symbol]] = candle
        for ts in sorted(rows):
            if self._done():
                break
            self._step(ts, rows[ts], batch.polled_ns)

    def _step(self, ts: int, candles: dict[int, Candle], polled_ns: int) -> None:
        market = self.book.append(ts, candles, self._quotes)
        close_ns = ts + self.feed.info.step + round(self.live.grace * NS)
        clock = self.feed.clock.now()
        self._timer.start((clock - close_ns) / NS)
        if self.run is None:
            self._open(market)
        run = self.run
        assert run is not None
        kernel = run.kernel
        if self.steps:
            kernel.extend(market)
            run.market = market
        t = self.steps
        if self.policies is not None:  # the ledger moved: swap at this bar, before deciding
            for swap in self.policies.poll(t):
                self.queue.add_swap(swap)
        if self.ops is not None:  # a kill or flags asked through the API: journaled here
            asked = self.ops.take_kill()
            if asked is not None:
                self.queue.request_kill(*asked)
            for flag in self.ops.take_flags(run.ids, t):
                self.queue.add(flag)
        kernel.step(t)
        self._timer.mark("order")
        run.wal.flush()
        self._timer.mark("ack")
        self.steps += 1
        if self._heartbeat is not None:
            self._heartbeat.beat(
                t,
                ts,
                self._timer.seconds,
                run_id=run.ids.run_id,
                feed="down" if self._down is not None else "up",
                killed=kernel.killed_at is not None,
                polled_ns=polled_ns,
            )
        if self.ops is not None:
            self._publish(kernel, t, run.wal.next_seq)
        if self.options.on_step is not None:
            self.options.on_step(t)

    def _publish(self, kernel: Kernel, t: int, wal_records: int) -> None:
        """Hand the step to the operations service (snapshot, metrics, alerts)."""
        assert self.ops is not None
        if self._heartbeat is not None:
            self.ops.latencies(self._heartbeat.quantiles())
        down = self._down
        running = [] if self.policies is None else self.policies.slots_now()
        self.ops.after_step(
            kernel,
            t,
            self._timer.seconds,
            feed_up=down is None,
            feed_down_seconds=0.0 if down is None else (self.feed.clock.now() - down.start) / NS,
            policies=running,
            wal_records=wal_records,
        )

    # -- the run directory ------------------------------------------------------------------

    def _open(self, market: MarketData) -> None:
        run = create_run(
            self.config,
            run_id=self.ids.run_id,
            out_dir=self.options.out_dir,
            market=market,
            feed=self.queue,
        )
        self.attach(run)
        run.kernel.begin()

    def attach(self, run: OpenRun) -> None:
        """Write into ``run`` from now on (a new one, or a resumed one at its last step)."""
        self.run = run
        run.kernel.stages = self._timer
        paths = RunDir(run.run_dir)
        if self.config.service.enabled:  # the API, metrics and alerts (docs/service.md)
            from scarline.paper.ops import LiveOps

            self.ops = LiveOps(
                self.config,
                run.run_dir,
                self.feed.info.step / NS,
                feed_down_since=lambda: None if self._down is None else self._down.start,
                now_ns=self.feed.clock.now,
            )
            self.ops.start()
        if self.config.live is not None and self.config.live.policy_group is not None:
            self.policies = LedgerPolicies(
                self.config, self.ids, len(self.book.instruments), paths.vault
            )
        self._heartbeat = Heartbeat(paths.root / "heartbeat.json")
        self._recorder = FeedRecorder(
            paths.root / "feed.jsonl", header_of(self.feed.info, self.feed.instruments())
        )
        for batch in self._early:
            self._recorder.write(batch)
        self._early.clear()

    def _record(self, batch: FeedBatch) -> None:
        if self._recorder is not None:
            self._recorder.write(batch)
        elif batch.candles or batch.outage_ended is not None:
            self._early.append(batch)

    def _outage(self, step: int, o: Outage, *, ongoing: bool = False) -> FeedOutage:
        return FeedOutage(
            run_id=self.ids.run_id,
            session_id=self.ids.session_id,
            step=step,
            start=o.start,
            end=o.end,
            failures=o.failures,
            bars_missed=o.bars_missed,
            kinds=list(o.kinds),
            last_error=o.last_error,
            ongoing=ongoing,
        )

    def _fault(self, step: int, candle: Candle, verdict: Verdict) -> DataFault:
        return DataFault(
            run_id=self.ids.run_id,
            session_id=self.ids.session_id,
            step=step,
            instrument=self.book.index[candle.symbol],
            symbol=candle.symbol,
            bar_ts=candle.ts,
            rule=verdict.rule,
            message=verdict.message,
            open=candle.open,
            high=candle.high,
            low=candle.low,
            close=candle.close,
            volume=candle.volume,
        )

    def _abort(self) -> None:
        if self.ops is not None:
            self.ops.close()
        self.feed.close()
        if self._recorder is not None:
            self._recorder.close()
        if self.run is not None:
            self.run.abort()

    def _close(self) -> RunSummary:
        if self.ops is not None:
            self.ops.close()
        self.feed.close()
        if self._recorder is not None:
            self._recorder.close()
        run = self.run
        if run is None:
            raise PaperError(
                "the feed delivered no bar before the session stopped: nothing was written"
            )
        if self._down is not None:  # stopped while the feed was down: the outage so far
            d, now, step = self._down, self.feed.clock.now(), self.feed.info.step
            so_far = Outage(
                start=d.start,
                end=now,
                failures=1,
                bars_missed=closes_between(d.start, now, step, round(self.live.grace * NS)),
                kinds=(d.kind,),
                last_error=d.error,
            )
            self.queue.add(self._outage(self.steps, so_far, ongoing=True))
        result = run.kernel.end()
        return run.close(result)


def run_paper(config: RunConfig, options: PaperOptions | None = None) -> RunSummary:
    """Run a paper session to its end (see :class:`PaperSession`)."""
    session = PaperSession(config, options)
    return session.run_session()
