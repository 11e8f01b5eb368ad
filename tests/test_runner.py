"""End-to-end: run writes the run directory; replay reproduces it from the WAL alone."""

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest

from scarline.config import RunConfig, config_hash, load_config
from scarline.errors import ScarlineError
from scarline.journal import read_records, verify
from scarline.market.io import write_market
from scarline.market.synthetic import SynthSpec, generate
from scarline.replayer import replay_run
from scarline.runner import execute_run

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sp500_run(tmp_path_factory: pytest.TempPathFactory):
    cfg = load_config(ROOT / "configs" / "default.toml")
    return cfg, execute_run(cfg, run_id="sp500-test", out_dir=tmp_path_factory.mktemp("runs"))


def test_run_directory_is_complete(sp500_run) -> None:
    cfg, summary = sp500_run
    run_dir = summary.run_dir
    assert {"config.toml", "wal", "manifest.json", "session.json"} <= {
        p.name for p in run_dir.iterdir()
    }
    manifest = msgspec.json.decode((run_dir / "manifest.json").read_bytes())
    for key in (
        "config_hash",
        "code_hash",
        "seed",
        "schema_version",
        "wal_segments",
        "wal_head",
        "decision_trace_hash",
        "gate_report_sha256",
    ):
        assert key in manifest
    assert manifest["config_hash"] == config_hash(cfg)
    assert manifest["wal_head"] == summary.wal_head
    assert manifest["wal_segments"][0]["name"] == "000000.jsonl"
    session = msgspec.json.decode((run_dir / "session.json").read_bytes())
    assert session["universe"] == "sp500"
    assert session["rows"] == 5031
    assert session["schema_versions"]["events"] >= 1
    assert verify(run_dir / "wal", summary.run_id, expected_head=summary.wal_head).ok


def test_wal_holds_every_bar_and_decision(sp500_run) -> None:
    _, summary = sp500_run
    kinds: dict[str, int] = {}
    for rec in read_records(summary.run_dir / "wal"):
        kinds[rec.kind] = kinds.get(rec.kind, 0) + 1
    assert kinds["SessionStart"] == kinds["SessionEnd"] == 1
    assert kinds["Bar"] == kinds["Decision"] == 5031
    assert kinds["Orders"] == kinds["RiskChecks"] > 0  # every routed step is checked first
    assert kinds["Fills"] > 0
    # 9 SMA pairs, buy-and-hold, 3 momentum, 2 mean-reversion, 8 random-entry placebos
    assert summary.n_agents == 9 + 1 + 3 + 2 + 8


def test_replay_has_parity_on_sp500(sp500_run) -> None:
    _, summary = sp500_run
    result = replay_run(summary.run_dir)
    assert result.parity
    assert result.replayed == summary.decision_trace_hash
    assert result.wal_head_replayed == summary.wal_head  # every journaled event matches


def test_same_inputs_write_byte_identical_wals(tmp_path: Path) -> None:
    cfg = RunConfig().with_overrides(**{"data.end": "2001-12-31"})
    a = execute_run(cfg, run_id="same", out_dir=tmp_path / "a")
    b = execute_run(cfg, run_id="same", out_dir=tmp_path / "b")
    seg_a = sorted((a.run_dir / "wal").iterdir())
    seg_b = sorted((b.run_dir / "wal").iterdir())
    assert [p.read_bytes() for p in seg_a] == [p.read_bytes() for p in seg_b]


def test_existing_run_dir_is_never_overwritten(tmp_path: Path) -> None:
    cfg = RunConfig().with_overrides(**{"data.end": "1999-03-31"})
    first = execute_run(cfg, run_id="once", out_dir=tmp_path)
    before = (first.run_dir / "manifest.json").read_bytes()
    with pytest.raises(ScarlineError, match="already exists"):
        execute_run(cfg, run_id="once", out_dir=tmp_path)
    assert (first.run_dir / "manifest.json").read_bytes() == before


def test_a_generated_id_taken_in_the_same_second_gets_a_suffix(tmp_path: Path) -> None:
    cfg = RunConfig().with_overrides(**{"data.end": "1999-03-31"})
    now = datetime(2026, 12, 7, 15, 0, 0, tzinfo=UTC)
    first = execute_run(cfg, out_dir=tmp_path, now=now)
    second = execute_run(cfg, out_dir=tmp_path, now=now)
    third = execute_run(cfg, out_dir=tmp_path, now=now)
    assert second.run_dir.name == f"{first.run_dir.name}-2"
    assert third.run_dir.name == f"{first.run_dir.name}-3"
    assert replay_run(second.run_dir).parity  # its own id, journaled


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"profile": "paper"}, "profile"),
        ({"live": {"feed": "ccxt", "exchange": "binance", "symbols": ["BTC/USDT"]}}, "live"),
    ],
)
def test_a_paper_sessions_config_is_not_backtested(
    tmp_path: Path, overrides: dict[str, object], field: str
) -> None:
    """Recorded as a paper session, or annualized 24/7 by a feed it never reads: refused
    before any run directory exists."""
    cfg = RunConfig().with_overrides(**{"data.end": "1999-03-31", **overrides})
    with pytest.raises(ScarlineError, match=f"^{field}: .*scarline paper"):
        execute_run(cfg, out_dir=tmp_path)
    assert not any(tmp_path.iterdir())


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_replay_has_parity_on_a_synthetic_market(tmp_path: Path, suffix: str) -> None:
    """Several instruments, L1 quotes and a planted exogenous column all survive the WAL."""
    spec = SynthSpec(n_steps=600, n_instruments=3, seed=11, quotes=True, planted_ic=0.1)
    path = write_market(generate(spec), tmp_path / f"synth{suffix}")
    cfg = RunConfig().with_overrides(**{"data.source": str(path), "agents.0.fast": [3, 5]})
    summary = execute_run(cfg, run_id="synth", out_dir=tmp_path / "runs")
    kinds = {rec.kind for rec in read_records(summary.run_dir / "wal", limit=20)}
    assert {"Bar", "Quote", "Decision"} <= kinds
    start = next(read_records(summary.run_dir / "wal", kinds=("SessionStart",))).data
    assert start.exog_names == ["signal"] and len(start.instruments) == 3
    result = replay_run(summary.run_dir)
    assert result.parity and result.wal_head_replayed == summary.wal_head


