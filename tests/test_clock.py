import pytest

from scarline.clock import SimClock


def test_sim_clock_follows_events_and_never_goes_back() -> None:
    clock = SimClock(10)
    clock.advance_to(20)
    assert clock.now() == 20
    with pytest.raises(ValueError):
        clock.advance_to(19)
