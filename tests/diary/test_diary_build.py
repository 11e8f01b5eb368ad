"""The diary builder on a hand-written WAL: every column of known rows, the ex-post outcome,
the attribution coverage, deterministic bytes, and clear errors."""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from scarline.config import RunConfig, dump_toml
from scarline.diary.attribution import attribution_line, coverage_of, read_coverage
from scarline.diary.builder import diary_table
from scarline.diary.schema import SCHEMA, DiaryError, MissingDiary
from scarline.diary.writer import build_diary
from scarline.events import (
    RANDOM,
    RULE,
    Array,
    Bar,
    Decision,
    Fills,
    RiskChecks,
    SessionStart,
)
from scarline.instrument import InstrumentSpec
from scarline.journal import WalWriter
from scarline.risk.codes import OUTCOMES, RULES
from scarline.rundir import RunDir

RUN, SESSION = "synthetic", "s0"
CONFIG = RunConfig(
    agents=[
        {"kind": "random-entry", "count": 2},  # rows 0, 1
        {"kind": "sma-crossover", "fast": [2], "slow": [3]},  # row 2
    ]
)
PROFILES = list(CONFIG.regime.router.profiles)  # normal, trend, cautious, defensive
CLOSES = {  # ticks per step; None: no bar (BBB at step 3)
    0: [100, 110, 121, 133, 146, 161, 177, 195],
    1: [200, 200, 200, None, 200, 250, 240, 230],
}
TICKS = ("0.01", "0.5")
T0 = 1_700_000_000_000_000_000


def _a(values: list[int] | list[float], dtype: str) -> Array:
    return Array.of(np.array(values, dtype=dtype))


def _decision(t: int, agents: list[int], inst: list[int], target: list[int], **kw: object):
    return Decision(
        run_id=RUN,
        session_id=SESSION,
        decision_id=f"d{t}",
        step=t,
        policy="population",
        agents=_a(agents, "<i8"),
        instrument=_a(inst, "<i8"),
        actions=_a([float(np.sign(q)) for q in target], "<f4"),
        target_qty=_a(target, "<i8"),
        **kw,
    )


def _risk(t: int, ids: list[int], agent: list[int], inst: list[int], verdicts, req, appr):
    return RiskChecks(
        run_id=RUN,
        session_id=SESSION,
        decision_id=f"d{t}",
        step=t,
        order_id=_a(ids, "<i8"),
        agent=_a(agent, "<i8"),
        instrument=_a(inst, "<i8"),
        outcome=_a([OUTCOMES.index(o) for o, _ in verdicts], "|i1"),
        rule=_a([RULES.index(r) for _, r in verdicts], "<i2"),
        value=_a([0.0] * len(ids), "<f8"),
        limit=_a([0.0] * len(ids), "<f8"),
        requested=_a(req, "<i8"),
        approved=_a(appr, "<i8"),
        outcomes=list(OUTCOMES),
        rules=list(RULES),
    )


def _fills(t: int, ids: list[int], agent: list[int], inst: list[int], qty, price) -> Fills:
    k = len(ids)
    return Fills(
        run_id=RUN,
        session_id=SESSION,
        step=t,
        order_id=_a(ids, "<i8"),
        agent=_a(agent, "<i8"),
        instrument=_a(inst, "<i8"),
        side=_a([1] * k, "|i1"),
        qty=_a(qty, "<i8"),
        price=_a(price, "<i8"),
        ref_price=_a(price, "<i8"),
        fee=_a([0] * k, "<i8"),
        slippage=_a([0] * k, "<i8"),
        maker=_a([False] * k, "|b1"),
    )


