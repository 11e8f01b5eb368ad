import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from scarline.evolution.scars import CAUSES, ScarConfig, ScarTracker

CASH = 1_000_000


def test_drawdown_scar_is_permanent_and_raises_the_floor() -> None:
    tracker = ScarTracker(2, ScarConfig(drawdown_pct=10.0, floor_step=0.1), CASH)
    no_trades = np.zeros(2, np.int64)
    ev = tracker.update(0, np.array([CASH, 890_000]), no_trades)
    assert ev.scar_agent.tolist() == [1] and CAUSES[ev.scar_cause[0]] == "drawdown"
    assert tracker.floor.tolist() == [0.0, 0.1]
    # recovering does not heal it; a further 10 % fall from the new peak scars again
    tracker.update(1, np.array([CASH, CASH]), no_trades)
    assert tracker.scars.tolist() == [0, 1] and tracker.floor[1] == 0.1
    ev = tracker.update(2, np.array([CASH, 890_000]), no_trades)
    assert ev.scar_agent.tolist() == [1] and tracker.scars[1] == 2


def test_one_losing_trade_scars() -> None:
    tracker = ScarTracker(1, ScarConfig(trade_loss_pct=5.0, drawdown_pct=50.0), CASH)
    ev = tracker.update(0, np.array([940_000]), np.array([-60_000]))
    assert CAUSES[ev.scar_cause[0]] == "trade_loss" and ev.scar_value[0] == 6.0


def test_ruin_kills_once_and_trust_goes_to_zero() -> None:
    tracker = ScarTracker(2, ScarConfig(ruin_fraction=0.5, drawdown_pct=90.0), CASH)
    ev = tracker.update(3, np.array([500_000, CASH]), np.zeros(2, np.int64))
    assert ev.death_agent.tolist() == [0] and tracker.death_step.tolist() == [3, -1]
    assert tracker.trust[0] == 0.0 and 0 < tracker.trust[1] <= 1
    ev = tracker.update(4, np.array([400_000, CASH]), np.zeros(2, np.int64))
    assert ev.death_agent.size == 0  # dies once


@given(st.lists(st.integers(1, 3 * CASH), min_size=1, max_size=60))
def test_trust_in_unit_interval_and_scars_never_decrease(path: list[int]) -> None:
    tracker = ScarTracker(1, ScarConfig(), CASH)
    scars = 0
    for t, equity in enumerate(path):
        tracker.update(t, np.array([equity]), np.zeros(1, np.int64))
        assert 0.0 <= tracker.trust[0] <= 1.0
        assert tracker.scars[0] >= scars
        scars = int(tracker.scars[0])
        assert tracker.floor[0] <= ScarConfig().floor_max


def test_scars_lower_trust() -> None:
    a = ScarTracker(2, ScarConfig(drawdown_pct=5.0), CASH)
    a.update(0, np.array([CASH, 940_000]), np.zeros(2, np.int64))
    a.update(1, np.array([CASH, CASH]), np.zeros(2, np.int64))
    assert a.trust[1] < a.trust[0]


class _Reference:
    """The tracker's arithmetic written plainly, every array recomputed every step (what
    :meth:`ScarTracker.update` did before its no-event fast path): the tracker must match it
    bit for bit, because scars, deaths and trust are journaled."""

    def __init__(self, n: int, cfg: ScarConfig, cash: int) -> None:
        self.cfg, self.alive = cfg, np.ones(n, bool)
        self.scars = np.zeros(n, np.int64)
        self.death_step = np.full(n, -1, np.int64)
        self.trust = np.full(n, 0.5)
        self.ruin = np.full(n, cfg.ruin_fraction * cash)
        self.peak = np.full(n, cash, np.int64)
        self.last_equity = np.full(n, cash, np.int64)
        self.last_realized = np.zeros(n, np.int64)
        self.mean, self.var = np.zeros(n), np.zeros(n)
        self.floor = np.zeros(n)

    def reborn(self, rows: np.ndarray, equity: np.ndarray) -> None:
        self.scars[rows], self.floor[rows], self.alive[rows] = 0, 0.0, True
        self.death_step[rows], self.trust[rows] = -1, 0.5
        self.peak[rows] = equity[rows]
        self.ruin[rows] = self.cfg.ruin_fraction * equity[rows]
        self.mean[rows], self.var[rows] = 0.0, 0.0

    def update(
        self, step: int, equity: np.ndarray, realized: np.ndarray, sens: np.ndarray
    ) -> tuple:
        cfg, alive, prev = self.cfg, self.alive, self.last_equity
        ok = prev > 0
        ret = np.zeros(len(prev))
        np.divide((equity - prev).astype(np.float64), prev, out=ret, where=ok)
        a = 1.0 - 0.5 ** (1.0 / cfg.trust_halflife)
        self.mean = (1 - a) * self.mean + a * ret
        self.var = (1 - a) * self.var + a * (ret - self.mean) ** 2
        np.maximum(self.peak, equity, out=self.peak)
        pos = self.peak > 0
        fall = np.full(len(prev), np.nan)
        np.divide(self.peak - equity, self.peak, out=fall, where=pos)
        np.maximum(fall, 0.0, out=fall, where=pos)
        drawdown = np.where(pos, 100.0 * fall, np.where(equity < self.peak, 100.0, 0.0))
        trade_loss = 100.0 * -(realized - self.last_realized) / np.maximum(prev, 1)
        by_dd = alive & (drawdown * sens >= cfg.drawdown_pct)
        by_trade = alive & ~by_dd & (trade_loss * sens >= cfg.trade_loss_pct)
        agents = np.flatnonzero(by_dd | by_trade)
        cause = np.where(by_dd[agents], 0, 1).astype(np.int8)
        value = np.where(by_dd[agents], drawdown[agents], trade_loss[agents])
        self.scars[agents] += 1
        self.floor = np.minimum(cfg.floor_max, cfg.floor_step * self.scars)
        self.peak[agents] = equity[agents]
        dying = alive & (equity <= self.ruin)
        dead = np.flatnonzero(dying)
        self.alive = alive & ~dying
        self.death_step[dead] = step
        score = self.mean / np.sqrt(self.var + 1e-12)
        trust = cfg.scar_decay**self.scars / (1.0 + np.exp(-cfg.trust_scale * score))
        self.trust = np.where(self.alive, trust, 0.0)
        self.last_equity, self.last_realized = equity.copy(), realized.copy()
        return agents, cause, value, dead, equity[dead], trust[dead]


