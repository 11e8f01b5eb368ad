"""The venue's smallest order (ccxt's limits: minimum amount and minimum cost): an opening
order under it is refused with rule ``venue_minimum``; a reducing order always passes."""

from __future__ import annotations

import numpy as np
from risk_fixtures import UV, context, intents, outcomes_of, rules_of

from scarline.instrument import InstrumentSpec
from scarline.risk import RiskConfig, RiskEngine
from scarline.risk.limits import VenueMinimums


def test_minimums_come_from_the_instruments_in_lots_and_cash_units() -> None:
    btc = InstrumentSpec(symbol="BTC", tick_size="0.01", lot_size="0.00001", min_notional="5")
    eth = InstrumentSpec(symbol="ETH", tick_size="0.01", lot_size="0.0001", min_qty="0.00015")
    found = VenueMinimums.of([btc, eth])
    assert found is not None
    assert found.qty.tolist() == [0, 2]  # 0.00015 ETH is 1.5 lots: at least 2
    assert found.notional.tolist() == [5 * 10**8, 0]
    assert VenueMinimums.of([InstrumentSpec(symbol="X")]) is None


def test_an_opening_order_below_the_venue_minimum_is_refused() -> None:
    venue = VenueMinimums(qty=np.array([3]), notional=np.array([500 * 10**8]))
    eng = RiskEngine(RiskConfig(), 3, np.full(1, UV, np.int64), venue)
    # 100.00 a lot: 6 lots are 600 (ok), 4 lots are 400 (< 500), 2 lots are under 3 lots
    d = eng.check(0, intents([0, 1, 2], [1, 1, 1], [6, 4, 2]), context(n=3))
    assert outcomes_of(d) == ["pass", "reject", "reject"]
    assert rules_of(d) == ["none", "venue_minimum", "venue_minimum"]
    assert d.approved_qty.tolist() == [6, 0, 0]
    assert (d.value[1], d.limit[1]) == (400 * 10**8, 500 * 10**8)
    closing = context(n=3, position=[[0], [2], [0]])
    d = eng.check(1, intents([1], [-1], [2]), closing)  # selling what is held: no minimum
    assert outcomes_of(d) == ["pass"] and d.approved_qty.tolist() == [2]
