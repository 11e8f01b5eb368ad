"""``scarline promote|approve|rollback`` and ``scarline ledger show|verify`` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ledger_helpers import passing_gates, tiny_q_run, write_gates
from typer.testing import CliRunner

from scarline.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_q_run(tmp_path_factory.mktemp("ledger-cli"), "cli-tiny", seed=5)


def scarline(ledger: Path, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, [*args, "--ledger", str(ledger)])
    return result.exit_code, result.stdout, result.stderr


def test_promote_approve_rollback_show_verify(run_dir: Path, tmp_path: Path) -> None:
    ledger = tmp_path / "ledger"
    gates_file = run_dir / "gates.json"
    gates_file.unlink(missing_ok=True)

    code, out, _ = scarline(ledger, "promote", "1", "--to", "candidate", "--run", str(run_dir))
    assert code == 0, out
    assert "Research -> Candidate" in out

    code, _, err = scarline(ledger, "promote", "1", "--to", "shadow")
    assert code == 1
    assert "missing evidence: gate report gates.json" in err

    gates_file.write_text(json.dumps(passing_gates("1")))  # by hand: not signed
    code, _, err = scarline(ledger, "promote", "1", "--to", "shadow")
    assert code == 1
    assert "signed gate report (gates.json is not signed (no gates.sig))" in err
    write_gates(run_dir, passing_gates("1"))  # signed by the gate key
    code, out, err = scarline(ledger, "promote", "1", "--to", "shadow")
    assert code == 0, err

    code, _, err = scarline(ledger, "promote", "1", "--to", "limited-live")
    assert code == 1
    assert "human approval for LimitedLive" in err

    args = ["approve", "1", "--stage", "limited-live", "--by", "ada", "--reason", "shadow ok"]
    assert scarline(ledger, *args)[0] == 0
    code, out, err = scarline(ledger, "promote", "1", "--to", "limited-live")
    assert code == 0, err

    # two candidates; rolling back Candidate restores the earlier one
    assert scarline(ledger, "promote", "2", "--to", "candidate", "--run", str(run_dir))[0] == 0
    assert scarline(ledger, "promote", "3", "--to", "candidate", "--run", str(run_dir))[0] == 0
    code, out, err = scarline(ledger, "rollback", "candidate", "--reason", "regression")
    assert code == 0, err
    assert "cli-tiny:3 -> cli-tiny:2" in out

    code, out, _ = scarline(ledger, "ledger", "show", "--json")
    assert code == 0
    shown = json.loads(out)
    assert shown["current"]["Candidate"] == "cli-tiny:2"
    assert shown["current"]["LimitedLive"] == "cli-tiny:1"
    assert shown["history"][-1]["kind"] == "Rollback"
    assert shown["policies"]["cli-tiny:3"]["stage"] == "Research"

    code, out, _ = scarline(ledger, "ledger", "show")
    assert code == 0 and "LimitedLive" in out and "Rollback" in out
    assert "[manifest, manifest_signature, artifacts, replay_parity]" in out

    code, out, _ = scarline(ledger, "ledger", "verify")
    assert code == 0 and "ledger intact" in out

    # one byte changed in an approval record: verify names it
    segment = ledger / "000000.jsonl"
    segment.write_bytes(segment.read_bytes().replace(b"shadow ok", b"shadow OK"))
    code, _, err = scarline(ledger, "ledger", "verify")
    assert code == 1
    assert "seq 4 (line 5): hash mismatch" in err  # seq 0 is the ledger's policy
    code, _, err = scarline(ledger, "rollback", "limited-live")
    assert code == 1 and "corrupt" in err


def test_refusals_are_one_line_errors(run_dir: Path, tmp_path: Path) -> None:
    ledger = tmp_path / "ledger"
    code, _, err = scarline(ledger, "promote", "0", "--to", "shadow", "--run", str(run_dir))
    assert code == 1
    assert "one stage at a time (next: Candidate)" in err
    assert "Traceback" not in err
    code, _, err = scarline(ledger, "ledger", "verify")
    assert code == 0  # the registration went in before the refusal
    code, _, err = scarline(ledger, "rollback", "production")
    assert code == 1 and "no policy is at Production" in err


def test_ledger_dir_from_environment(run_dir: Path, tmp_path: Path) -> None:
    ledger = tmp_path / "env-ledger"
    env = {"SCARLINE_LEDGER": str(ledger)}
    result = runner.invoke(app, ["ledger", "register", "0", "--run", str(run_dir)], env=env)
    assert result.exit_code == 0, result.stderr
    result = runner.invoke(app, ["ledger", "show", "--json"], env=env)
    assert json.loads(result.stdout)["policies"]["cli-tiny:0"]["stage"] == "Research"


def test_approve_with_flag_unblocks_a_flagged_policy(run_dir: Path, tmp_path: Path) -> None:
    ledger = tmp_path / "ledger"
    report = passing_gates("2")
    report["agents"]["2"]["flags"] = ["implausible_edge"]  # type: ignore[index]
    write_gates(run_dir, report)
    assert scarline(ledger, "promote", "2", "--to", "candidate", "--run", str(run_dir))[0] == 0
    code, _, err = scarline(ledger, "promote", "2", "--to", "shadow")
    assert code == 1 and "human approval naming flag implausible_edge" in err
    args = ["approve", "2", "--by", "ada", "--reason", "leak reviewed"]
    code, _, err = scarline(ledger, *args, "--flag", "implausible")
    assert code == 1 and "unknown flag(s) implausible" in err
    code, out, _ = scarline(ledger, *args, "--flag", "implausible_edge")
    assert code == 0 and "for Shadow by ada (accepts implausible_edge)" in out
    code, _, err = scarline(ledger, "promote", "2", "--to", "shadow")
    assert code == 0, err
    code, out, _ = scarline(ledger, "ledger", "show")
    assert "[accepts implausible_edge]" in out


def test_a_non_ascii_digit_is_no_agent_id(run_dir: Path, tmp_path: Path) -> None:
    """``str.isdigit`` took '²' (``int`` then raised: an internal error) and '١' (read as
    agent 1, a policy the user did not name)."""
    ledger = tmp_path / "ledger"
    assert scarline(ledger, "ledger", "register", "1", "--run", str(run_dir))[0] == 0
    for ref in ("²", "١"):
        code, _, err = scarline(ledger, "promote", ref, "--to", "candidate")
        assert code == 2 and f"policy {ref!r} is not in the ledger" in err, err
        code, _, err = scarline(ledger, "ledger", "register", ref, "--run", str(run_dir))
        assert code == 1 and "is not an agent id" in err, err
        assert "internal error" not in err


def test_values_nested_thousands_deep_are_one_line_errors(tmp_path: Path) -> None:
    """A policy.toml or a run's manifest.json nested 100 000 deep (someone who can write the
    ledger or the run directory): named, never an internal error."""
    ledger = tmp_path / "ledger"
    code, _, _ = scarline(ledger, "ledger", "anchor")
    assert code == 0
    policy = (ledger / "policy.toml").read_text()
    (ledger / "policy.toml").write_text("x = " + "[" * 100_000 + "\n")
    code, _, err = scarline(ledger, "ledger", "anchor")
    assert code == 2 and "policy.toml: not a ledger policy (values nested too deeply)" in err
    assert "internal error" not in err and len(err.strip().splitlines()) == 1
    (ledger / "policy.toml").write_text(policy)
    run = tmp_path / "run"
    run.mkdir()
    (run / "manifest.json").write_text('{"a":' * 100_000)
    code, _, err = scarline(ledger, "promote", "0", "--to", "candidate", "--run", str(run))
    assert code == 1 and "manifest.json: not a run manifest (values nested too deeply)" in err
    assert "internal error" not in err and len(err.strip().splitlines()) == 1
