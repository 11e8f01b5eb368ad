"""Every ``scarline`` command once, on the session's tiny run: the argument lists the
``--json``, human-output and exit-code tests share. A new command must be added here
(``test_every_command_has_a_case`` fails otherwise)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TinyRun:
    root: Path
    run_dir: Path
    config: Path
    data: Path
    ledger: Path  # agent 1 of the run at Candidate
    best_policy: str


def copy(src: Path, tmp: Path) -> Path:
    """A private copy, for commands that change what they are given."""
    return Path(shutil.copytree(src, tmp / f"copy-{src.name}"))


def unsealed(src: Path, tmp: Path) -> Path:
    """A private copy of a run as a crash before its manifest leaves it (same directory
    name: the run id its WAL verifies against)."""
    run_dir = Path(shutil.copytree(src, tmp / src.name))
    (run_dir / "manifest.json").unlink()
    return run_dir


def opts(text: str) -> list[str]:
    """Arguments without spaces, written as one string."""
    return text.split()


def fake_venue_url() -> str:
    """A fake binance on 127.0.0.1 for ``data fetch`` (tests/feed_venue.py), one per process."""
    from feed_venue import history_venue

    global _VENUE
    if _VENUE is None:
        _VENUE = history_venue(24)
    return _VENUE.url


_VENUE = None


def paper_config(tmp: Path) -> Path:
    """A paper config replaying a recorded feed (tests/paper_recording.py)."""
    from paper_recording import write_paper_config

    return write_paper_config(tmp)


Case = Callable[[Path, TinyRun], list[str]]
"""(a fresh temporary directory, the tiny run) -> the arguments after ``scarline``."""


CASES: dict[str, Case] = {
    "run": lambda t, r: ["run", "-c", str(r.config), "--out", str(t), "--run-id", "again"],
    "evolve": lambda t, r: ["evolve", str(r.config), "-k", "2", "--out", str(t)],
    "replay": lambda t, r: ["replay", str(r.run_dir)],
    "paper": lambda t, r: [
        *opts(f"paper -c {paper_config(t)} --out {t} --run-id p --max-steps 12"),
    ],
    "serve": lambda t, r: ["serve", "--runs", str(r.run_dir.parent), "--once"],
    "kill": lambda t, r: ["kill", str(unsealed(r.run_dir, t)), "--reason", "drill"],
    "export-policy": lambda t, r: ["export-policy", str(r.run_dir), "1", "-o", str(t / "a.onnx")],
    "lineage": lambda t, r: ["lineage", str(r.run_dir), "-f", "graphml", "-o", str(t / "l.xml")],
    "diary": lambda t, r: ["diary", str(r.run_dir)],
    "trades": lambda t, r: ["trades", str(r.run_dir), "--limit", "5"],
    "stats": lambda t, r: ["stats", str(r.run_dir)],
    "rebuild-policy": lambda t, r: ["rebuild-policy", str(r.run_dir), r.best_policy, "-o", str(t)],
    "regimes": lambda t, r: ["regimes", str(r.data), *opts("--min-history 60 --window 120")],
    "gates": lambda t, r: ["gates", str(copy(r.run_dir, t)), *opts("--only G0 --only G1")],
    "promote": lambda t, r: [
        *opts("promote 2 --to candidate --run"),
        str(r.run_dir),
        "--ledger",
        str(t / "l"),
    ],
    "approve": lambda t, r: [
        *opts("approve 1 --by ada --reason ok --ledger"),
        str(copy(r.ledger, t)),
    ],
    "rollback": lambda t, r: ["rollback", "candidate", "--ledger", str(copy(r.ledger, t))],
    "wal verify": lambda t, r: ["wal", "verify", str(r.run_dir)],
    "wal cat": lambda t, r: ["wal", "cat", str(r.run_dir), *opts("--kind Decision --limit 2")],
    "wal recover": lambda t, r: ["wal", "recover", str(copy(r.run_dir, t))],
    "wal seal": lambda t, r: ["wal", "seal", str(unsealed(r.run_dir, t))],
    "data list": lambda t, r: ["data", "list"],
    "data check": lambda t, r: ["data", "check", str(r.data)],
    "data synth": lambda t, r: ["data", "synth", "--out", str(t / "s.csv"), "--steps", "30"],
    "data fetch": lambda t, r: [
        *opts("data fetch --exchange binance --symbols BTC/USDT --since 2024-01-01 --out"),
        str(t / "f.parquet"),
        "--base-url",
        fake_venue_url(),
    ],
    "ledger show": lambda t, r: ["ledger", "show", "--ledger", str(r.ledger)],
    "ledger verify": lambda t, r: ["ledger", "verify", "--ledger", str(r.ledger)],
    "ledger register": lambda t, r: [
        *opts("ledger register 3 --run"),
        str(r.run_dir),
        "--ledger",
        str(t / "l"),
    ],
    "ledger anchor": lambda t, r: ["ledger", "anchor", "--ledger", str(copy(r.ledger, t))],
    "keys init": lambda t, r: ["keys", "init", "--name", "k", "--keys-dir", str(t / "keys")],
    "keys list": lambda t, r: ["keys", "list"],
    "keys export": lambda t, r: ["keys", "export", "default"],
}

EXIT = {"gates": 1}
"""Cases whose documented exit code is not 0: gates skipped by --only count as failed."""

RUN_DIR_COMMANDS: dict[str, Callable[[Path], list[str]]] = {
    "replay": lambda d: ["replay", str(d)],
    "kill": lambda d: ["kill", str(d)],
    "export-policy": lambda d: ["export-policy", str(d), "1", "-o", str(d / "a.onnx")],
    "lineage": lambda d: ["lineage", str(d)],
    "diary": lambda d: ["diary", str(d)],
    "trades": lambda d: ["trades", str(d)],
    "stats": lambda d: ["stats", str(d)],
    "rebuild-policy": lambda d: ["rebuild-policy", str(d), "deadbeef", "-o", str(d / "p")],
    "gates": lambda d: ["gates", str(d)],
    "promote --run": lambda d: [
        *opts("promote 1 --to candidate --run"),
        str(d),
        "--ledger",
        str(d.parent / "l"),
    ],
    "wal verify": lambda d: ["wal", "verify", str(d)],
    "wal cat": lambda d: ["wal", "cat", str(d)],
    "wal recover": lambda d: ["wal", "recover", str(d)],
    "wal seal": lambda d: ["wal", "seal", str(d)],
    "ledger register --run": lambda d: [
        *opts("ledger register 1 --run"),
        str(d),
        "--ledger",
        str(d.parent / "l"),
    ],
}
"""Every command that takes a run directory, given ``d`` (which does not exist)."""
