"""A run's input passes G0 before its first step, run ids stay inside --out, numbers are
bounded, memory is checked before allocation, and an unexpected error is one line (its
traceback in RUN_DIR/error.log). Issue 15, findings 5 to 7."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import msgspec
import pytest
import tomli_w
from typer.testing import CliRunner
from wal_attack import rechain

from scarline.agents.memory import PRIVATE_FEATURES, check_memory
from scarline.cli import app
from scarline.config import RunConfig, load_config
from scarline.errors import ConfigError, WalError
from scarline.events import Bar, DataWarnings
from scarline.journal import read_records
from scarline.journal.format import Envelope
from scarline.market.admit import G0Refused
from scarline.market.io import load_market
from scarline.replayer import replay_run
from scarline.runner import create_run, execute_run
from scarline.session import RunIdError

runner = CliRunner()
HEADER = "timestamp,symbol,open,high,low,close,volume"


def _rows(n: int = 40, symbol: str = "ABC", start: int = 1) -> list[list[str]]:
    rows = []
    for i in range(n):
        close = 100 + (i * 7 % 5) - 2 + i * 0.03
        rows.append(
            [
                f"2021-{1 + (start + i - 1) // 28:02d}-{1 + (start + i - 1) % 28:02d}",
                symbol,
                f"{close:.2f}",
                f"{close + 1:.2f}",
                f"{close - 1:.2f}",
                f"{close:.2f}",
                str(1000 + i),
            ]
        )
    return rows


def _csv(path: Path, rows: list[list[str]]) -> Path:
    path.write_text("\n".join([HEADER, *(",".join(r) for r in rows)]) + "\n", encoding="utf-8")
    return path


def _config(tmp: Path, data: Path, **extra: object) -> Path:
    doc: dict[str, object] = {
        "report": False,
        "data": {"source": str(data)},
        "agents": [{"kind": "sma-crossover", "fast": [3], "slow": [8]}],
    }
    for key, value in extra.items():
        node = doc
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})  # type: ignore[assignment]
        node[leaf] = value  # type: ignore[index]
    path = tmp / "run.toml"
    path.write_text(tomli_w.dumps(doc), encoding="utf-8")
    return path


def _run(config: Path, out: Path, *extra: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["run", "-c", str(config), "--out", str(out), *extra])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.stdout, result.stderr


# --- G0 before the first step ---------------------------------------------------------------


def test_g0_errors_refuse_the_run_with_the_findings_and_no_run_dir(tmp_path: Path) -> None:
    rows = _rows()
    rows[5][5] = "-1"  # a negative close
    rows[9][0] = rows[8][0]  # a duplicate timestamp
    data = _csv(tmp_path / "bad.csv", rows)
    code, _, err = _run(_config(tmp_path, data), tmp_path / "runs", "--run-id", "r")
    assert code == 2
    lines = err.splitlines()
    assert lines[0].startswith(f"error: {data}: G0 DataTruth refuses the run: 3 errors")
    assert any("non_positive_price" in x and "line 7" in x and "column close" in x for x in lines)
    assert any("duplicate_timestamp" in x and "line 11" in x for x in lines)
    assert not (tmp_path / "runs").exists()
    # there is no switch for errors
    code, _, _ = _run(_config(tmp_path, data), tmp_path / "runs", "--allow-data-warnings")
    assert code == 2 and not (tmp_path / "runs").exists()


def test_warnings_are_printed_journaled_and_replayed(tmp_path: Path) -> None:
    rows = _rows()
    for row in rows[20:32]:  # twelve equal closes: a stale_close warning
        row[2:6] = ["100.00", "100.50", "99.50", "100.00"]
    data = _csv(tmp_path / "stale.csv", rows)
    code, _, err = _run(_config(tmp_path, data), tmp_path / "runs", "--run-id", "w")
    assert code == 0, err
    assert "warning:" in err and "stale_close" in err and "DataWarnings" in err
    run_dir = tmp_path / "runs" / "w"
    records = list(read_records(run_dir / "wal", kinds=("SessionStart", "DataWarnings")))
    assert [r.seq for r in records] == [0, 1]  # right after the session start
    warned = records[1].data
    assert isinstance(warned, DataWarnings)
    assert warned.check == ["stale_close"] and warned.line == [22] and warned.allowed == []
    assert replay_run(run_dir).parity


def test_refused_warnings_need_allow_data_warnings(tmp_path: Path) -> None:
    rows = _rows()
    for row in rows[20:32]:
        row[2:6] = ["100.00", "100.50", "99.50", "100.00"]
    data = _csv(tmp_path / "stale.csv", rows)
    config = _config(tmp_path, data, **{"data.g0": {"refuse_warnings": ["stale_close"]}})
    code, _, err = _run(config, tmp_path / "runs", "--run-id", "x")
    assert code == 2 and "--allow-data-warnings" in err and "stale_close" in err
    assert not (tmp_path / "runs").exists()
    code, _, err = _run(config, tmp_path / "runs", "--run-id", "x", "--allow-data-warnings")
    assert code == 0, err
    (warned,) = (r.data for r in read_records(tmp_path / "runs/x/wal", kinds=("DataWarnings",)))
    assert isinstance(warned, DataWarnings) and warned.allowed == ["stale_close"]


def test_g0_checks_only_the_rows_the_run_trades(tmp_path: Path) -> None:
    rows = _rows()
    rows[2][5] = "nan"  # before data.start
    data = _csv(tmp_path / "early.csv", rows)
    config = _config(tmp_path, data, **{"data.start": "2021-01-10"})
    code, _, err = _run(config, tmp_path / "runs", "--run-id", "late")
    assert code == 0, err
    code, _, _ = _run(_config(tmp_path, data), tmp_path / "runs", "--run-id", "all")
    assert code == 2


def test_a_missing_price_is_stepped_alike_by_run_and_replay(tmp_path: Path) -> None:
    """Finding 5: a bar with a missing price used to be a step of the run (with no Bar in
    the WAL) but not of the replay, shifting every later record (exit 3). Both now step
    only rows with a bar; `scarline run` refuses such a file anyway (G0)."""
    rows = _rows()
    rows[20][5] = ""
    data = _csv(tmp_path / "missing.csv", rows)
    config = load_config(_config(tmp_path, data))
    with pytest.raises(G0Refused, match="missing_value"):
        execute_run(config, run_id="refused", out_dir=tmp_path / "runs")
    run = create_run(config, run_id="api", out_dir=tmp_path / "runs")  # no admission
    summary = run.close(run.kernel.run())
    assert summary.steps == 39
    assert replay_run(summary.run_dir).parity


def test_a_symbol_subset_with_times_of_its_own_replays(tmp_path: Path) -> None:
    """The same root cause: times only another symbol has became steps without a bar."""
    rows = _rows(40, "ABC") + _rows(10, "XYZ", start=41)
    data = _csv(tmp_path / "two.csv", rows)
    config = load_config(_config(tmp_path, data, **{"data.symbols": ["ABC"]}))
    summary = execute_run(config, run_id="sub", out_dir=tmp_path / "runs")
    assert summary.steps == 40
    assert replay_run(summary.run_dir).parity


# --- run ids, paths, bounds -----------------------------------------------------------------

TRAVERSALS = ["../../x", "..", "/tmp/abs-run", "a/b/c", "a\nb", "x" * 300, ".x", "a..b", ""]


@pytest.mark.parametrize("run_id", TRAVERSALS)
def test_unsafe_run_ids_are_refused_before_anything_is_written(run_id: str, tmp_path: Path) -> None:
    data = _csv(tmp_path / "ok.csv", _rows())
    out = tmp_path / "deep" / "runs"
    code, _, err = _run(_config(tmp_path, data), out, "--run-id", run_id)
    assert code == 2 and err.startswith("error: run id"), err
    assert not (tmp_path / "deep").exists() and not Path("/tmp/abs-run").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok.csv", "run.toml"]
    with pytest.raises(RunIdError):
        create_run(load_config(tmp_path / "run.toml"), run_id=run_id, out_dir=out)
    assert not (tmp_path / "deep").exists()


def test_a_run_dir_that_links_outside_out_is_refused(tmp_path: Path) -> None:
    data = _csv(tmp_path / "ok.csv", _rows())
    (tmp_path / "runs").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "runs" / "link").symlink_to(tmp_path / "elsewhere")
    code, _, err = _run(_config(tmp_path, data), tmp_path / "runs", "--run-id", "link")
    assert code == 2 and "outside" in err
    assert not any((tmp_path / "elsewhere").iterdir())


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("seed", -1, "greater than or equal to 0"),
        ("seed", 2**63, "less than or equal to 9223372036854775807"),
        ("accounts.initial_cash", 1e300, "less than or equal to 10000000000"),
        ("accounts.initial_cash", float("inf"), "finite number"),
        ("data.tick_size", "0.000000001", "finer than one cash unit"),
        ("data.start", "3000-01-01", "outside the supported range"),
        ("data.end", "0001-01-01", "outside the supported range"),
        ("execution.fees.minimum", 1e300, "less than or equal to"),
        ("risk.max_notional", float("nan"), "finite number"),
        ("wal.fsync_every", 2**70, "does not fit in a 64-bit integer"),
    ],
)
def test_config_numbers_are_bounded(key: str, value: object, message: str) -> None:
    raw: dict[str, object] = {}
    node = raw
    *parents, leaf = key.split(".")
    for part in parents:
        node = node.setdefault(part, {})  # type: ignore[assignment]
    node[leaf] = value
    with pytest.raises(Exception, match=message):
        RunConfig.model_validate(raw)


def test_prices_finer_than_a_cash_unit_need_a_tick_size(tmp_path: Path) -> None:
    rows = _rows()
    for row in rows:
        row[2:6] = [f"{float(x) + 0.000000001:.9f}" for x in row[2:6]]
    data = _csv(tmp_path / "fine.csv", rows)
    code, _, err = _run(_config(tmp_path, data), tmp_path / "runs", "--run-id", "fine")
    assert code == 2 and "finer than one cash unit" in err and "data.tick_size" in err, err
    assert not (tmp_path / "runs").exists()
    config = _config(tmp_path, data, **{"data.tick_size": "0.000001"})
    code, _, err = _run(config, tmp_path / "runs", "--run-id", "fine")
    assert code == 0, err


def test_windows_must_be_at_least_one() -> None:
    with pytest.raises(Exception, match="greater than or equal to 1"):
        RunConfig.model_validate({"agents": [{"kind": "sma-crossover", "fast": [0]}]})


def test_memory_is_checked_before_allocation(tmp_path: Path) -> None:
    data = _csv(tmp_path / "ok.csv", _rows())
    market = load_market(data)
    huge = RunConfig.model_validate({"agents": [{"kind": "random-entry", "count": 10**9}]})
    with pytest.raises(ConfigError, match=r"needs about .* GiB of memory .* is available"):
        check_memory(huge.agents, market, available=8 * 2**30)
    wide = {"kind": "q-network", "count": 256, "qnet": {"hidden": [10**8]}}
    with pytest.raises(ConfigError, match="agents\\[0\\] networks"):
        check_memory(RunConfig.model_validate({"agents": [wide]}).agents, market)
    small = check_memory(RunConfig().agents, market, available=2**30)
    assert 0 < small.total < 2**20
    for agents in ({"kind": "random-entry", "count": 10**9}, wide):
        config = _config(tmp_path, data)
        doc = json.loads(json.dumps(load_config(config).model_dump(mode="json")))
        doc["agents"] = [agents]
        config.write_text(tomli_w.dumps(_drop_none(doc)), encoding="utf-8")
        code, _, err = _run(config, tmp_path / "runs", "--run-id", "big")
        assert code == 2 and "of memory" in err and "is available" in err, err
        assert not (tmp_path / "runs").exists()


def _drop_none(node: object) -> object:
    if isinstance(node, dict):
        return {k: _drop_none(v) for k, v in node.items() if v is not None}
    if isinstance(node, list):
        return [_drop_none(v) for v in node]
    return node


def test_the_private_feature_count_is_the_agents() -> None:
    from scarline.agents.qagents import PRIVATE

    assert len(PRIVATE) == PRIVATE_FEATURES


# --- errors reaching the CLI ----------------------------------------------------------------


def test_an_unexpected_error_is_one_line_with_its_traceback_in_error_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from scarline.kernel import Kernel

    def boom(self: Kernel, t: int) -> None:
        raise RuntimeError(f"boom at step {t}")

    monkeypatch.setattr(Kernel, "step", boom)
    data = _csv(tmp_path / "ok.csv", _rows())
    code, out, err = _run(_config(tmp_path, data), tmp_path / "runs", "--run-id", "crash")
    log = tmp_path / "runs" / "crash" / "error.log"
    assert code == 1
    assert err.splitlines() == [
        f"error: internal error (RuntimeError: boom at step 0); traceback in {log}"
    ]
    assert "Traceback" not in out + err
    text = log.read_text(encoding="utf-8")
    assert text.startswith("Traceback") and "boom at step 0" in text


def test_a_full_disk_is_one_line_naming_the_run_not_an_internal_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC while the run writes (its WAL, a parquet file) carries no file name: it was
    reported as ``internal error (OSError: [Errno 28] …)``, as if scarline had a bug."""
    from scarline.kernel import Kernel

    def full(self: Kernel, t: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Kernel, "step", full)
    data = _csv(tmp_path / "ok.csv", _rows())
    code, out, err = _run(_config(tmp_path, data), tmp_path / "runs", "--run-id", "full")
    run_dir = tmp_path / "runs" / "full"
    assert code == 1 and out == ""
    assert err.splitlines() == [
        f"error: {run_dir}: no space left on device while writing the run (what was "
        f"journaled is kept; once there is room, `scarline wal seal {run_dir}` finishes the run)"
    ]
    assert not (run_dir / "error.log").exists()  # not a bug: no traceback to keep


def test_a_chain_valid_wal_with_an_instrument_out_of_range_is_a_clear_error(
    tmp_path: Path,
) -> None:
    data = _csv(tmp_path / "ok.csv", _rows())
    summary = execute_run(load_config(_config(tmp_path, data)), run_id="r", out_dir=tmp_path)
    run_dir = summary.run_dir
    first_bar = next(r for r in read_records(run_dir / "wal", kinds=("Bar",)))
    assert isinstance(first_bar.data, Bar)
    forged = msgspec.structs.replace(first_bar.data, instrument=7)
    edited = msgspec.json.encode(Envelope(first_bar.seq, first_bar.ts, "Bar", forged))
    rechain(run_dir, first_bar.seq, edited)
    (run_dir / "manifest.sig").unlink()  # the chain holds; an attacker drops the signature
    assert runner.invoke(app, ["wal", "verify", str(run_dir)]).exit_code == 0
    with pytest.raises(WalError, match="names instrument 7, but its SessionStart lists 1"):
        replay_run(run_dir)
    result = runner.invoke(app, ["replay", str(run_dir)])
    assert result.exit_code == 1 and "names instrument 7" in result.stderr
    assert "Traceback" not in result.output and "internal error" not in result.output
