"""torch's thread count is a speed knob: a learning run is the same at 1, 2 and 3 threads,
with either update (``qnet.update``).

``qnet.torch_threads`` defaults to 0 (the process's setting), so a run may replay on a machine
with another core count; this test is what makes that promise (docs/learning.md).
"""

from pathlib import Path

import pytest
import torch

from scarline.config import RunConfig
from scarline.journal import read_records
from scarline.runner import execute_run


def _records(threads: int, tmp_path: Path, update: str) -> tuple[str, list[tuple[str, object]]]:
    """The decision trace hash and every WAL record but the session start (whose config hash
    names the thread count)."""
    cfg = RunConfig(
        data={"source": "sp500-20", "start": "2022-06-01", "end": "2023-03-31"},
        agents=[
            {
                "kind": "q-network",
                "count": 96,  # batched products split 96 agents' matrices across threads
                "qnet": {
                    "hidden": [48, 24],
                    "warmup_steps": 8,
                    "train_every": 2,
                    "batch_size": 24,
                    "double": True,
                    "torch_threads": threads,
                    "update": update,
                },
                "evolution": {"enabled": True, "every": 60},  # per-agent lr genes on
            }
        ],
        report=False,
    )
    run = execute_run(cfg, run_id="threads", out_dir=tmp_path / f"{update}-{threads}")
    records = read_records(run.run_dir / "wal")
    return run.decision_trace_hash, [(r.kind, r.data) for r in records if r.kind != "SessionStart"]


@pytest.mark.slow
@pytest.mark.parametrize("update", ["torch", "compiled"])
def test_a_learning_run_does_not_depend_on_the_thread_count(tmp_path: Path, update: str) -> None:
    """The compiled update splits agents across as many threads as torch has."""
    threads = torch.get_num_threads()
    try:
        one = _records(1, tmp_path, update)
        kinds = {kind for kind, _ in one[1]}
        assert {"Decision", "Fills", "Births"} <= kinds, kinds  # it traded and bred
        assert _records(2, tmp_path, update) == one
        assert _records(3, tmp_path, update) == one  # more threads than this machine's cores
    finally:
        torch.set_num_threads(threads)
