"""``equity.parquet``: each agent's equity at each step, bound in the manifest."""

from __future__ import annotations

from pathlib import Path

import msgspec
import numpy as np
import pytest

from scarline.config import RunConfig
from scarline.digest import file_sha256
from scarline.equity_file import EquityFileError, read_equity, write_equity
from scarline.execution.types import CASH_SCALE
from scarline.gating.subject import load_run_under_test
from scarline.replayer import replay_run
from scarline.runner import execute_run


def test_a_run_writes_its_equity_bound_in_the_manifest(tmp_path: Path) -> None:
    cfg = RunConfig(data={"source": "sp500", "end": "1999-06-30"}, report=False)
    summary = execute_run(cfg, run_id="eq", out_dir=tmp_path)
    path = summary.run_dir / "equity.parquet"
    ts, curves = read_equity(path)
    assert len(ts) == summary.steps and np.all(np.diff(ts) > 0)
    assert sorted(curves) == list(range(summary.n_agents))
    manifest = msgspec.json.decode((summary.run_dir / "manifest.json").read_bytes())
    assert manifest["artifacts"]["equity.parquet"] == file_sha256(path)
    assert replay_run(summary.run_dir).parity
    equity = load_run_under_test(summary.run_dir).equity  # a replay's recorder, cash units
    for agent, curve in curves.items():
        assert np.array_equal(curve, equity[:, agent] / CASH_SCALE)


def test_the_same_table_gives_the_same_bytes(tmp_path: Path) -> None:
    equity = np.array([[10_000 * CASH_SCALE, 5 * CASH_SCALE], [10_001 * CASH_SCALE, 7]])
    ts = np.array([1, 2], dtype=np.int64)
    a = write_equity(tmp_path / "a.parquet", ts, np.array([3, 9]), equity)
    b = write_equity(tmp_path / "b.parquet", ts, np.array([3, 9]), equity)
    assert a.read_bytes() == b.read_bytes()
    _, curves = read_equity(a)
    assert curves[9].tolist() == [5.0, 7 / CASH_SCALE]


def test_a_torn_file_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "equity.parquet"
    path.write_bytes(b"PAR1 not really")
    with pytest.raises(EquityFileError, match=r"equity\.parquet"):
        read_equity(path)
