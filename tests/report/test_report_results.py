"""RunResults and its logs: dtypes are coerced, bad shapes name the field."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from scarline.report.results import OUTCOMES, RiskLog, TradeLog


def test_fields_are_coerced_to_documented_dtypes(make_results) -> None:
    res = make_results(n=3, t=10)
    assert res.timestamps.dtype == np.int64 and res.agent_ids.dtype == np.int64
    assert res.equity.dtype == np.float64 and res.equity.shape == (10, 3)
    assert res.trades.side.dtype == np.int8 and res.trades.price.dtype == np.float64
    assert res.risk_events.outcome.dtype == np.int8
    assert len(TradeLog.empty()) == 0 and len(RiskLog.empty()) == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"equity": np.zeros((10, 2))}, "equity"),
        ({"close": np.zeros((9, 2))}, "close"),
        ({"policies": ["a", "b"]}, "policies"),
        ({"fees": np.zeros(4)}, "fees"),
        ({"split_step": 10}, "split_step"),
        ({"initial_cash": 0.0}, "initial_cash"),
        ({"periods_per_year": 0.0}, "periods_per_year"),
        ({"trades": TradeLog([10], [0], [0], [1], [1], [1.0], [0.0])}, "trades.step"),
        ({"trades": TradeLog([0], [3], [0], [1], [1], [1.0], [0.0])}, "trades.agent"),
    ],
)
def test_bad_input_names_the_field(make_results, change: dict, field: str) -> None:
    res = make_results(n=3, t=10)
    with pytest.raises(ValueError, match=field):
        replace(res, **change)


def test_logs_reject_bad_codes_and_lengths() -> None:
    with pytest.raises(ValueError, match="side"):
        TradeLog([0], [0], [0], [0], [1], [1.0], [0.0])
    with pytest.raises(ValueError, match="differ in length"):
        TradeLog([0, 1], [0], [0], [1], [1], [1.0], [0.0])
    with pytest.raises(ValueError, match="rule"):
        RiskLog([0], [0], [1], [0], ("only",))
    with pytest.raises(ValueError, match="unknown"):
        RiskLog.from_labels([0], [0], ["r"], ["explode"])


def test_from_labels_sorts_rule_names_so_codes_do_not_depend_on_order() -> None:
    a = RiskLog.from_labels([0, 1], [0, -1], ["zeta", "alpha"], ["warn", "kill"])
    assert a.rule_names == ("alpha", "zeta")
    assert a.rule.tolist() == [1, 0]
    assert [OUTCOMES[o] for o in a.outcome] == ["warn", "kill"]
