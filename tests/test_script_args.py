"""The scripts in ``bench/`` and ``scripts/`` refuse a bad argument with argparse's one-line
error and exit code 2, never a traceback from inside a run (``bench/kernel.py --agents 0``
once divided by zero)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# one bad argument for every script that takes numbers, and a word its error must name
BAD_ARGS = {
    "bench/arena.py": (["--sizes", "64,0"], "--sizes"),
    "bench/compare.py": (["a.json", "b.json", "--tolerance", "-5"], "--tolerance"),
    "bench/drift.py": (["--steps", "0"], "--steps"),
    "bench/gate_runner.py": (["--workers", "two"], "--workers"),
    "bench/gates.py": (["--t", "8"], "--t"),
    "bench/kernel.py": (["--agents", "0"], "--agents"),
    "bench/learner.py": (["--batch", "-1"], "--batch"),
    "bench/machine.py": (["--mib", "0"], "--mib"),
    "bench/peers.py": (["--bars", "1.5"], "--bars"),
    "bench/serve.py": (["--runs", "0"], "--runs"),
    "bench/service.py": (["--rate", "nan"], "--rate"),
    "bench/soak.py": (["--bars", "10"], "--bars"),
    "bench/wal.py": (["--repeat", "0"], "--repeat"),
    "scripts/gate_noise.py": (["--workers", "0"], "--workers"),
    "scripts/gate_power.py": (["--ics", "0.1,1.5"], "--ics"),
    "scripts/learner_study.py": (["--seeds", "1,,2"], "--seeds"),
    "scripts/learning_edge.py": (["--seeds", "one"], "--seeds"),
    "scripts/spa_level.py": (["--lengths", "60,5"], "--lengths"),
}


def test_every_script_that_takes_numbers_is_covered() -> None:
    takes_numbers = {
        f"{folder}/{p.name}"
        for folder in ("bench", "scripts")
        for p in (ROOT / folder).glob("*.py")
        if "scarline.argtypes import" in p.read_text()
    }
    assert takes_numbers == set(BAD_ARGS)


@pytest.mark.slow
def test_a_bad_argument_is_a_one_line_error_and_exit_2() -> None:
    """All scripts at once (each imports scarline before it parses: ~2 s apiece)."""
    procs = {
        name: subprocess.Popen(
            [sys.executable, str(ROOT / name), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, (args, _) in BAD_ARGS.items()
    }
    for name, proc in procs.items():
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 2, (name, out, err)
        assert "Traceback" not in err, (name, err)
        last = err.strip().splitlines()[-1]
        prog = name.split("/")[1]
        assert last.startswith(f"{prog}: error:") and BAD_ARGS[name][1] in last, (name, last)
