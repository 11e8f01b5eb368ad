"""The kernel's quiet path (``scarline.quiet_path``) steps runs of a few rule agents' quiet
rows in one compiled call. Whatever the market, agents, ladder, scars and kills, a run with it
writes the same records (a backtest's ``QuietRun`` expands to exactly the rows' records; a
paper session's WAL is the same to the last byte), the same decision trace and equity path,
and leaves every engine in the same state as stepping the rows one by one."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace

import msgspec
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from list_journal import ListJournal
from recorded_runs import run_as

from scarline.assembly import kernel_for
from scarline.config import RunConfig
from scarline.events import (
    COVER_UNCAPPED_SCHEMA,
    FILL_RUN_SCHEMA,
    SCHEMA_VERSION,
    SPAN_RUN_SCHEMA,
    Decision,
    Fills,
    KillSwitch,
    Orders,
    QuietRun,
    RegimeChange,
    Rejects,
)
from scarline.gating.frozen import CountingJournal
from scarline.journal import read_records
from scarline.journal.manifest import read_manifest
from scarline.kernel import Kernel
from scarline.market.frame import MarketData
from scarline.market.stream import normalized
from scarline.market.synthetic import SynthSpec, generate
from scarline.operator import LiveOperator, ReplayOperator
from scarline.replayer import replay_run
from scarline.risk import check_compiled
from scarline.runner import execute_run
from scarline.session import SessionIds

SMA = {"kind": "sma-crossover", "fast": [3, 5], "slow": [8, 13]}
AGENTS = {
    "sma": SMA,
    "sma-short": {**SMA, "fast": [4], "slow": [9], "allow_short": True},
    "hold": {"kind": "buy-and-hold", "sizing": {"mode": "fraction", "fraction": 2.0}},
    "momentum": {"kind": "momentum", "lookbacks": [5, 20], "allow_short": True},
    "fixed": {**SMA, "fast": [2], "slow": [6], "sizing": {"mode": "fixed", "lots": 3}},
}


LIMITS = [
    {},  # every intent passes in full: the compiled check's usual case
    {"max_position_lots": 40},  # scaled down or refused
    {"max_orders_per_window": 2, "order_window_steps": 30},  # the order rate
    {"max_drawdown_pct": 3.0, "max_spread_bps": 5.0},  # the drawdown and the quotes read
    {"min_cash": 999_000.0},  # too little cash left: refused
]
"""Risk limits the hypothesis draws from: verdicts other than a full pass go the ordinary
route, and the compiled check reads every input the ordinary one does."""

SCHEMAS = (
    FILL_RUN_SCHEMA - 1, FILL_RUN_SCHEMA, SPAN_RUN_SCHEMA, COVER_UNCAPPED_SCHEMA - 1,
    COVER_UNCAPPED_SCHEMA,
)  # fmt: skip
"""Schemas the hypothesis draws from: where quiet runs end, and whether covers are held to
cash (with ``rally``, shorts outrun their accounts)."""


def _market(
    seed: int, instruments: int, gaps: bool, steps: int = 240, rally: tuple[int, int] | None = None
) -> MarketData:
    """A synthetic market; ``rally`` ``(step, factor)``: every price from that step on is
    ``factor`` times as high (shorts lose more than their account: covers run into debit)."""
    market = normalized(
        generate(SynthSpec(n_steps=steps, n_instruments=instruments, seed=seed, quotes=True))
    )
    if rally is not None:
        market = _rallied(market, *rally)
    if not gaps:
        return market
    valid = np.random.default_rng(seed).random(market.valid.shape) > 0.1
    valid[:5, 0] = False
    valid[-1] = True
    return normalized(replace(market, valid=valid))


def _run(
    cfg: RunConfig,
    market: MarketData,
    quiet: bool,
    kills: list[int],
    records: bool = True,
    schema: int = SCHEMA_VERSION,
) -> Kernel:
    ids = SessionIds("test", "s")
    operator = ReplayOperator(
        [KillSwitch(run_id="test", session_id="s", step=k, reason="t", source="cli") for k in kills]
    )
    journal = ListJournal("test") if records else CountingJournal()
    kernel = kernel_for(cfg, market, ids, journal, operator, schema_version=schema)
    if not quiet:
        kernel.quiet = None
    kernel.run()
    return kernel


def _assert_same(fast: Kernel, slow: Kernel) -> None:
    fj, sj = fast.journal.inner, slow.journal.inner
    if fast._quiet_runs:  # the QuietRuns stand for the rows' records, byte for byte
        assert [msgspec.json.encode(e) for e in fj.rows()] == [
            msgspec.json.encode(e) for e in sj.events
        ]
    else:
        assert [type(e).__name__ for e in fj.events] == [type(e).__name__ for e in sj.events]
        assert fj.head == sj.head  # every record, byte for byte
    assert fast.trace.hexdigest() == slow.trace.hexdigest()
    assert fast.trace.steps == slow.trace.steps
    np.testing.assert_array_equal(fast.recorder.equity, slow.recorder.equity)
    for name in ("cash", "position", "realized", "last_close", "market_value", "equity"):
        np.testing.assert_array_equal(getattr(fast.accounts, name), getattr(slow.accounts, name))
    fl, sl = fast.risk._ladder, slow.risk._ladder
    np.testing.assert_array_equal(fl.peak, sl.peak)
    np.testing.assert_array_equal(fl.level, sl.level)
    assert fl._global_peak == sl._global_peak
    for name in ("_peak", "_mean", "_var", "_last_equity", "scars", "alive"):
        np.testing.assert_array_equal(getattr(fast.life, name), getattr(slow.life, name))
    np.testing.assert_array_equal(fast.life.trust, slow.life.trust)
    if not fast._quiet_runs:  # (a QuietRun is one seq for all its rows)
        assert fast.step_seqs.range(0, fast.market.n_steps) == slow.step_seqs.range(
            0, slow.market.n_steps
        )


def _rallied(market: MarketData, step: int, factor: int | np.ndarray) -> MarketData:
    """Every price from ``step`` on ``factor`` times as high (per instrument, if an array)."""

    def up(a: np.ndarray) -> np.ndarray:
        out = a.copy()
        out[step:] *= factor
        return out

    q = market.quotes
    quotes = None if q is None else replace(q, bid=up(q.bid), ask=up(q.ask))
    return replace(
        market, open=up(market.open), high=up(market.high), low=up(market.low),
        close=up(market.close), quotes=quotes,
    )  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    instruments=st.integers(1, 3),
    gaps=st.booleans(),
    groups=st.lists(st.sampled_from(sorted(AGENTS)), min_size=1, max_size=2, unique=True),
    warn=st.sampled_from([1.0, 3.0, 10.0]),
    global_drawdown=st.booleans(),
    scar_pct=st.sampled_from([2.0, 5.0, 20.0]),
    ruin=st.sampled_from([0.5, 0.97]),
    kill=st.one_of(st.none(), st.integers(1, 239)),
    profile=st.sampled_from(["sim", "paper"]),
    schema=st.sampled_from(SCHEMAS),
    limits=st.sampled_from(LIMITS),
    rally=st.one_of(st.none(), st.tuples(st.integers(20, 220), st.sampled_from([3, 30, 190]))),
)
def test_quiet_rows_leave_what_one_by_one_leaves(
    seed, instruments, gaps, groups, warn, global_drawdown, scar_pct, ruin, kill, profile, schema,
    limits, rally,
) -> None:  # fmt: skip
    cfg = RunConfig(
        profile=profile,  # a backtest journals QuietRuns, a paper session rows
        agents=[AGENTS[g] for g in groups],
        risk={
            **limits,
            "ladder": {
                "warn_drawdown_pct": warn,
                "throttle_drawdown_pct": 2 * warn,
                "halt_drawdown_pct": 4 * warn,
                "global_drawdown": global_drawdown,
            },
        },
        scars={"drawdown_pct": scar_pct, "trade_loss_pct": scar_pct, "ruin_fraction": ruin},
        report=False,
    )
    market = _market(seed, instruments, gaps, rally=rally)
    kills = [] if kill is None else [kill]
    fast = _run(cfg, market, True, kills, schema=schema)
    assert fast.quiet is not None  # these agents are all rules: the path applies
    assert fast._quiet_runs == (profile == "sim")
    _assert_same(fast, _run(cfg, market, False, kills, schema=schema))


def test_most_rows_of_one_sma_strategy_are_stepped_quietly(monkeypatch) -> None:
    """Not a vacuous equality: the path steps most rows of a single SMA strategy."""
    cfg = RunConfig(agents=[{**SMA, "fast": [10], "slow": [30]}], report=False)
    market = _market(3, 1, False, steps=2_000)
    stepped: list[int] = []
    original = Kernel.step

    def counting(self: Kernel, t: int) -> None:
        stepped.append(t)
        original(self, t)

    monkeypatch.setattr(Kernel, "step", counting)
    fast = _run(cfg, market, True, [])
    assert len(stepped) < market.n_steps // 4
    monkeypatch.setattr(Kernel, "step", original)
    _assert_same(fast, _run(cfg, market, False, []))


def test_crossovers_ride_in_quiet_runs_cut_at_multiples_of_256(monkeypatch) -> None:
    """Schema 9: an SMA crossover's row (its orders passed by the compiled risk check) and
    the next, which fills them, are stepped on the path, and their records ride in a run's
    record: a run starts at the crossover with its Decision, RiskChecks and Orders, and
    holds the Fills of the row after. Schema 10: a run goes on past crossovers, holding
    each one's records at its row. No run crosses a multiple of 256. Schema 8 runs hold
    no events, and the rows that fill are ordinary steps there."""
    cfg = RunConfig(agents=[{**SMA, "fast": [10], "slow": [30]}], report=False)
    market = _market(5, 1, False, steps=3_000)
    runs, steps, records = {}, {}, {}
    original = Kernel.step

    def counting(self: Kernel, t: int) -> None:
        steps[schema] += 1
        original(self, t)

    monkeypatch.setattr(Kernel, "step", counting)
    for schema in (FILL_RUN_SCHEMA - 1, FILL_RUN_SCHEMA, SPAN_RUN_SCHEMA):
        steps[schema] = 0
        kernel = _run(cfg, market, True, [], schema=schema)
        runs[schema] = [e for e in kernel.journal.inner.events if isinstance(e, QuietRun)]
        records[schema] = len(kernel.journal.inner.events)
        rows = kernel.journal.inner.rows()  # every record, the runs' expanded
        orders = sum(isinstance(e, Orders) for e in rows)
        assert orders > 40 and sum(isinstance(e, Fills) for e in rows) == orders
    assert not any(r.events for r in runs[FILL_RUN_SCHEMA - 1])
    assert steps[FILL_RUN_SCHEMA - 1] >= orders > 20 * steps[FILL_RUN_SCHEMA]  # fill rows
    assert steps[SPAN_RUN_SCHEMA] == steps[FILL_RUN_SCHEMA]  # the same rows, other records
    decided = [r for r in runs[FILL_RUN_SCHEMA] if any(isinstance(e, Decision) for e in r.events)]
    assert len(decided) > 0.8 * orders
    for r in decided:  # the crossover is the run's first row; its orders fill at the next
        kinds = [
            (type(e).__name__, e.step - r.step)
            for e in r.events
            if e.step > r.step or not isinstance(e, Fills)
        ]
        filled = [("Fills", 1)] if r.ts.shape[0] > 1 else []  # else the broker held them
        assert kinds == [("Decision", 0), ("RiskChecks", 0), ("Orders", 0), *filled]
    spanning = runs[SPAN_RUN_SCHEMA]
    assert sum(isinstance(e, Decision) for r in spanning for e in r.events) == sum(
        isinstance(e, Decision) for r in decided for e in r.events
    )
    assert max(sum(isinstance(e, Decision) for e in r.events) for r in spanning) > 3
    assert 3 * records[SPAN_RUN_SCHEMA] < records[FILL_RUN_SCHEMA]
    for r in spanning:  # each decided row: its records, then the next row's fills
        last = r.step + r.ts.shape[0] - 1
        kinds = [(type(e).__name__, e.step) for e in r.events]
        for i, (kind, step) in enumerate(kinds):
            if kind == "Decision":
                assert kinds[i + 1 : i + 3] == [("RiskChecks", step), ("Orders", step)]
                assert step == last or ("Fills", step + 1) in kinds
    for r in runs[FILL_RUN_SCHEMA] + spanning:
        last = r.step + r.ts.shape[0] - 1
        assert r.step // 256 == last // 256
    crossing = [
        r for r in runs[FILL_RUN_SCHEMA - 1] if r.step // 256 != (r.step + r.ts.shape[0] - 1) // 256
    ]
    assert crossing  # schema 8 cut runs elsewhere: what its replays keep doing


def test_a_run_without_records_leaves_the_same_state() -> None:
    """A gate's re-run discards records, so the kernel builds none and traces nothing: the
    quiet rows neither (the trace of both is the empty one), and the state is the same."""
    cfg = RunConfig(agents=[SMA, AGENTS["hold"]], report=False)
    market = _market(11, 2, True, steps=600)
    fast = _run(cfg, market, True, [], records=False)
    slow = _run(cfg, market, False, [], records=False)
    assert fast.trace.steps == slow.trace.steps == 0
    assert fast.journal.inner.next_seq == slow.journal.inner.next_seq
    np.testing.assert_array_equal(fast.recorder.equity, slow.recorder.equity)
    np.testing.assert_array_equal(fast.accounts.cash, slow.accounts.cash)
    np.testing.assert_array_equal(fast.life._mean, slow.life._mean)


def test_regime_changes_end_a_quiet_run() -> None:
    """A Decision journals the regime and a change is a record of its own: a row with a
    change is stepped the ordinary way."""
    cfg = RunConfig(
        agents=[SMA],
        regime={"hmm": {"enabled": True, "min_history": 60, "refit_every": 50, "window": 150}},
        report=False,
    )
    market = _market(5, 1, False, steps=400)
    fast, slow = _run(cfg, market, True, []), _run(cfg, market, False, [])
    changes = fast.journal.inner.of(RegimeChange)
    assert changes  # the test means something
    _assert_same(fast, slow)
    assert {d.regime for d in fast.journal.inner.of(Decision)} == {
        d.regime for d in slow.journal.inner.of(Decision)
    }


def test_live_operator_is_quiet_until_a_flag_file_is_polled(tmp_path) -> None:
    """No flag file: nothing a poll could find stops a quiet run (a replay cuts the same
    runs). A flag file: the run stops at the next poll, which journals the kill."""
    ids = SessionIds("r", "s")
    op = LiveOperator(ids, config_kill=False, run_dir=tmp_path, runs_root=None, every=64)
    assert op.quiet_until(1, 1000) == 1000
    (tmp_path / "KILL").write_text("stop\n")
    assert op.quiet_until(1, 1000) == 64
    assert op.quiet_until(64, 1000) == 64
    assert op.quiet_until(65, 100) == 100
    assert op.poll(64) is not None
    kill_at_start = LiveOperator(ids, config_kill=True, run_dir=tmp_path, runs_root=None)
    assert kill_at_start.quiet_until(5, 100) == 5


def test_replay_operator_is_quiet_until_its_next_input() -> None:
    kill = KillSwitch(run_id="r", session_id="s", step=40, reason="t", source="cli")
    op = ReplayOperator([kill])
    assert op.quiet_until(0, 100) == 40
    assert op.quiet_until(40, 100) == 40
    assert op.quiet_until(41, 100) == 100


@pytest.mark.parametrize(
    "agents",
    [
        [{"kind": "mean-reversion", "windows": [10]}],  # its decisions carry state
        [{"kind": "random-entry", "count": 2, "p_entry": 0.1, "p_exit": 0.1}],
        [{**SMA, "fast": [2, 3, 4], "slow": [5, 6, 7]}],  # 9 agents: numpy sums pairwise
    ],
)
def test_the_path_stays_off_where_it_cannot_know(agents) -> None:
    cfg = RunConfig(agents=agents, report=False)
    market = _market(1, 1, False, steps=60)
    assert _run(cfg, market, True, []).quiet is None


def test_a_backtest_journals_quiet_runs_and_replays_with_parity(tmp_path) -> None:
    cfg = RunConfig(agents=[SMA], data={"source": "sp500", "end": "2002-12-31"}, report=False)
    summary = execute_run(cfg, run_id="q", out_dir=tmp_path)
    kinds = Counter(r.kind for r in read_records(summary.run_dir / "wal"))
    steps = kinds["Decision"] + sum(
        r.data.ts.shape[0] for r in read_records(summary.run_dir / "wal", kinds=("QuietRun",))
    )
    assert kinds["QuietRun"] and kinds["Decision"] < steps // 2  # most rows are in runs
    assert steps == read_manifest(summary.run_dir).steps
    assert replay_run(summary.run_dir).parity


@pytest.mark.parametrize("schema", [7, 8])
def test_an_older_backtest_still_replays_as_recorded(tmp_path, schema) -> None:
    """Runs recorded before schema 8 wrote every row's records, schema 8's quiet runs held
    no fills: a replay writes them so again."""
    cfg = RunConfig(agents=[SMA], data={"source": "sp500", "end": "2002-12-31"}, report=False)
    summary = run_as(cfg, schema, "old", tmp_path)
    manifest = summary.run_dir / "manifest.json"  # as the code of that schema wrote it
    fields = json.loads(manifest.read_text())
    manifest.write_text(json.dumps(fields | {"schema_version": schema}))
    start = next(read_records(summary.run_dir / "wal", kinds=("SessionStart",))).data
    assert start.schema_version == schema
    runs = [r.data for r in read_records(summary.run_dir / "wal", kinds=("QuietRun",))]
    assert bool(runs) == (schema == 8) and not any(r.events for r in runs)
    assert replay_run(summary.run_dir).parity


SIGNED_ZEROS = """
import numpy as np
from scarline.agents.strategy import Strategy