PASS = ("pass", "none")
DECISIONS = {
    0: _decision(
        0,
        [0, 2],
        [0, 1],
        [10, -5],
        reasons=_a([RANDOM, RULE], "|u1"),
        regime=0,
        profiles=_a([0, 2], "|i1"),
        features_hash="f0",
    ),
    1: _decision(1, [0], [0], [0], reasons=_a([RANDOM], "|u1"), regime=2),  # no features hash
    2: _decision(2, [1], [1], [7], profiles=_a([1, 3], "|i1"), features_hash="f2"),  # no reason
    3: _decision(3, [2], [0], [4], reasons=_a([RULE], "|u1"), regime=1, features_hash="f3"),
    4: _decision(
        4, [2], [1], [3], reasons=_a([RULE], "|u1"), profiles=_a([0, 0], "|i1"), features_hash="f4"
    ),
}
RISK = {
    0: _risk(0, [0, 1], [0, 2], [0, 1], [PASS, PASS], [10, 5], [10, 5]),
    1: _risk(1, [2], [0], [0], [PASS], [10], [10]),
    2: _risk(2, [3], [1], [1], [("reject", "max_position")], [7], [0]),
    # a target crossing zero: reduce 5, then open 3 (throttled to 2)
    4: _risk(4, [4, 5], [2, 2], [1, 1], [PASS, ("throttle", "ladder_throttle")], [5, 3], [5, 2]),
    5: _risk(5, [6], [0], [1], [PASS], [1], [1]),  # an intent with no decision cell
}
FILLS = {
    1: _fills(1, [0, 0, 1], [0, 0, 2], [0, 0, 1], [4, 6, 5], [110, 111, 200]),
    2: _fills(2, [2], [0], [0], [10], [121]),
    5: _fills(5, [4, 6], [2, 0], [1, 1], [5, 1], [250, 250]),
    6: _fills(6, [5], [2], [1], [2], [240]),
}


def write_run(run_dir: Path) -> dict[int, tuple[int, int]]:
    """The synthetic run directory; ``{step: (Decision seq, ts)}``."""
    run_dir.mkdir(parents=True)
    (run_dir / "config.toml").write_text(dump_toml(CONFIG), encoding="utf-8")
    spec = [
        InstrumentSpec(symbol=s, tick_size=t) for s, t in zip(("AAA", "BBB"), TICKS, strict=True)
    ]
    where = {}
    with WalWriter(run_dir / "wal", RUN, fsync="never") as wal:
        wal.append(
            SessionStart(
                run_id=RUN, session_id=SESSION, profile="sim", universe="x", instruments=spec
            ),
            T0,
        )
        for t in range(8):
            ts = T0 + t * 86_400 * 10**9
            for m, closes in CLOSES.items():
                c = closes[t]
                if c is not None:
                    ohlc = {"open": c, "high": c, "low": c, "close": c}
                    wal.append(Bar(run_id=RUN, session_id=SESSION, instrument=m, **ohlc), ts)
            if t in FILLS:
                wal.append(FILLS[t], ts)
            decision = DECISIONS.get(t) or _decision(t, [], [], [], regime=1, features_hash="fx")
            where[t] = (wal.append(decision, ts), ts)
            if t in RISK:
                wal.append(RISK[t], ts)
    return where


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[int, tuple[int, int]]]:
    run_dir = tmp_path_factory.mktemp("diary") / "run"
    return run_dir, write_run(run_dir)


def _rows(run_dir: Path, horizon: int = 5) -> list[dict[str, object]]:
    return diary_table(run_dir, horizon=horizon).to_pylist()


def _group_hash(i: int) -> str:
    canonical = json.dumps(
        CONFIG.agents[i].model_dump(mode="json"), sort_keys=True, separators=(",", ":")
    )
    return hashlib.blake2b(canonical.encode(), digest_size=16).hexdigest()


def test_one_row_per_decision_cell_with_attribution(run) -> None:
    run_dir, where = run
    rows = _rows(run_dir)
    cells = [(r["step"], r["agent"], r["instrument"]) for r in rows]
    assert cells == [
        (0, 0, "AAA"),
        (0, 2, "BBB"),
        (1, 0, "AAA"),
        (2, 1, "BBB"),
        (3, 2, "AAA"),
        (4, 2, "BBB"),
    ]
    first = rows[0]
    assert first["wal_seq"] == where[0][0] and first["decision_id"] == "d0"
    assert first["ts"].timestamp() == pytest.approx(where[0][1] / 1e9)
    assert (first["group"], first["kind"]) == ("agents[0]", "random-entry")
    assert (rows[1]["group"], rows[1]["kind"]) == ("agents[1]", "sma-crossover")
    assert [r["policy_hash"] for r in rows[:2]] == [_group_hash(0), _group_hash(1)]
    assert {r["risk_template"] for r in rows} == {"config"}
    assert {r["lineage_id"] for r in rows} == {None}
    assert [r["regime"] for r in rows] == ["calm", "calm", "chaos", None, "trend", None]
    assert [r["profile"] for r in rows] == [
        PROFILES[0],
        PROFILES[2],
        None,
        PROFILES[3],
        None,
        PROFILES[0],
    ]
    assert [r["features_hash"] for r in rows] == ["f0", "f0", None, "f2", "f3", "f4"]
    assert [r["reason"] for r in rows] == ["random", "rule", "random", "unknown", "rule", "rule"]
    assert [(r["prev_target_qty"], r["target_qty"]) for r in rows] == [
        (0, 10),
        (0, -5),
        (10, 0),
        (0, 7),
        (0, 4),
        (-5, 3),
    ]
    assert [r["action"] for r in rows] == [1.0, -1.0, 0.0, 1.0, 1.0, 1.0]


