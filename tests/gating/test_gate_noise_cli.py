"""``scripts/gate_noise.py``'s command line: the seed range it reads, what it prints and
writes, and its exit code (the study itself is ``test_gates_noise.py``'s)."""

from __future__ import annotations

import argparse
import json

import pytest
from script_helpers import load_script

study = load_script("gate_noise")


@pytest.mark.parametrize(
    ("text", "seeds"), [("101-103", [101, 102, 103]), ("7", [7]), ("5-5", [5])]
)
def test_seed_ranges_are_inclusive(text: str, seeds: list[int]) -> None:
    assert study._seed_range(text) == seeds


@pytest.mark.parametrize(("text", "says"), [("a-b", "expected A-B"), ("9-3", "empty range")])
def test_a_bad_seed_range_says_what_was_expected(text: str, says: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=says):
        study._seed_range(text)


def test_a_bad_seed_range_is_a_usage_error_not_a_traceback(capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        study.main(["--seeds", "x"])
    assert exit_.value.code == 2
    assert "expected A-B or A, got 'x'" in capsys.readouterr().err


@pytest.mark.slow
def test_one_seed_end_to_end_prints_and_writes_its_verdict(tmp_path, capsys) -> None:
    """Seed 101, run as ``python scripts/gate_noise.py --seeds 101 --workers 1 --json F``:
    it fails G2 (exit 0: no seed passed), prints its line and the tally, writes its verdict."""
    out = tmp_path / "g2.json"
    assert study.main(["--seeds", "101", "--workers", "1", "--json", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("seed 101: sharpe ") and "failed [" in printed[0]
    assert printed[1].startswith("G2 failures over 1 seeds: {")
    assert printed[2] == "seeds that passed G2: none"
    verdict = json.loads(out.read_text(encoding="utf-8"))["101"]
    assert study.failed_checks(verdict)  # what the exit code and the last line say
    assert set(verdict["G2"]) >= {"dsr", "spa", "pbo", "block_permutation", "contracts"}
