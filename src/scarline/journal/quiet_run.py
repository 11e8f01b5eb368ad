"""A run of quiet rows as one WAL record (:class:`~scarline.events.QuietRun`), and back.

A backtest of one strategy writes a ``Bar`` and a ``Decision`` for every bar, and on ~92 % of
minute bars of an SMA(10, 30) nothing else happens: those two records were most of what such
a run cost. The kernel's quiet path steps those rows in runs; :func:`quiet_run` journals a run
as one record holding the rows' bars, quotes and regimes as arrays, and :func:`expand` gives
back the very records the rows would have written one by one, so a reader that wants rows
(the market rebuild of a replay, the diary, the decision feed) reads them as before.

Schema 9: a run also holds the records of its rows that its arrays do not give
(``events``): the first row's ``Decision``, ``RiskChecks`` and ``Orders`` where it decided
anew, the ``Fills`` of rows that filled orders; :func:`expand` gives each back after its
row's quotes, and the quiet ``Decision`` of a row that has none among them. Schema 10: those
of any of its rows that decided anew (a run no longer ends before such a row).

The rule that keeps the two forms one: everything a quiet row's records hold is either in
the run (the bars, quotes, timestamps, regime, events) or a function of it (the Decision's id
``d<step>``, its empty cell arrays of the policy's action dtype, and ``features_hash``, the
BLAKE2b-128 of the row's closes — what rule agents saw). ``tests/journal/test_quiet_run.py``
round-trips records; ``tests/test_quiet_path.py`` compares whole runs.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Iterator

import numpy as np

from scarline.events import Array, Bar, Decision, Event, Fills, Orders, QuietRun, Quote, RiskChecks
from scarline.journal.reader import Record
from scarline.market.frame import MarketData
from scarline.session import SessionIds

_NO_REASONS = np.zeros(0, np.uint8)

RowEvent = Fills | Decision | RiskChecks | Orders
"""A record of a run's row that its arrays do not give (``QuietRun.events``)."""

ROW_KINDS = frozenset({"Bar", "Quote", "Decision", "RiskChecks", "Orders", "Fills"})
"""The kinds of record a ``QuietRun`` can stand for."""


@functools.cache
def quiet_cells(action_dtype: np.dtype) -> tuple[Array, ...]:
    """A Decision's cell arrays when no cell changed (agents, actions, target lots,
    instruments, reasons, trust): exactly what ``Array.of`` makes of the empty arrays, made
    once per action dtype."""
    none = np.zeros(0, np.int64)
    empties = (none, np.zeros(0, action_dtype), none, none, _NO_REASONS, np.zeros(0, np.float64))
    return tuple(Array.of(a) for a in empties)


def features_hash(close: np.ndarray, *features: np.ndarray) -> str:
    """A Decision's ``features_hash``: BLAKE2b-128 of what the step's policies saw, the row's
    int64 closes (every instrument's, 0 where no bar) then each learning group's feature
    row (none for rules and a quiet run)."""
    h = hashlib.blake2b(close.tobytes(), digest_size=16)
    for row in features:
        h.update(row.tobytes())
    return h.hexdigest()


def quiet_run(
    ids: SessionIds,
    market: MarketData,
    start: int,
    stop: int,
    policy: str,
    action_dtype: np.dtype,
    regimes: np.ndarray | None,
    events: list[RowEvent] | None = None,
) -> QuietRun:
    """The record of rows ``start .. stop - 1`` of ``market`` (``regimes``: the macro regime
    of every row of the market, None when regimes are off; ``events``: the records of its
    rows the arrays do not give, in order)."""
    rows = slice(start, stop)
    q = market.quotes
    return QuietRun(
        run_id=ids.run_id,
        session_id=ids.session_id,
        step=start,
        policy=policy,
        actions_dtype=np.dtype(action_dtype).str,
        ts=Array.of(market.timestamps[rows]),
        valid=Array.of(market.valid[rows]),
        open=Array.of(market.open[rows]),
        high=Array.of(market.high[rows]),
        low=Array.of(market.low[rows]),
        close=Array.of(market.close[rows]),
        volume=Array.of(market.volume[rows]),
        exog=Array.of(market.exog[rows]),
        bid=None if q is None else Array.of(q.bid[rows]),
        ask=None if q is None else Array.of(q.ask[rows]),
        bid_size=None if q is None else Array.of(q.bid_size[rows]),
        ask_size=None if q is None else Array.of(q.ask_size[rows]),
        regime=None if regimes is None else Array.of(regimes[rows].astype(np.int64)),
        events=events or [],
    )


def row_records(records: Iterable[Record]) -> Iterator[Record]:
    """``records`` with every ``QuietRun`` replaced by the records it stands for (each with
    the run's seq and segment, its row's ts): for readers that want rows."""
    for rec in records:
        if not isinstance(rec.data, QuietRun):
            yield rec
            continue
        for ts, event in expand(rec.data):
            yield Record(rec.seq, ts, type(event).__name__, event, rec.segment)


def market_rows(run: QuietRun) -> list[tuple[int, Bar | Quote]]:
    """``(ts, Bar | Quote)`` of the run's rows: what a market rebuild reads of it."""
    return [(ts, e) for ts, e in expand(run) if isinstance(e, Bar | Quote)]


def expand(run: QuietRun) -> Iterator[tuple[int, Event]]:
    """``(ts, event)`` of every record the run stands for, in the order a row writes them:
    its bars, its quotes, its events (fills; a decision, its risk checks and orders), its
    quiet Decision when the events hold none."""
    ids = {"run_id": run.run_id, "session_id": run.session_id}
    stamps = run.ts.numpy().tolist()
    valid = run.valid.numpy().tolist()
    close = run.close.numpy()
    o, h, lo, c, v = (a.numpy().tolist() for a in (run.open, run.high, run.low, run.close,
                                                   run.volume))  # fmt: skip
    exog = run.exog.numpy().tolist()
    quotes = None
    if run.bid is not None and run.ask is not None:
        assert run.bid_size is not None and run.ask_size is not None
        quotes = [a.numpy().tolist() for a in (run.bid, run.ask, run.bid_size, run.ask_size)]
    regime = None if run.regime is None else run.regime.numpy().tolist()
    agents, actions, target_qty, instrument, reasons, trust = quiet_cells(
        np.dtype(run.actions_dtype)
    )
    by_step: dict[int, list[RowEvent]] = {}
    for e in run.events:
        by_step.setdefault(e.step, []).append(e)
    for k, ts in enumerate(stamps):
        for m, ok in enumerate(valid[k]):
            if ok:
                yield ts, Bar(**ids, instrument=m, open=o[k][m], high=h[k][m], low=lo[k][m],
                              close=c[k][m], volume=v[k][m], exog=exog[k][m])  # fmt: skip
        if quotes is not None:
            bid, ask, bsz, asz = quotes
            for m, ok in enumerate(valid[k]):
                if ok:
                    yield ts, Quote(**ids, instrument=m, bid=bid[k][m], ask=ask[k][m],
                                    bid_size=bsz[k][m], ask_size=asz[k][m])  # fmt: skip
        step = run.step + k
        events = by_step.get(step, ())
        for e in events:
            yield ts, e
        if any(isinstance(e, Decision) for e in events):
            continue
        yield (
            ts,
            Decision(
                **ids,
                decision_id=f"d{step}",
                step=step,
                policy=run.policy,
                agents=agents,
                actions=actions,
                target_qty=target_qty,
                instrument=instrument,
                reasons=reasons,
                regime=-1 if regime is None else regime[k],
                profiles=None,
                features_hash=features_hash(close[k]),
                trust=trust,
            ),
        )
