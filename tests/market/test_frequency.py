"""The annualization factor of a market's bars, from its timestamps."""

import numpy as np
import pytest

from scarline.market.frequency import infer_periods_per_year

H = 3_600 * 10**9
D = 24 * H


def test_periods_per_year_from_the_median_step() -> None:
    weekdays = np.array([0, 1, 2, 3, 4, 7, 8, 9, 10, 11]) * D  # weekend gaps: median 1d
    assert infer_periods_per_year(weekdays) == 252.0
    assert infer_periods_per_year(np.arange(20) * H) == pytest.approx(252 * 6.5)
    assert infer_periods_per_year(np.arange(20) * 60 * 10**9) == pytest.approx(252 * 390)
    assert infer_periods_per_year(np.arange(20) * H, session_hours=24) == pytest.approx(252 * 24)
    assert infer_periods_per_year(np.arange(20) * 7 * D) == pytest.approx(365.25 / 7)
    assert infer_periods_per_year(np.array([5])) == 252.0
