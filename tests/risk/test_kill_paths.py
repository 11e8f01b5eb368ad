"""A ``KILL`` flag made wrongly still kills: a directory, a path that cannot be read or bytes
that are not UTF-8 flatten the run, instead of being ignored or crashing it mid-step."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from scarline.config import RunConfig
from scarline.events import KillSwitch
from scarline.journal import read_records
from scarline.market.io import write_market
from scarline.market.synthetic import SynthSpec, generate
from scarline.operator import LiveOperator
from scarline.risk.kill import kill_file, kill_reason
from scarline.rundir import RunDir
from scarline.runner import execute_run
from scarline.session import SessionIds


def _directory(path: Path) -> None:
    path.mkdir()


def _dangling_link(path: Path) -> None:
    path.symlink_to(path.parent / "nowhere")


def _not_utf8(path: Path) -> None:
    path.write_bytes(b"stop \xff\xfe now")


def _fifo(path: Path) -> None:
    os.mkfifo(path)


FLAGS: dict[str, tuple[Callable[[Path], None], str]] = {
    "directory": (_directory, "(a directory)"),
    "unreadable": (_dangling_link, "(unreadable: No such file or directory)"),
    "not-utf8": (_not_utf8, "stop \ufffd\ufffd now"),
    "fifo": (_fifo, "flag file"),  # a FIFO nobody writes must not block the kernel
}


@pytest.mark.parametrize("name", sorted(FLAGS))
def test_a_bad_flag_is_found_and_gives_a_reason(tmp_path: Path, name: str) -> None:
    make, reason = FLAGS[name]
    make(tmp_path / RunDir.KILL)
    flag = kill_file(tmp_path)
    assert flag == tmp_path / RunDir.KILL
    assert reason in kill_reason(flag)
    ids = SessionIds("r", "s")
    kill = LiveOperator(ids, config_kill=False, run_dir=tmp_path, runs_root=None).poll(0)
    assert isinstance(kill, KillSwitch) and kill.source == "flag-file" and reason in kill.reason


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file whatever its mode")
def test_a_flag_file_without_read_permission_kills(tmp_path: Path) -> None:
    flag = tmp_path / RunDir.KILL
    flag.write_text("secret")
    flag.chmod(0)
    assert "(unreadable: Permission denied)" in kill_reason(flag)


@pytest.mark.parametrize("name", ["directory", "unreadable", "not-utf8"])
def test_a_run_under_a_bad_flag_is_killed_and_flattened(tmp_path: Path, name: str) -> None:
    """The runs root's flag (``scarline kill --all``) fires at step 0: the kill is journaled
    and every position stays flat."""
    data = write_market(generate(SynthSpec(n_steps=80, seed=2)), tmp_path / "synth.csv")
    runs = tmp_path / "runs"
    runs.mkdir()
    FLAGS[name][0](runs / RunDir.KILL)
    cfg = RunConfig(data={"source": str(data)}, agents=[{"kind": "buy-and-hold"}], report=False)
    summary = execute_run(cfg, run_id="flagged", out_dir=runs)
    assert summary.killed_at == 0
    kills = list(read_records(summary.run_dir / "wal", kinds=("KillSwitch",)))
    assert len(kills) == 1 and FLAGS[name][1] in kills[0].data.reason  # type: ignore[attr-defined]
    assert not list(read_records(summary.run_dir / "wal", kinds=("Fills",)))
