from collections.abc import Callable

import pytest
from pydantic import ValidationError

from scarline.execution.config import (
    ExecutionConfig,
    FeeConfig,
    FillConfig,
    LatencyConfig,
    SlippageConfig,
)
from scarline.execution.fees import BpsMinFee, build_fee_model
from scarline.execution.latency import NsLatency, StepsLatency, build_latency_model
from scarline.execution.queue import RiskAverseBarQueue, build_queue_model
from scarline.execution.slippage import FixedPlusVolatility, build_slippage_model
from scarline.execution.types import CASH_SCALE


def test_defaults_are_the_frictionless_textbook_broker() -> None:
    cfg = ExecutionConfig()
    assert (cfg.fees.kind, cfg.fees.bps, cfg.fees.minimum) == ("bps-min", 0.0, 0.0)
    assert (cfg.slippage.kind, cfg.slippage.fixed_bps, cfg.slippage.vol_coef) == (
        "fixed-plus-volatility",
        0.0,
        0.0,
    )
    assert (cfg.latency.kind, cfg.latency.steps, cfg.latency.ns) == ("steps", 0, 0)
    assert cfg.fill.participation_rate is None
    assert (cfg.fill.touch_share, cfg.fill.queue_ahead_share, cfg.fill.limit_tif_steps) == (
        0.1,
        0.5,
        10,
    )


def test_nested_dicts_validate_and_ints_are_accepted_for_floats() -> None:
    cfg = ExecutionConfig.model_validate(
        {"fees": {"bps": 5, "minimum": 1}, "latency": {"kind": "ns", "ns": 1_000_000}}
    )
    assert cfg.fees.bps == 5.0 and cfg.latency.ns == 1_000_000


@pytest.mark.parametrize(
    "bad",
    [
        lambda: FeeConfig(bps=-1.0),
        lambda: FeeConfig(minimum=float("nan")),
        lambda: SlippageConfig(fixed_bps=float("inf")),
        lambda: SlippageConfig(vol_coef=-0.1),
        lambda: LatencyConfig(steps=-1),
        lambda: LatencyConfig(kind="steps", ns=5),
        lambda: LatencyConfig(kind="ns", steps=2),
        lambda: FillConfig(participation_rate=0.0),
        lambda: FillConfig(participation_rate=1.5),
        lambda: FillConfig(touch_share=1.1),
        lambda: FillConfig(queue_ahead_share=-0.5),
        lambda: FillConfig(limit_tif_steps=-1),
        lambda: FeeConfig(kind="flat"),
        lambda: FeeConfig(bps="5"),
        lambda: ExecutionConfig.model_validate({"fees": {"bsp": 5}}),
    ],
)
def test_invalid_values_are_rejected(bad: Callable[[], object]) -> None:
    with pytest.raises(ValidationError):
        bad()


def test_participation_rate_of_one_is_allowed() -> None:
    assert FillConfig(participation_rate=1.0).participation_rate == 1.0


def test_factories_build_the_configured_kind() -> None:
    cfg = ExecutionConfig.model_validate(
        {
            "fees": {"bps": 2.5, "minimum": 0.5},
            "slippage": {"fixed_bps": 1.0, "vol_coef": 0.3},
            "latency": {"kind": "ns", "ns": 7},
            "fill": {"touch_share": 0.2, "queue_ahead_share": 0.4},
        }
    )
    fee = build_fee_model(cfg.fees)
    assert isinstance(fee, BpsMinFee) and fee.minimum_units == CASH_SCALE // 2
    slip = build_slippage_model(cfg.slippage)
    assert isinstance(slip, FixedPlusVolatility) and slip.vol_coef == 0.3
    lat = build_latency_model(cfg.latency)
    assert isinstance(lat, NsLatency) and lat.ns == 7
    assert isinstance(build_latency_model(LatencyConfig(steps=3)), StepsLatency)
    queue = build_queue_model(cfg.fill)
    assert isinstance(queue, RiskAverseBarQueue) and queue.touch_share == 0.2
