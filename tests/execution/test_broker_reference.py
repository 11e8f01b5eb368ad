"""The vectorized broker against a plain loop over orders, and determinism."""

import math
from fractions import Fraction

import numpy as np
from broker_fixtures import UV, bar, broker, flat
from hypothesis import given, settings
from hypothesis import strategies as st

from scarline.execution.types import CASH_SCALE, REJECT_REASONS, BarSlice, FillBatch, OrderBatch

FEE_BPS, FEE_MIN, FIXED_BPS, VOL_COEF = 7.0, 0.5, 3.0, 0.8
RATE, TOUCH, AHEAD = 0.3, 0.2, 0.5


def reference(
    o: OrderBatch,
    b: BarSlice,
    cash: list[int],
    submit_volume: list[int],
    position: list[list[int]],
    cover_uncapped: bool,
) -> tuple[list, list]:
    """One bar, orders submitted on the previous bar, written as a loop over orders; with
    ``cover_uncapped`` the lots of a buy that cover the agent's short (``position`` at the
    bar's start) are paid first, whatever the cash, and only the rest is capped."""
    k = len(o)
    fillable = [0] * k
    for i in range(k):
        m, side, qty = int(o.instrument[i]), int(o.side[i]), int(o.qty[i])
        if not b.valid[m]:
            continue
        if o.order_type[i] == 0:
            fillable[i] = qty
            continue
        lim, lo, hi = int(o.limit_price[i]), int(b.low[m]), int(b.high[m])
        queue = math.floor(AHEAD * submit_volume[m] * (1 + 1e-12))
        touch_lots = math.floor(TOUCH * int(b.volume[m]) * (1 + 1e-12))
        through = lo < lim if side > 0 else hi > lim
        touch = lo == lim if side > 0 else hi == lim
        fillable[i] = qty if through else min(max(touch_lots - queue, 0), qty) if touch else 0
    alloc = list(fillable)
    for m in range(len(b.open)):
        for side in (1, -1):
            rows = [i for i in range(k) if o.instrument[i] == m and o.side[i] == side]
            cap = math.floor(RATE * int(b.volume[m]) * (1 + 1e-12)) if b.valid[m] else 0
            total = sum(fillable[i] for i in rows)
            if total <= cap:
                continue
            share = {i: Fraction(fillable[i] * cap, total) for i in rows}
            for i in rows:
                alloc[i] = math.floor(share[i])
            left = cap - sum(alloc[i] for i in rows)
            for i in sorted(rows, key=lambda i: (-(share[i] - math.floor(share[i])), i))[:left]:
                alloc[i] += 1

    def quote(i: int, q: int) -> tuple[int, int, int]:
        m, side = int(o.instrument[i]), int(o.side[i])
        open_ = int(b.open[m])
        if o.order_type[i] == 1:
            lim = int(o.limit_price[i])
            p = min(open_, lim) if side > 0 else max(open_, lim)
        else:
            vol = int(b.volume[m])
            slip = FIXED_BPS / 1e4 + (
                VOL_COEF * float(b.volatility[m]) * math.sqrt(q / vol) if vol > 0 else 0.0
            )
            p = math.ceil(open_ * (1 + slip)) if side > 0 else math.floor(open_ * (1 - slip))
        notional = q * p * UV
        fee = max(round(FEE_MIN * CASH_SCALE), int(np.rint(notional * FEE_BPS / 1e4)))
        return p, notional, fee if q > 0 else 0

    avail = list(cash)
    filled = list(alloc)
    for i in range(k):
        if o.side[i] < 0 and alloc[i] > 0:
            _, n, f = quote(i, alloc[i])
            avail[int(o.agent[i])] += n - f
    short = [[max(-p, 0) if cover_uncapped else 0 for p in row] for row in position]
    cover = [0] * k
    for i in range(k):  # order_id order: each buy covers what is left of its cell's short
        a, m = int(o.agent[i]), int(o.instrument[i])
        if o.side[i] > 0 and alloc[i] > 0:
            cover[i] = min(alloc[i], short[a][m])
            short[a][m] -= cover[i]
            avail[a] -= sum(quote(i, cover[i])[1:])
    for a in range(len(cash)):
        crossed = False
        for i in range(k):
            if o.agent[i] != a or o.side[i] < 0 or alloc[i] == cover[i]:
                continue
            paid = sum(quote(i, cover[i])[1:])
            if crossed:
                filled[i] = cover[i]
                continue
            q = alloc[i]
            while q > cover[i] and sum(quote(i, q)[1:]) - paid > avail[a]:
                q -= 1
            crossed = q < alloc[i]
            filled[i] = q
            avail[a] -= sum(quote(i, q)[1:]) - paid
    fills, rejects = [], []
    for i in range(k):
        oid, market, qty = int(o.order_id[i]), o.order_type[i] == 0, int(o.qty[i])
        if filled[i]:
            p, _, f = quote(i, filled[i])
            fills.append((oid, filled[i], p, f))
        if market and not b.valid[int(o.instrument[i])]:
            rejects.append((oid, qty, "no_bar"))
        if filled[i] < alloc[i]:
            rejects.append((oid, (alloc[i] if market else qty) - filled[i], "insufficient_cash"))
        if market and fillable[i] > alloc[i]:
            rejects.append((oid, fillable[i] - alloc[i], "no_liquidity"))
    return fills, sorted(rejects)