def test_orders_risk_verdicts_and_fills_per_cell(run) -> None:
    rows = _rows(run[0])
    names = ("order_id", "orders", "risk_outcome", "risk_rule")
    names += ("requested_qty", "approved_qty", "filled_qty")
    got = [tuple(r[n] for n in names) for r in rows]
    assert got == [
        (0, 1, "pass", None, 10, 10, 10),
        (1, 1, "pass", None, 5, 5, 5),
        (2, 1, "pass", None, 10, 10, 10),
        (3, 1, "reject", "max_position", 7, 0, 0),
        (None, 0, "no-order", None, 0, 0, 0),
        (4, 2, "throttle", "ladder_throttle", 8, 7, 7),  # both intents of a crossing target
    ]
    prices = [r["avg_fill_price"] for r in rows]
    expected = [1.106, 100.0, 1.21, None, None, (5 * 250 + 2 * 240) / 7 * 0.5]
    assert prices[3] is None and prices[4] is None
    for p, e in zip(prices, expected, strict=True):
        if e is not None:
            assert p == pytest.approx(e, rel=1e-12)


def test_outcome_is_the_signed_log_return_h_bars_later(run) -> None:
    rows = _rows(run[0])
    a, b = CLOSES[0], CLOSES[1]
    assert {r["outcome_horizon"] for r in rows} == {5}
    out = [r["outcome_return"] for r in rows]
    assert out[0] == pytest.approx(math.log(a[5] / a[0]))  # long entry
    assert out[1] == pytest.approx(-math.log(b[5] / b[0]))  # short entry
    assert out[2] == pytest.approx(-math.log(a[6] / a[1]))  # selling out of the long
    assert out[3] == pytest.approx(math.log(b[7] / b[2]))
    assert out[4] is None and out[5] is None  # step + 5 is past the run's last step (7)
    short = [r["outcome_return"] for r in _rows(run[0], horizon=1)]
    assert short[3] == 0.0  # BBB has no bar at step 3: its last close (200) carries over
    assert short[4] == pytest.approx(math.log(a[4] / a[3]))
    assert short[5] == pytest.approx(math.log(b[5] / b[4]))


def test_coverage_counts_order_rows_with_market_features_and_reason(run, tmp_path) -> None:
    run_dir = tmp_path / "run"
    shutil.copytree(run[0], run_dir)
    stats = build_diary(run_dir)
    # order rows: 5; unattributed: step 1 (no features hash), step 2 (reason unknown)
    assert (stats.rows, stats.orders) == (6, 5)
    assert stats.coverage == pytest.approx(3 / 5)
    assert stats.seconds > 0
    assert read_coverage(run_dir / RunDir.DIARY) == (5, pytest.approx(0.6))
    assert stats.line() == (
        "Attribution coverage: 60.0 % of 5 orders have regime + features + reason (target ≥ 95 %)"
    )
    assert attribution_line(0, None).endswith("no orders to attribute (target ≥ 95 %)")
    table = pq.read_table(run_dir / RunDir.DIARY)
    assert table.schema.equals(SCHEMA, check_metadata=True)


def test_coverage_is_not_measured_when_the_run_records_no_market(run) -> None:
    table = diary_table(run[0])
    blank = pa.nulls(table.num_rows, table.schema.field("regime").type)
    for name in ("regime", "profile"):  # as in a run with regimes and the router off
        table = table.set_column(table.schema.get_field_index(name), name, blank)
    assert coverage_of(table) == (5, None)
    assert attribution_line(5, None) == (
        "Attribution coverage: not measured for 5 orders — the run records no regime or "
        "router profile (regimes and router off)"
    )


