"""The bench scripts refuse a bad argument with argparse's one-line error and exit code 2,
never a traceback from inside a run (``bench/kernel.py --agents 0`` once divided by zero)."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest
from bench_helpers import load_bench
from hypothesis import given
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
cli_args = load_bench("cli_args")
iso_date, non_negative_float = cli_args.iso_date, cli_args.non_negative_float
positive_float, positive_int = cli_args.positive_float, cli_args.positive_int
positive_ints = cli_args.positive_ints

# one bad argument for every script that takes numbers, and a word its error must name
BAD_ARGS = {
    "arena.py": (["--sizes", "64,0"], "--sizes"),
    "compare.py": (["a.json", "b.json", "--tolerance", "-5"], "--tolerance"),
    "drift.py": (["--steps", "0"], "--steps"),
    "gate_runner.py": (["--workers", "two"], "--workers"),
    "gates.py": (["--t", "8"], "--t"),
    "kernel.py": (["--agents", "0"], "--agents"),
    "learner.py": (["--batch", "-1"], "--batch"),
    "machine.py": (["--mib", "0"], "--mib"),
    "peers.py": (["--bars", "1.5"], "--bars"),
    "service.py": (["--rate", "nan"], "--rate"),
    "soak.py": (["--bars", "10"], "--bars"),
    "wal.py": (["--repeat", "0"], "--repeat"),
}


def test_every_script_that_takes_numbers_is_covered() -> None:
    takes_numbers = {
        p.name for p in (ROOT / "bench").glob("*.py") if "cli_args import" in p.read_text()
    }
    assert takes_numbers == set(BAD_ARGS)


@pytest.mark.slow
def test_a_bad_argument_is_a_one_line_error_and_exit_2() -> None:
    """All scripts at once (each imports scarline before it parses: ~2 s apiece)."""
    procs = {
        name: subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / name), *args],
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
        assert last.startswith(f"{name}: error:") and BAD_ARGS[name][1] in last, (name, last)


@given(st.integers(min_value=1, max_value=10**9))
def test_a_positive_whole_number_reads_back(value: int) -> None:
    assert positive_int(str(value)) == value


@given(st.lists(st.integers(min_value=1, max_value=10**6), min_size=1, max_size=8))
def test_sizes_read_back_sorted(values: list[int]) -> None:
    assert positive_ints(",".join(map(str, values))) == sorted(values)


@pytest.mark.parametrize(
    ("parse", "text", "says"),
    [
        (positive_int, "0", "at least 1"),
        (positive_int, "-3", "at least 1"),
        (positive_int, "2.5", "whole number"),
        (positive_int, "", "whole number"),
        (positive_ints, "8,,16", "comma-separated"),
        (positive_ints, "8,x", "whole number"),
        (positive_float, "0", "above 0"),
        (positive_float, "inf", "finite"),
        (positive_float, "nan", "finite"),
        (non_negative_float, "-0.1", "at least 0"),
        (non_negative_float, "ten", "a number"),
        (iso_date, "2021-13-01", "YYYY-MM-DD"),
        (iso_date, "yesterday", "YYYY-MM-DD"),
        (iso_date, "20210101", "YYYY-MM-DD"),
        (iso_date, "2021-W01-1", "YYYY-MM-DD"),
    ],
)
def test_a_bad_value_says_what_was_expected(parse: object, text: str, says: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=says):
        parse(text)  # type: ignore[operator]


def test_good_values_pass() -> None:
    assert positive_float("0.5") == 0.5
    assert non_negative_float("0") == 0.0
    assert iso_date("2021-01-01") == "2021-01-01"