def _bits(a: np.ndarray) -> tuple[str, tuple[int, ...], bytes]:
    return a.dtype.str, a.shape, np.ascontiguousarray(a).tobytes()


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 6), steps=st.integers(1, 80))
def test_the_fast_path_is_the_plain_arithmetic_bit_for_bit(seed: int, n: int, steps: int) -> None:
    """Random walks with crashes, closed trades, evolved sensitivities and rebirths: every
    step's events and every agent's scars, floor, trust and life equal the plain formulas."""
    rng = np.random.default_rng(seed)
    cfg = ScarConfig(drawdown_pct=8.0, trade_loss_pct=2.0, ruin_fraction=0.6, floor_step=0.1)
    tracker, ref = ScarTracker(n, cfg, CASH), _Reference(n, cfg, CASH)
    equity = np.full(n, CASH, np.int64)
    realized = np.zeros(n, np.int64)
    for t in range(steps):
        equity = np.maximum(equity + rng.integers(-60_000, 50_001, n), 0)
        if rng.random() < 0.3:  # some agents close a trade
            realized = realized + rng.integers(-50_000, 20_001, n) * (rng.random(n) < 0.5)
        tracker.sensitivity[:] = rng.uniform(0.5, 2.0, n) if rng.random() < 0.1 else 1.0
        events = tracker.update(t, equity, realized)
        expect = ref.update(t, equity, realized, tracker.sensitivity)
        got = (
            events.scar_agent,
            events.scar_cause,
            events.scar_value,
            events.death_agent,
            events.death_equity,
            events.death_trust,
        )
        assert [_bits(g) for g in got] == [_bits(e) for e in expect]
        for name in ("scars", "floor", "trust", "alive", "death_step"):
            assert _bits(getattr(tracker, name)) == _bits(getattr(ref, name)), name
        if rng.random() < 0.1:  # newborns take some slots
            rows = np.flatnonzero(rng.random(n) < 0.5)
            equity[rows] = CASH
            tracker.reborn(rows, equity)
            ref.reborn(rows, equity)
            assert _bits(tracker.trust) == _bits(ref.trust)  # computed on read, after a birth


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 300), steps=st.integers(1, 30))
def test_the_trust_of_some_rows_is_their_rows_of_everyones(seed: int, n: int, steps: int) -> None:
    """``trust_at(rows)``, computed for the rows alone before anyone reads ``trust``, is
    ``trust[rows]`` bit for bit: the elementwise arithmetic does not depend on the others
    (any length, so vector loops' tails too; scarred and dead rows included)."""
    rng = np.random.default_rng(seed)
    cfg = ScarConfig(drawdown_pct=8.0, trade_loss_pct=2.0, ruin_fraction=0.6)
    tracker = ScarTracker(n, cfg, CASH)
    equity = np.full(n, CASH, np.int64)
    for t in range(steps):
        equity = np.maximum(equity + rng.integers(-60_000, 50_001, n), 0)
        tracker.update(t, equity, np.zeros(n, np.int64))
        rows = np.flatnonzero(rng.random(n) < rng.random())
        some = tracker.trust_at(rows)  # before trust is read: computed for these rows only
        assert _bits(some) == _bits(tracker.trust[rows])
        assert _bits(tracker.trust_at(rows)) == _bits(some)  # and after: its rows
