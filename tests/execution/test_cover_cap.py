"""The cash cap and covers (schema 15): a buy's lots that cover the agent's short fill
whatever the cash and are paid first; the opening lots are capped against what is left, in
order_id order, as every buy was before (docs/execution.md, "Cash cap on buys")."""

from __future__ import annotations

import numpy as np
from broker_fixtures import UV, numpy_and_compiled, play, same
from hypothesis import given, settings
from hypothesis import strategies as st

from scarline.execution.cash import covering_lots
from scarline.execution.types import CASH_SCALE, REJECT_REASONS, FillBatch, RejectBatch

COSTS = {"fees": {"minimum": 1.0}}  # one currency unit a fill; 100.00 a lot at the open


def _bar_of(
    orders: list[tuple[int, int]], cash: float, held: list[int], cover: bool
) -> tuple[FillBatch, RejectBatch]:
    """One agent's buys (instrument, lots) at a 100.00 open, its ``cash`` (currency) and
    ``held`` lots per instrument before them, on both paths (which must agree)."""
    s = {
        "n": 1,
        "m": len(held),
        "uv": UV,
        "cash": [int(cash * CASH_SCALE)],
        "position": [held],
        "steps": [
            {"agent": [0] * len(orders), "instrument": [m for m, _ in orders],
             "side": [1] * len(orders), "qty": [q for _, q in orders]},
            {"agent": [], "instrument": [], "side": [], "qty": []},
        ],
    }  # fmt: skip
    for step in s["steps"]:
        step |= {"open": [10_000] * len(held), "volume": [10**6] * len(held),
                 "valid": [True] * len(held), "sigma": [0.0] * len(held)}  # fmt: skip
    ref, fast = numpy_and_compiled(1, len(held), COSTS, UV, cover)
    want, got = play(ref, s)[1], play(fast, s)[1]
    same(want[0], got[0])
    same(want[1], got[1])
    return got


def _filled(fills: FillBatch) -> dict[int, int]:
    return dict(zip(fills.order_id.tolist(), fills.qty.tolist(), strict=True))


def _refused(rejects: RejectBatch) -> dict[int, tuple[int, str]]:
    return {
        int(i): (int(q), REJECT_REASONS[int(r)])
        for i, q, r in zip(rejects.order_id, rejects.qty, rejects.reason, strict=True)
    }


def test_a_cover_fills_in_debit_and_an_opening_buy_gets_nothing() -> None:
    """Already in debit: the cover of a 10-lot short fills (1,001 paid out of -500), a buy
    opening another position fills nothing."""
    fills, rejects = _bar_of([(0, 10), (1, 3)], -500.0, [-10, 0], cover=True)
    assert _filled(fills) == {0: 10}
    assert _refused(rejects) == {1: (3, "insufficient_cash")}


def test_covers_are_paid_first_and_the_opening_lots_capped_against_the_rest() -> None:
    """1,501 of cash, short 10 in the first instrument; buy 5 of the second (#0), then 20
    of the first (#1: covers 10, opens 10). The cover is paid first (1,001), so #0 fits
    only 4 lots (401 of the 500 left) and #1 opens nothing after that cut. Schema 14 paid
    in order_id order: #0 in full, and #1 cut to 9 lots, leaving a short of 1 open."""
    fills, rejects = _bar_of([(1, 5), (0, 20)], 1_501.0, [-10, 0], cover=True)
    assert _filled(fills) == {0: 4, 1: 10}
    assert _refused(rejects) == {0: (1, "insufficient_cash"), 1: (10, "insufficient_cash")}
    paid = int((fills.qty * fills.price * UV + fills.fee).sum())
    assert paid == (401 + 1_001) * CASH_SCALE
    fills, rejects = _bar_of([(1, 5), (0, 20)], 1_501.0, [-10, 0], cover=False)
    assert _filled(fills) == {0: 5, 1: 9}
    assert _refused(rejects) == {1: (11, "insufficient_cash")}


def test_a_flip_covers_its_short_and_opens_what_the_cash_pays_for() -> None:
    """Short 10, buy 20 with 1,500: 10 cover (1,001), then the opening lots' cost is what
    the whole row costs beyond that: 100 × q + 1 <= 1,500 gives 14 lots in all."""
    fills, rejects = _bar_of([(0, 20)], 1_500.0, [-10], cover=True)
    assert _filled(fills) == {0: 14}
    assert _refused(rejects) == {0: (6, "insufficient_cash")}
    fills, _ = _bar_of([(0, 20)], 200.0, [-10], cover=True)  # too poor to open: the cover
    assert _filled(fills) == {0: 10}


def _covering_loop(key: list[int], alloc: list[int], short: list[int]) -> list[int]:
    """Row by row: each buy covers what its cell's earlier buys left of the short."""
    left: dict[int, int] = {}
    out = []
    for k, a, s in zip(key, alloc, short, strict=True):
        c = min(a, left.setdefault(k, s))
        left[k] -= c
        out.append(c)
    return out


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_covering_lots_is_what_each_cells_earlier_buys_left(data: st.DataObject) -> None:
    n = data.draw(st.integers(0, 30))
    key = data.draw(st.lists(st.integers(0, 4), min_size=n, max_size=n))
    alloc = data.draw(st.lists(st.integers(1, 50), min_size=n, max_size=n))
    by_cell = data.draw(st.lists(st.integers(0, 80), min_size=5, max_size=5))
    short = [by_cell[k] for k in key]  # a cell's short is the same on each of its rows
    got = covering_lots(np.array(key, np.int64), np.array(alloc, np.int64), np.array(short))
    assert got.tolist() == _covering_loop(key, alloc, short)
