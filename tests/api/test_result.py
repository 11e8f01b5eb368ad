"""``sl.load_run``, ``sl.Result``, ``sl.replay`` and ``sl.gates`` given paths and specs the
way a notebook gives them: a ``str`` run directory, an agent id as an ``int``, one gate as
text; a wrong kind of argument, or a file for a directory, is named in one line."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import scarline as sl
from scarline.api.result import ResultError
from scarline.cli import app
from scarline.errors import WalError
from scarline.gating.subject import GateInputError


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    index = pd.date_range("2020-01-01", periods=40, freq="D", tz="UTC")
    frame = pd.DataFrame({"close": 100 + 5 * np.sin(np.arange(40) / 4)}, index=index)
    agents = [{"kind": "sma-crossover", "fast": [2], "slow": [5]}, {"kind": "buy-and-hold"}]
    res = sl.backtest(
        frame, config={"agents": agents}, out_dir=tmp_path_factory.mktemp("runs"), run_id="r"
    )
    return res.run_dir


def test_a_result_of_a_text_path_reads_like_one_of_a_path(run_dir: Path) -> None:
    """``sl.Result("runs/x").equity`` was "unsupported operand type(s) for /: 'str'"."""
    by_text = sl.Result(str(run_dir))  # type: ignore[arg-type]
    assert by_text.run_dir == run_dir
    pd.testing.assert_frame_equal(by_text.equity, sl.load_run(run_dir).equity)
    assert len(by_text.trades) > 0 and list(by_text.stats.index) == [0, 1]


def test_paths_that_are_not_run_directories_are_named(run_dir: Path, tmp_path: Path) -> None:
    """A file where a run directory belongs was a NotADirectoryError from deep inside
    replay; an int was "expected str, bytes or os.PathLike object"."""
    file = tmp_path / "notes.txt"
    file.write_text("x")
    with pytest.raises(WalError, match=r"notes\.txt: not a directory \(a run directory is"):
        sl.replay(file)
    with pytest.raises(ResultError, match=r"notes\.txt: not a directory"):
        sl.load_run(str(file))
    with pytest.raises(GateInputError, match=r"nowhere: no such directory"):
        sl.gates(tmp_path / "nowhere")
    for call in (sl.replay, sl.load_run, sl.gates):
        with pytest.raises(TypeError, match=r"^run_dir: expected a run directory path, not int"):
            call(5)  # type: ignore[operator]


def test_gates_take_an_agent_id_and_one_gate_as_they_come(run_dir: Path) -> None:
    """``only="G0"`` was read letter by letter ("unknown gate(s) 0, G"); ``agents=0`` was
    "'int' object is not iterable"."""
    report = sl.gates(run_dir, 0, only="G0")
    assert report == sl.gates(run_dir, ["0"], only=["G0"])
    assert sl.gates(run_dir, [1, "0"], only="g0") == sl.gates(run_dir, "1,0", only=["G0"])
    with pytest.raises(TypeError, match=r"^agents: expected text or a list of it, not 1\.5"):
        sl.gates(run_dir, 1.5)  # type: ignore[arg-type]
    with pytest.raises(GateInputError, match=r"no agent 7 \(the run has 2 agents\)"):
        sl.gates(run_dir, 7, only="G0")


@pytest.mark.parametrize(
    ("summary", "match"),
    [
        ('{"agents": [{}]}', r"summary\.json: 'agents' must be a list of objects with an integer"),
        ('{"agents": "x"}', r"summary\.json: 'agents' must be a list"),
        ('{"agents": [{"id": "a", "turnover": 1}]}', r"summary\.json: 'agents' must be a list"),
        ("[1]", r"summary\.json: not a JSON object"),
    ],
)
def test_an_edited_summary_is_named_and_bad_input(
    run_dir: Path, tmp_path: Path, summary: str, match: str
) -> None:
    """These were a KeyError, TypeError or ValueError (``scarline stats``: "internal
    error", exit 1), or a run of no agents."""
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    (copy / "summary.json").write_text(summary)
    with pytest.raises(ResultError, match=match) as err:
        sl.load_run(copy).stats  # noqa: B018
    assert err.value.exit_code == 2
    result = CliRunner().invoke(app, ["stats", str(copy)])
    assert result.exit_code == 2 and result.stderr.startswith("error: ")
