"""``scarline evolve`` as a user meets it: JSON and human output, one-line errors, exit codes."""

import json
import sys
from pathlib import Path

import pytest
from island_helpers import small_config
from typer.testing import CliRunner

from scarline.cli import app
from scarline.config import dump_toml

runner = CliRunner()
pytestmark = pytest.mark.slow


def _config(tmp_path: Path, **overrides: object) -> Path:
    path = tmp_path / "islands.toml"
    path.write_text(dump_toml(small_config(**overrides)), encoding="utf-8")
    return path


def test_evolve_json_lists_the_islands_and_the_best_policy(tmp_path: Path) -> None:
    cfg, out = _config(tmp_path), tmp_path / "runs"
    args = ["evolve", str(cfg), "--islands", "2", "--migrate-every", "2", "--out", str(out)]
    result = runner.invoke(app, [*args, "--evolve-id", "e2", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["run_dir"] == str(out / "e2")
    assert [i["island"] for i in summary["islands"]] == [0, 1]
    for island in summary["islands"]:
        run_dir = Path(island["run_dir"])
        assert run_dir == out / "e2" / f"island-{island['island']}"
        manifest = json.loads((run_dir / "manifest.json").read_text())
        assert manifest["decision_trace_hash"] == island["decision_trace_hash"]
        assert (run_dir / "lineage.parquet").is_file() and (run_dir / "vault").is_dir()
    record = json.loads((out / "e2" / "evolve.json").read_text())
    assert record["migrate_every"] == 2 and record["n_islands"] == 2
    assert summary["best_policy_hash"] == record["best"]["policy_hash"]
    assert summary["best_policy_hash"] in {i["best_policy_hash"] for i in summary["islands"]}

    again = runner.invoke(app, [*args, "--evolve-id", "e2"])
    assert again.exit_code == 2  # bad input (docs/cli.md)
    assert "already exists" in again.stderr and "Traceback" not in again.output


def test_evolve_prints_a_human_summary(tmp_path: Path) -> None:
    cfg, out = _config(tmp_path), tmp_path / "runs"
    result = runner.invoke(app, ["evolve", str(cfg), "--islands", "1", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "best policy:" in result.stdout and "evolve directory:" in result.stdout
    (evolve_dir,) = out.iterdir()
    assert evolve_dir.name.endswith("-x1") and (evolve_dir / "island-0" / "manifest.json").is_file()
    record = json.loads((evolve_dir / "evolve.json").read_text())
    assert record["migrations"] == [] and record["migration_steps"] == []  # one island: no ring


def test_ray_without_ray_installed_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now raises ImportError
    out = tmp_path / "runs"
    args = ["evolve", str(_config(tmp_path)), "--executor", "ray", "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0
    assert "pip install '.[ray]'" in result.stderr
    assert not out.exists()  # nothing written


@pytest.mark.parametrize(
    ("extra", "code", "message"),
    [
        (["--migrants", "16"], 2, "--migrants 16 must be less than"),
        (["--islands", "0"], 2, "--islands"),
        (["--executor", "dask"], 2, "--executor"),
    ],
)
def test_bad_options_exit_2(tmp_path: Path, extra: list[str], code: int, message: str) -> None:
    result = runner.invoke(app, ["evolve", str(_config(tmp_path)), "--out", str(tmp_path), *extra])
    assert result.exit_code == code
    assert message in result.output


def test_a_config_that_does_not_evolve_is_a_clear_error(tmp_path: Path) -> None:
    cfg = _config(tmp_path, agents=[{"kind": "buy-and-hold"}])
    result = runner.invoke(app, ["evolve", str(cfg), "--out", str(tmp_path / "runs")])
    assert result.exit_code == 2  # a config error is bad input (docs/cli.md)
    assert result.stderr.startswith("error: islands need an evolving group")
    missing = runner.invoke(app, ["evolve", str(tmp_path / "nope.toml")])
    assert missing.exit_code == 2 and "config file not found" in missing.stderr


def test_an_evolve_id_too_long_for_its_islands_is_refused_before_any_directory(
    tmp_path: Path,
) -> None:
    out, evolve_id = tmp_path / "runs", "e" * 125  # a valid run id; "<id>-island-1" is not
    args = ["evolve", str(_config(tmp_path)), "--out", str(out), "--evolve-id", evolve_id]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    # it named a run id the user never gave ("run id: 134 characters") and left the
    # evolve directory behind
    assert result.stderr.startswith("error: --evolve-id: 125 characters leave no room")
    assert "at most 119 with 2 islands" in result.stderr
    assert not (out / evolve_id).exists()
