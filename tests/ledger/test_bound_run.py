"""A promoted policy's run directory stays writable: what a paper session loads the policy
from is checked again against what the ledger bound, so weights swapped after the promotion
(the manifest's sha256 and the gate report's judged hash edited to match) are refused."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from ledger_helpers import passing_gates, tiny_q_run, write_gates

from scarline.digest import file_sha256
from scarline.evolution.genome import policy_hash
from scarline.ledger.bound_run import bound_run
from scarline.ledger.records import LedgerError
from scarline.ledger.store import Ledger
from scarline.paper.policies import _genome_of
from scarline.policy_store import genome_of_agent

WEIGHTS = "weights/group0.npz"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two runs of the same layout: the promoted one, and one whose weights an attacker
    would rather deploy."""
    tmp = tmp_path_factory.mktemp("bound")
    (tmp / "other").mkdir()
    return tiny_q_run(tmp, "source", seed=5), tiny_q_run(tmp / "other", "other", seed=6)


@pytest.fixture
def shadow(runs: tuple[Path, Path], tmp_path: Path) -> tuple[Ledger, Path]:
    """Agent 1 of a copy of the source run, at Shadow (its gate report judged its hash)."""
    run = Path(shutil.copytree(runs[0], tmp_path / "source"))
    report = passing_gates("1")
    verdicts = report["agents"]
    assert isinstance(verdicts, dict)
    verdicts["1"]["policy_hash"] = policy_hash(genome_of_agent(run, 1))
    write_gates(run, report)
    ledger = Ledger(tmp_path / "ledger")
    ledger.promote("1", "candidate", run_dir=run)
    ledger.promote("1", "shadow")
    return ledger, run


def swap_weights(run: Path, other: Path) -> str:
    """The other run's weights, with the manifest's sha256 and the report's hash to match."""
    shutil.copy(other / WEIGHTS, run / WEIGHTS)
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["artifacts"][WEIGHTS] = file_sha256(run / WEIGHTS)
    (run / "manifest.json").write_text(json.dumps(manifest))
    report = json.loads((run / "gates.json").read_text())
    report["agents"]["1"]["policy_hash"] = policy_hash(genome_of_agent(run, 1))
    (run / "gates.json").write_text(json.dumps(report))
    return "manifest.json changed since the ledger registered it"


def edit_config(run: Path, other: Path) -> str:
    config = run / "config.toml"
    config.write_text(config.read_text().replace("buffer_capacity = 2048", "buffer_capacity = 1"))
    return "config.toml is not the config whose hash manifest.json records"


def swap_report(run: Path, other: Path) -> str:
    write_gates(run, passing_gates("1", fees_x2={"sharpe": 3.0}))  # signed, but not the bound one
    return "gates.json is not the report the ledger bound"


@pytest.mark.parametrize("edit", [swap_weights, edit_config, swap_report], ids=lambda f: f.__name__)
def test_files_edited_after_the_promotion_are_not_deployed(
    edit: Callable[[Path, Path], str], shadow: tuple[Ledger, Path], runs: tuple[Path, Path]
) -> None:
    ledger, run = shadow
    promoted = policy_hash(genome_of_agent(run, 1))
    assert _genome_of(ledger.state(), "source:1")[0] == promoted  # as promoted: deployed
    assert bound_run(ledger.state(), "source:1") == run.resolve()
    why = edit(run, runs[1])
    with pytest.raises(LedgerError, match=why):
        _genome_of(ledger.state(), "source:1")  # what a paper session's slot would run
