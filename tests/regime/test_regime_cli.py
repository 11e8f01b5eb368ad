"""``scarline regimes`` as a user meets it: JSON with a label per bar, a table, clean errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scarline.cli import app
from scarline.market.io import write_market
from scarline.market.synthetic import generate
from scarline.regime import REGIME_NAMES

runner = CliRunner()
SMALL = ["--min-history", "100", "--refit-every", "100", "--window", "300"]


@pytest.fixture(scope="module")
def market_csv(tmp_path_factory, sticky_spec) -> Path:
    """One instrument, 600 bars: one CSV row per bar."""
    path = tmp_path_factory.mktemp("regimes") / "syn.csv"
    write_market(generate(sticky_spec(n_steps=600, n_instruments=1)), path)
    return path


def _invoke(*args: str):
    return runner.invoke(app, ["regimes", *args])


def test_json_has_one_label_per_input_row(market_csv: Path) -> None:
    result = _invoke(str(market_csv), "--json", *SMALL)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    n_rows = len(market_csv.read_text().splitlines()) - 1  # minus the header
    assert out["source"] == str(market_csv) and out["n_bars"] == n_rows == 600
    assert len(out["labels"]) == len(out["confidence"]) == n_rows
    assert set(out["labels"]) <= set(REGIME_NAMES) and out["labels"][:100] == ["calm"] * 100
    assert out["confidence"][:100] == [0.0] * 100
    assert out["fits"] == 5  # bars 100, 200, ..., 500
    assert list(out["states"]) == list(REGIME_NAMES)
    for moments in out["states"].values():
        assert len(moments["mean"]) == len(moments["variance"]) == len(out["features"])
    changes = [t for t in range(1, n_rows) if out["labels"][t] != out["labels"][t - 1]]
    assert [tr["step"] for tr in out["transitions"]] == changes
    for tr in out["transitions"]:
        assert out["labels"][tr["step"]] == tr["to"] and out["labels"][tr["step"] - 1] == tr["from"]
        assert tr["confidence"] >= 0.6 and tr["timestamp"].startswith("20")


def test_the_table_shows_each_regime_share(market_csv: Path) -> None:
    result = _invoke(str(market_csv), *SMALL, "--hysteresis", "5", "--confidence", "0.8")
    assert result.exit_code == 0, result.output
    for name in REGIME_NAMES:
        assert name in result.stdout
    assert "transitions" in result.stdout and "%" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.csv"], "missing.csv: no such file"),
        (["no-such-dataset"], "neither a dataset"),
        (["{csv}", "--confidence", "0.4"], "--confidence"),
        (["{csv}", "--hysteresis", "0"], "--hysteresis"),
        (["{csv}", "--min-history", "600"], "need more than --min-history 600"),
    ],
)
def test_bad_input_is_one_error_line_and_a_non_zero_exit(
    market_csv: Path, args: list[str], message: str
) -> None:
    result = _invoke(*[a.replace("{csv}", str(market_csv)) for a in args])
    assert result.exit_code != 0
    assert result.stderr.startswith("error:") and message in result.stderr
    assert "Traceback" not in result.output and result.stdout == ""


def test_an_unparsable_file_is_a_clean_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("timestamp,close\n2020-01-01,10\n2020-01-02,abc\n")
    result = _invoke(str(path), "--json")
    assert (
        result.exit_code == 2 and result.stderr.startswith("error:") and "bad.csv" in result.stderr
    )
