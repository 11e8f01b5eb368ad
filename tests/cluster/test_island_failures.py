"""An island that fails, or an evolve stopped by a signal, says which island and leaves every
island's WAL for ``scarline wal verify`` / ``wal seal`` (docs/evolution.md, "Failures")."""

import os
import signal
from pathlib import Path

import pytest
from island_helpers import small_config
from typer.testing import CliRunner

from scarline.cli import app
from scarline.cluster.island import Island
from scarline.config import dump_toml

runner = CliRunner()
pytestmark = pytest.mark.slow


def _evolve(tmp_path: Path) -> list[str]:
    cfg = small_config(data={"source": "sp500-20", "start": "2022-06-01"})
    path = tmp_path / "islands.toml"
    path.write_text(dump_toml(cfg), encoding="utf-8")
    return ["evolve", str(path), "--islands", "2", "--out", str(tmp_path), "--evolve-id", "ev"]


def _fail_on(monkeypatch: pytest.MonkeyPatch, island: int, stop: int, act: object) -> None:
    """Island ``island`` calls ``act()`` when asked to advance past ``stop``."""
    advance = Island.advance

    def failing(self: Island, to: int) -> int:
        if self.spec.island == island and to > stop:
            act()  # type: ignore[operator]
        return advance(self, to)

    monkeypatch.setattr(Island, "advance", failing)


def _assert_islands_verify(evolve_dir: Path) -> None:
    assert not (evolve_dir / "evolve.json").exists()
    for k in (0, 1):
        run_dir = evolve_dir / f"island-{k}"
        assert not (run_dir / "manifest.json").exists()  # unfinished, and it says so
        result = runner.invoke(app, ["wal", "verify", str(run_dir)])
        assert result.exit_code == 0, result.output


def test_an_island_that_raises_is_named_and_the_islands_stay_verifiable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom() -> None:
        raise RuntimeError("boom")

    _fail_on(monkeypatch, island=1, stop=50, act=boom)
    result = runner.invoke(app, _evolve(tmp_path))
    assert result.exit_code == 1
    # it said "internal error (RuntimeError: boom)": not which island, nor what to do
    assert result.stderr.startswith("error: island 1 failed: RuntimeError: boom;")
    assert f"scarline wal seal {tmp_path / 'ev'}/island-<k>" in result.stderr
    assert result.stderr.strip().count("\n") == 0
    log = (tmp_path / "ev" / "island-1" / "error.log").read_text(encoding="utf-8")
    assert "RuntimeError: boom" in log  # the traceback, next to the island that failed
    _assert_islands_verify(tmp_path / "ev")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_every_island_with_one_line_and_exit_130(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, signum: signal.Signals
) -> None:
    # SIGTERM killed the process on the spot (WAL buffers lost); SIGINT ended in an exit
    # code and no word on what to do with the islands
    _fail_on(monkeypatch, island=0, stop=50, act=lambda: os.kill(os.getpid(), signum))
    result = runner.invoke(app, _evolve(tmp_path))
    assert result.exit_code == 130
    assert result.stderr.startswith(f"error: interrupted by {signum.name}: every started island")
    assert f"scarline wal seal {tmp_path / 'ev'}/island-<k>" in result.stderr
    _assert_islands_verify(tmp_path / "ev")
