"""A ``QuietRun`` record holds its rows' bars, quotes, regimes and first row's fills, and
gives back the very records the rows would have written one by one
(``scarline.journal.quiet_run``)."""

from __future__ import annotations

from dataclasses import replace

import msgspec
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from scarline.assembly import session_start
from scarline.config import RunConfig
from scarline.events import Bar, Decision, Fills, QuietRun, Quote
from scarline.execution.events import fills_event
from scarline.execution.types import FillBatch
from scarline.journal import WalWriter, read_records
from scarline.journal.quiet_run import expand, features_hash, market_rows, quiet_run, row_records
from scarline.market.stream import BarEmitter, market_from_events, normalized
from scarline.market.synthetic import SynthSpec, generate
from scarline.session import SessionIds

IDS = SessionIds("r", "s")


def _market(seed: int, instruments: int, quotes: bool):
    market = normalized(
        generate(SynthSpec(n_steps=80, n_instruments=instruments, seed=seed, quotes=quotes))
    )
    valid = np.random.default_rng(seed).random(market.valid.shape) > 0.2
    valid[-1] = True
    return normalized(replace(market, valid=valid))


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 1000),
    instruments=st.integers(1, 3),
    quotes=st.booleans(),
    span=st.tuples(st.integers(0, 60), st.integers(1, 19)),
    dtype=st.sampled_from([np.int8, np.float32]),
    regimes=st.booleans(),
    filled=st.integers(0, 3),
)
def test_a_run_expands_to_its_rows_records(seed, instruments, quotes, span, dtype, regimes,
                                           filled):  # fmt: skip
    market = _market(seed, instruments, quotes)
    start, n = span
    stop = min(start + n, market.n_steps)
    labels = np.arange(market.n_steps) % 3 if regimes else None
    fills = _fills(start, filled) if filled else None
    events = None if fills is None else [fills]
    run = quiet_run(IDS, market, start, stop, "population", np.dtype(dtype), labels, events)
    encoded = msgspec.json.encode(run)
    assert (b'"events"' in encoded) == bool(filled)  # schema 8's bytes when there are none
    decoded = msgspec.json.decode(encoded, type=QuietRun)
    rows = list(expand(decoded))
    emitter = BarEmitter(market, IDS)
    expected = []
    for t in range(start, stop):
        ts = int(market.timestamps[t])
        expected += [(ts, b) for b in emitter.bars(t)] + [(ts, q) for q in emitter.quotes(t)]
        if t == start and fills is not None:  # the first row's fills, after its quotes
            expected.append((ts, fills))
        decision = next(e for _, e in rows if isinstance(e, Decision) and e.step == t)
        assert decision.decision_id == f"d{t}"
        assert decision.features_hash == features_hash(market.close[t])
        assert decision.regime == (-1 if labels is None else labels[t])
        assert decision.actions.dtype == np.dtype(dtype).str and not decision.agents.shape[0]
        expected.append((ts, decision))
    assert [(ts, msgspec.json.encode(e)) for ts, e in rows] == [
        (ts, msgspec.json.encode(e)) for ts, e in expected
    ]
    assert market_rows(decoded) == [(ts, e) for ts, e in rows if isinstance(e, Bar | Quote)]


def _fills(step: int, k: int) -> Fills:
    ids = np.arange(k, dtype=np.int64)
    batch = FillBatch(
        ids + 7, ids % 2, ids % 2, np.where(ids % 2, 1, -1).astype(np.int8), ids + 1,
        10_000 + ids, np.full(k, 10_000, np.int64), ids * 3, ids, np.zeros(k, dtype=bool),
    )  # fmt: skip
    return fills_event(IDS, step, batch)


def test_readers_get_rows_back_from_the_wal(tmp_path):
    """Through the WAL: ``row_records`` gives each row's records with the run's seq, and the
    market a replay rebuilds from them is the market's rows."""
    market = _market(3, 2, True)
    run = quiet_run(
        IDS, market, 0, market.n_steps, "population", np.dtype(np.int8), None, [_fills(0, 2)]
    )
    with WalWriter(tmp_path / "wal", "r") as wal:
        wal.append(run, int(market.timestamps[-1]))
    records = list(row_records(read_records(tmp_path / "wal")))
    assert {r.seq for r in records} == {0}
    assert [r.data for r in records if r.kind == "Fills"] == [_fills(0, 2)]
    assert sum(isinstance(r.data, Decision) for r in records) == market.n_steps
    assert [r.kind for r in records[:1]] == [type(records[0].data).__name__]
    start = session_start(RunConfig(report=False), market, IDS)
    rebuilt = market_from_events(start, market_rows(run))
    for name in ("open", "high", "low", "close", "volume", "valid", "timestamps"):
        np.testing.assert_array_equal(getattr(rebuilt, name), getattr(market, name))
    np.testing.assert_array_equal(rebuilt.quotes.bid, market.quotes.bid)
