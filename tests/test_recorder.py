"""The recorder's copy: a block permutation deep-copies a prefix kernel per placebo."""

from __future__ import annotations

import copy

import numpy as np

from scarline.execution.types import FillBatch
from scarline.recorder import Recorder


def _recorder() -> Recorder:
    rec = Recorder(4, 2)
    rec.on_step(0, np.array([10, 20]))
    rec.on_fills(0, FillBatch.empty())  # an empty batch is not kept
    rec.on_risk(1, np.array([1]), ["max_drawdown"], ["reject"])
    return rec


def test_copy_shares_entries_but_not_the_histories() -> None:
    rec = _recorder()
    twin = copy.deepcopy(rec)
    assert twin.risk_events()[2] == rec.risk_events()[2] == ["max_drawdown"]
    assert twin._risk[0] is rec._risk[0]  # an entry is never changed once appended
    twin.on_step(1, np.array([11, 21]))
    twin.on_risk(2, np.array([0]), ["leverage"], ["reject"])
    assert rec.equity is not None and twin.equity is not None
    assert rec.equity[1].tolist() == [0, 0] and twin.equity[1].tolist() == [11, 21]
    assert len(rec._risk) == 1 and len(twin._risk) == 2
    rec.on_step(0, np.array([0, 0]))
    assert twin.equity[0].tolist() == [10, 20]


def test_copy_inside_a_structure_keeps_identity() -> None:
    """deepcopy's memo: two references to one recorder stay one recorder."""
    rec = Recorder(2, 1, keep_equity=False)
    a, b = copy.deepcopy([rec, rec])
    assert a is b and a.equity is None