@pytest.mark.slow
def test_replay_has_parity_on_twenty_stocks(tmp_path: Path) -> None:
    """sp500-20 has stocks with missing early bars: the valid mask must survive the WAL."""
    cfg = RunConfig().with_overrides(**{"data.source": "sp500-20", "data.start": "2015-01-01"})
    summary = execute_run(cfg, run_id="twenty", out_dir=tmp_path)
    assert replay_run(summary.run_dir).parity


def test_replay_survives_a_config_model_that_grew(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A later version adds a config field whose default keeps the old behaviour: today's
    canonical form of the recorded config changes, its decisions do not. The replay still
    has parity (it journals the recorded config hash) and the snapshot still matches (the
    run kept the canonical bytes it hashed, config.json)."""
    import scarline.config as config_module

    data = write_market(
        generate(SynthSpec(n_steps=120, n_instruments=2, seed=4)), tmp_path / "m.csv"
    )
    cfg = RunConfig(data={"source": str(data)}, report=False)
    run = execute_run(cfg, run_id="grown", out_dir=tmp_path / "runs")
    recorded = (run.run_dir / "config.json").read_bytes()
    assert config_hash(cfg) == run.config_hash == hashlib.sha256(recorded).hexdigest()

    original = config_module.canonical_json

    def grown(config: RunConfig) -> bytes:  # the same config, one new defaulted field
        return json.dumps(
            {**json.loads(original(config)), "new_field": 1}, sort_keys=True, separators=(",", ":")
        ).encode()

    monkeypatch.setattr(config_module, "canonical_json", grown)
    assert config_hash(cfg) != run.config_hash  # today's form of the same config moved
    result = replay_run(run.run_dir)
    assert result.parity and result.config_matches_manifest, result.describe()

    # an edited snapshot is caught even when the edit changes no decision
    snapshot = run.run_dir / "config.toml"
    snapshot.write_text(snapshot.read_text().replace("report = false", "report = true"))
    edited = replay_run(run.run_dir)
    assert edited.parity and not edited.config_matches_manifest
    # and a run without config.json (written before it existed) falls back to today's form
    snapshot.write_text(snapshot.read_text().replace("report = true", "report = false"))
    (run.run_dir / "config.json").unlink()
    assert not replay_run(run.run_dir).config_matches_manifest
    monkeypatch.setattr(config_module, "canonical_json", original)
    assert replay_run(run.run_dir).config_matches_manifest


def test_a_lot_finer_than_a_cash_unit_is_a_config_error_naming_the_symbol(
    tmp_path: Path,
) -> None:
    """Before, the run failed at the kernel's unit values: an internal error, exit 1."""
    from scarline.errors import ConfigError
    from scarline.runner import load_run_market

    data = tmp_path / "m.csv"
    write_market(generate(SynthSpec(n_steps=20, n_instruments=2, seed=1)), data)
    fine = RunConfig.model_validate(
        {"data": {"source": str(data), "lot_sizes": {"SYN1": "0.000000001"}}}
    )
    with pytest.raises(ConfigError, match=r"data\.lot_sizes: 'SYN1': tick 0\.01 x lot 0\.0+1 is"):
        load_run_market(fine)
    ok = fine.with_overrides(**{"data.lot_sizes": {"SYN1": "0.000001"}})
    assert load_run_market(ok).instruments[1].lot_size == "0.000001"


def test_a_participation_cap_on_data_without_volume_is_refused(tmp_path: Path) -> None:
    """Before, every order was rejected ``no_liquidity``: the run never traded, exit 0."""
    import pandas as pd

    from scarline.errors import ConfigError

    data = tmp_path / "m.csv"
    write_market(generate(SynthSpec(n_steps=20, n_instruments=1, seed=1)), data)
    frame = pd.read_csv(data)
    frame.drop(columns="volume").to_csv(data, index=False)
    cfg = RunConfig.model_validate(
        {
            "data": {"source": str(data)},
            "agents": [{"kind": "buy-and-hold"}],
            "execution": {"fill": {"participation_rate": 0.1}},
            "report": False,
        }
    )
    runs = tmp_path / "runs"
    with pytest.raises(ConfigError, match=r"participation_rate = 0\.1, but .*m\.csv has no volume"):
        execute_run(cfg, run_id="capped", out_dir=runs)
    assert not (runs / "capped").exists()
    free = cfg.with_overrides(**{"execution.fill.participation_rate": None})
    summary = execute_run(free, run_id="free", out_dir=runs)
    assert summary.agents()[0]["trades"] == 1
