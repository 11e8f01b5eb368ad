"""A paper session's loop runs on a settled heap (:mod:`scarline.settled_heap`): the objects
standing when it starts are out of full collections during its bars, and back after it."""

from __future__ import annotations

import gc
from pathlib import Path

from feed_venue import FakeVenue
from paper_helpers import PaperRunner, ccxt_live, paper_config


def test_bars_step_on_a_settled_heap(
    venue: FakeVenue, run_session: PaperRunner, tmp_path: Path
) -> None:
    assert gc.get_freeze_count() == 0
    frozen: list[int] = []
    summary = run_session(
        paper_config(tmp_path, ccxt_live(venue)),
        max_steps=5,
        on_step=lambda _t: frozen.append(gc.get_freeze_count()),
    )
    assert summary.steps == 5
    assert len(frozen) == 5 and min(frozen) > 0
    assert gc.get_freeze_count() == 0