@st.composite
def scenarios(draw: st.DrawFn) -> dict:
    n, m, k = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 14))
    ints = lambda lo, hi, size: draw(st.lists(st.integers(lo, hi), min_size=size, max_size=size))  # noqa: E731
    is_limit = ints(0, 1, k)
    side = [1 if s else -1 for s in ints(0, 1, k)]
    return {
        "n": n,
        "m": m,
        "agent": ints(0, n - 1, k),
        "instrument": ints(0, m - 1, k),
        "side": side,
        "qty": ints(1, 60, k),
        "limit": [
            lim if il else 0 for lim, il in zip(ints(9_900, 10_100, k), is_limit, strict=True)
        ],
        "cash": [c * CASH_SCALE for c in ints(-2_000, 20_000, n)],
        "position": [ints(-80, 20, m) for _ in range(n)],  # shorts to cover, flip or not
        "cover": draw(st.booleans()),
        "open": ints(9_950, 10_050, m),
        "volume": ints(0, 300, m),
        "submit_volume": ints(0, 300, m),
        "valid": [bool(v) for v in ints(0, 4, m)],
        "low_off": ints(0, 100, m),
        "high_off": ints(0, 100, m),
        "sigma": draw(st.lists(st.floats(0, 0.05), min_size=m, max_size=m)),
    }


def run_vectorized(s: dict) -> tuple:
    from broker_fixtures import orders

    b = broker(
        s["n"],
        s["m"],
        s["cover"],
        fees={"bps": FEE_BPS, "minimum": FEE_MIN},
        slippage={"fixed_bps": FIXED_BPS, "vol_coef": VOL_COEF},
        fill={"participation_rate": RATE, "touch_share": TOUCH, "queue_ahead_share": AHEAD},
    )
    o = orders(s["agent"], s["qty"], side=s["side"], instrument=s["instrument"], limit=s["limit"])
    b.submit(o, 0, 0, volume=np.array(s["submit_volume"]))
    op = np.array(s["open"])
    bs = bar(
        1,
        open_=op,
        low=op - np.array(s["low_off"]),
        high=op + np.array(s["high_off"]),
        volume=s["volume"],
        valid=s["valid"],
        volatility=s["sigma"],
        m=s["m"],
    )
    fills, rejects = b.execute(
        bs, np.array(s["cash"], dtype=np.int64), np.array(s["position"], dtype=np.int64)
    )
    return o, bs, fills, rejects, b


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_vectorized_broker_equals_a_loop_over_orders(s: dict) -> None:
    o, bs, fills, rejects, _ = run_vectorized(s)
    want_fills, want_rejects = reference(
        o, bs, s["cash"], s["submit_volume"], s["position"], s["cover"]
    )
    got_fills = list(
        zip(
            fills.order_id.tolist(),
            fills.qty.tolist(),
            fills.price.tolist(),
            fills.fee.tolist(),
            strict=True,
        )
    )
    assert got_fills == want_fills
    got_rejects = [
        (i, q, REJECT_REASONS[r])
        for i, q, r in zip(
            rejects.order_id.tolist(), rejects.qty.tolist(), rejects.reason, strict=True
        )
    ]
    assert sorted(got_rejects) == want_rejects
    assert np.all(np.diff(fills.order_id) > 0)