class Wobbly(Strategy):
    '''Fractional exposures, -0.0 after 0.0 (a change to the tracker, not to the sizer) and
    NaN before the slow average exists: every float case of the quiet test.'''

    def signals(self, data):
        close = data["close"]
        fast = close.rolling(self.fast).mean()
        slow = close.rolling(self.slow).mean()
        on = (fast > slow).astype(float) * np.sign(close.diff()).fillna(1.0)
        return (on * 0.5).where(slow.notna())
"""


@pytest.mark.parametrize("allow_short", [False, True])
def test_vectorized_user_strategies_take_the_path_bit_for_bit(tmp_path, allow_short) -> None:
    path = tmp_path / "wobbly.py"
    path.write_text(SIGNED_ZEROS, encoding="utf-8")
    group = {"kind": "python", "strategy": "wobbly:Wobbly", "path": str(path)}
    cfg = RunConfig(
        agents=[{**group, "params": {"fast": 3, "slow": 8}, "allow_short": allow_short}],
        report=False,
    )
    market = _market(4, 2, True, steps=400)
    fast = _run(cfg, market, True, [])
    assert fast.quiet is not None and fast._quiet_runs
    decisions = fast.population.decide_span(0, market.n_steps)
    assert decisions is not None and decisions.dtype == np.float32
    # the -0.0 case is exercised where shorts keep it (long-only, np.maximum makes it 0.0)
    assert np.signbit(decisions[decisions == 0]).any() == allow_short
    runs = [e for e in fast.journal.inner.events if type(e).__name__ == "QuietRun"]
    assert runs  # and rows did go through the path
    _assert_same(fast, _run(cfg, market, False, []))


def test_the_journal_does_not_depend_on_the_risk_jit_switch(monkeypatch) -> None:
    """SCARLINE_RISK_JIT=0 sends an ordinary step's checks to the Python reference; the
    quiet path checks crossovers compiled either way, so a backtest's records (which rows
    its runs hold) are the same with the switch off."""
    cfg = RunConfig(agents=[SMA], risk={"max_position_lots": 4000}, report=False)
    market = _market(9, 2, True, steps=600)
    heads = []
    for on in (True, False):
        monkeypatch.setattr(check_compiled, "ENABLED", on)
        kernel = _run(cfg, market, True, [])
        heads.append(kernel.journal.inner.head)
        assert any(isinstance(e, QuietRun) and e.events for e in kernel.journal.inner.events)
    assert heads[0] == heads[1]


SHORT_THEN_COVER = """
import numpy as np
from scarline.agents.strategy import Strategy


