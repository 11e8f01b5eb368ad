import numpy as np

from scarline.execution.fees import BpsMinFee
from scarline.execution.types import CASH_SCALE


def test_zero_config_charges_exactly_nothing() -> None:
    fee = BpsMinFee(0.0, 0.0).fee(np.array([0, 1, 10**15], dtype=np.int64))
    assert fee.dtype == np.int64 and fee.tolist() == [0, 0, 0]


def test_bps_is_rounded_to_the_nearest_cash_unit() -> None:
    # 10 bps of $1,000 is $1; 12,345 cash units -> 12.345 -> 12; 12.5 and 13.5 round half-even
    notional = np.array([1_000 * CASH_SCALE, 12_345, 12_500, 13_500, 12_600], dtype=np.int64)
    assert BpsMinFee(10.0, 0.0).fee(notional).tolist() == [CASH_SCALE, 12, 12, 14, 13]


def test_minimum_applies_per_fill_and_only_to_real_fills() -> None:
    model = BpsMinFee(5.0, 1.0)  # 5 bps, at least $1
    notional = np.array([0, 100 * CASH_SCALE, 10_000 * CASH_SCALE], dtype=np.int64)
    # $100 * 5bps = $0.05 -> minimum $1; $10,000 * 5 bps = $5
    assert model.fee(notional).tolist() == [0, CASH_SCALE, 5 * CASH_SCALE]