def test_trust_comes_from_the_decision_record_and_is_null_before_it(run, tmp_path) -> None:
    assert {r["trust"] for r in _rows(run[0])} == {None}  # records without trust
    run_dir = tmp_path / "trusted"
    run_dir.mkdir()
    (run_dir / "config.toml").write_text(dump_toml(CONFIG), encoding="utf-8")
    with WalWriter(run_dir / "wal", RUN, fsync="never") as wal:
        trust = _a([0.5, 0.125], "<f8")
        wal.append(_decision(0, [0, 2], [0, 1], [1, -2], trust=trust), T0)
    assert [r["trust"] for r in _rows(run_dir)] == [0.5, 0.125]


def test_same_run_gives_the_same_bytes(run, tmp_path) -> None:
    digests = []
    for name in ("a", "b"):
        run_dir = tmp_path / name
        shutil.copytree(run[0], run_dir)
        build_diary(run_dir)
        build_diary(run_dir)  # a rebuild over an existing diary
        digests.append(hashlib.sha256((run_dir / RunDir.DIARY).read_bytes()).hexdigest())
    assert digests[0] == digests[1]
    meta = pq.read_metadata(tmp_path / "a" / RunDir.DIARY)
    assert b"scarline.schema" in meta.metadata and meta.num_rows == 6


def test_dense_decisions_are_reduced_to_their_changed_cells(tmp_path) -> None:
    run_dir = tmp_path / "dense"
    run_dir.mkdir()
    (run_dir / "config.toml").write_text(dump_toml(CONFIG), encoding="utf-8")
    targets = [np.array([[1, 0], [0, 0], [0, 2]]), np.array([[1, 0], [0, 0], [0, 3]])]
    with WalWriter(run_dir / "wal", RUN, fsync="never") as wal:
        for t, target in enumerate(targets):
            dense = Decision(
                run_id=RUN,
                session_id=SESSION,
                decision_id=f"d{t}",
                step=t,
                policy="population",
                agents=_a([0, 1, 2], "<i8"),
                actions=Array.of(np.sign(target).astype(np.int8)),
                target_qty=Array.of(target.astype(np.int64)),
                reasons=_a([RANDOM, RANDOM, RULE], "|u1"),  # one per agent
            )
            wal.append(dense, T0 + t)
    rows = _rows(run_dir)
    got = [(r["step"], r["agent"], r["instrument"], r["target_qty"], r["reason"]) for r in rows]
    # no SessionStart: instruments are named by their index
    assert got == [(0, 0, "0", 1, "random"), (0, 2, "1", 2, "rule"), (1, 2, "1", 3, "rule")]
    assert [r["regime"] for r in rows] == [None] * 3  # a pre-regime WAL: null, not an error


def test_a_run_without_decisions_has_an_empty_diary(tmp_path) -> None:
    run_dir = tmp_path / "empty-run"
    run_dir.mkdir()
    (run_dir / "config.toml").write_text(dump_toml(CONFIG), encoding="utf-8")
    with WalWriter(run_dir / "wal", RUN, fsync="never") as wal:
        wal.append(
            Bar(run_id=RUN, session_id=SESSION, instrument=0, open=1, high=1, low=1, close=1), T0
        )
    stats = build_diary(run_dir)
    assert (stats.rows, stats.orders, stats.coverage) == (0, 0, None)
    assert pq.read_table(run_dir / RunDir.DIARY).schema.equals(SCHEMA)


def test_errors_name_what_is_missing(tmp_path) -> None:
    with pytest.raises(MissingDiary, match="no such run directory"):
        build_diary(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(MissingDiary, match="no wal/"):
        build_diary(tmp_path / "empty")
    (tmp_path / "empty" / "wal").mkdir()
    with pytest.raises(MissingDiary, match=r"config\.toml"):
        build_diary(tmp_path / "empty")
    with pytest.raises(DiaryError, match="horizon"):
        diary_table(tmp_path / "empty", horizon=0)
    with pytest.raises(MissingDiary, match="--rebuild"):
        read_coverage(tmp_path / "empty" / RunDir.DIARY)
    assert MissingDiary.exit_code == 2