class ShortThenCover(Strategy):
    '''Short the first instrument and long the second until bar ``exit``, then flat in the
    first: the cover is a crossover's only order.'''

    def signals(self, data):
        out = data["close"] * 0.0
        before = np.arange(len(out)) < self.exit
        out.iloc[:, 0] = np.where(before, -1.0, 0.0)
        out.iloc[:, 1] = 1.0
        return out
"""


@pytest.mark.parametrize("schema", [COVER_UNCAPPED_SCHEMA - 1, COVER_UNCAPPED_SCHEMA])
def test_a_cover_into_debit_takes_the_path_bit_for_bit(tmp_path, schema) -> None:
    """Both instruments rally (the long one most, so the agent lives and takes no scar);
    the short's cover then costs more than the cash. Schema 15 fills it in full on the
    quiet path, the cash going negative; schema 14 cuts it, the ordinary way. Either way
    the two paths leave the same records and state."""
    path = tmp_path / "cover.py"
    path.write_text(SHORT_THEN_COVER, encoding="utf-8")
    cfg = RunConfig(
        agents=[{"kind": "python", "strategy": "cover:ShortThenCover", "path": str(path),
                 "params": {"exit": 150}, "allow_short": True}],
        scars={"trade_loss_pct": 100.0},
        report=False,
    )  # fmt: skip
    # from bar 100 on, the short's prices ×20 and the long's ×200
    market = _rallied(_market(6, 2, False, steps=200), 100, np.array([20, 200]))
    fast = _run(cfg, market, True, [], schema=schema)
    slow = _run(cfg, market, False, [], schema=schema)
    _assert_same(fast, slow)
    assert fast.life.alive.all()
    covered = schema >= COVER_UNCAPPED_SCHEMA
    assert (fast.accounts.position[0, 0] == 0) == covered
    assert (fast.accounts.cash[0] < 0) == covered
    cuts = [r for r in fast.journal.inner.of(Rejects) if r.step == 151]
    assert bool(cuts) != covered
    in_runs = [
        e for r in fast.journal.inner.events if isinstance(r, QuietRun)
        for e in r.events if isinstance(e, Fills) and e.step == 151
    ]  # fmt: skip
    assert bool(in_runs) == covered  # schema 15: the quiet path filled it
