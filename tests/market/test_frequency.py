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


def test_a_24_7_calendar_counts_every_minute_of_the_year() -> None:
    from scarline.market.frequency import periods_per_year

    minutes = np.arange(3, dtype=np.int64) * 60 * 10**9
    assert periods_per_year("1min", minutes, "24/7") == 525_600
    assert periods_per_year("1h", minutes[:1], "24/7") == 8_760  # from the label: one bar is enough
    assert periods_per_year("1s", minutes[:1], "24/7") == 31_536_000
    assert periods_per_year("?", minutes, "24/7") == 525_600  # no label: the median step
    assert periods_per_year("1min", minutes, "exchange") == infer_periods_per_year(minutes)