@settings(max_examples=50, deadline=None)
@given(scenarios())
def test_same_inputs_give_identical_outputs(s: dict) -> None:
    _, _, f1, r1, b1 = run_vectorized(s)
    _, _, f2, r2, b2 = run_vectorized(s)
    for a, c in ((f1, f2), (r1, r2), (b1.pending(), b2.pending())):
        for field in a.__dataclass_fields__:
            x, y = getattr(a, field), getattr(c, field)
            assert x.dtype == y.dtype and np.array_equal(x, y)
    assert np.array_equal(b1.pending_qty(), b2.pending_qty())


def run_many_bars(seed: int) -> tuple[list, OrderBatch, dict[int, int]]:
    """20 bars of random market and limit orders (a cancel on bar 10); every output kept."""
    from broker_fixtures import orders

    rng = np.random.default_rng(seed)
    n, m, k = 6, 2, 12
    b = broker(
        n,
        m,
        fees={"bps": 3.0},
        slippage={"fixed_bps": 2.0, "vol_coef": 0.5},
        fill={"participation_rate": 0.2, "limit_tif_steps": 3},
    )
    outputs, submitted, next_id = [], {}, 0
    for t in range(20):
        op = rng.integers(9_900, 10_100, m)
        bs = bar(
            t,
            open_=op,
            low=op - rng.integers(0, 80, m),
            high=op + rng.integers(0, 80, m),
            volume=rng.integers(0, 400, m),
            valid=rng.random(m) < 0.9,
            volatility=rng.random(m) * 0.02,
            m=m,
        )
        fills, rejects = b.execute(bs, rng.integers(0, 3_000, n) * CASH_SCALE, flat(b))
        outputs.append((fills, rejects))
        if t == 10:
            outputs.append((FillBatch.empty(), b.cancel(rng.random(n) < 0.5)))
        o = orders(
            rng.integers(0, n, k).tolist(),
            rng.integers(1, 80, k).tolist(),
            side=rng.choice([1, -1], k).tolist(),
            instrument=rng.integers(0, m, k).tolist(),
            limit=np.where(rng.random(k) < 0.5, rng.integers(9_900, 10_100, k), 0).tolist(),
            first_id=next_id,
            step=t,
        )
        b.submit(o, t, bs.ts, volume=bs.volume)
        submitted.update(zip(o.order_id.tolist(), o.qty.tolist(), strict=True))
        next_id += k
    return outputs, b.pending(), submitted


def test_many_bars_are_deterministic_and_every_lot_is_accounted_for() -> None:
    out1, pending1, submitted = run_many_bars(7)
    out2, pending2, _ = run_many_bars(7)
    for (f1, r1), (f2, r2) in zip(out1, out2, strict=True):
        for a, c in ((f1, f2), (r1, r2)):
            for field in a.__dataclass_fields__:
                assert np.array_equal(getattr(a, field), getattr(c, field))
    for field in pending1.__dataclass_fields__:
        assert np.array_equal(getattr(pending1, field), getattr(pending2, field))
    # filled + refused + still pending == submitted, order by order
    seen = dict.fromkeys(submitted, 0)
    for fills, rejects in out1:
        for oid, q in zip(fills.order_id.tolist(), fills.qty.tolist(), strict=True):
            seen[oid] += q
        for oid, q in zip(rejects.order_id.tolist(), rejects.qty.tolist(), strict=True):
            seen[oid] += q
    for oid, q in zip(pending1.order_id.tolist(), pending1.qty.tolist(), strict=True):
        seen[oid] += q
    assert seen == submitted
    reasons_seen = {REJECT_REASONS[r] for _, rj in out1 for r in rj.reason}
    assert reasons_seen == set(REJECT_REASONS)  # the scenario exercises every reason
