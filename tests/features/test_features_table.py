"""The feature table's contract: float32, NaN-free, read-only, named, looked up by t."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from pydantic import ValidationError

from scarline.features import FeatureConfig, FeatureTable, feature_names, market_features
from scarline.market.synthetic import SynthSpec, generate

MARKET = generate(SynthSpec(n_steps=400, n_instruments=3, seed=9, planted_ic=0.1, labels=True))


def _gappy():
    valid = MARKET.valid.copy()
    valid[np.random.default_rng(0).random(valid.shape) < 0.05] = False
    exog = MARKET.exog.copy()
    exog[7, 0, 0] = np.nan
    return dataclasses.replace(MARKET, valid=valid, exog=exog)


@pytest.mark.parametrize("method", ["ewma", "expanding", "none"])
def test_values_are_float32_finite_and_zero_where_not_ready(method: str) -> None:
    table = market_features(_gappy(), FeatureConfig(normalize=method))
    assert table.values.dtype == np.float32 and table.ready.dtype == np.bool_
    assert table.values.shape == (400, 3, 10) == table.ready.shape
    assert np.isfinite(table.values).all()
    assert (table.values[~table.ready] == 0).all()
    assert (np.abs(table.values) <= 5.0).all()
    assert table.ready[~_gappy().valid].sum() == 0, "no bar, no ready feature"


def test_names_rows_and_read_only() -> None:
    cfg = FeatureConfig()
    table = market_features(MARKET, cfg)
    assert table.names == feature_names(cfg, MARKET.exog_names)
    assert table.names[-2:] == ["exog:signal", "exog:regime"]
    assert table.n_steps == 400 and table.n_features == 10
    row = table.row(250)
    assert row.shape == (3, 10) and row.dtype == np.float32
    assert np.array_equal(row, table.values[250])
    with pytest.raises(ValueError):
        row[0, 0] = 1.0
    assert table.index("rsi_14") == 7
    with pytest.raises(KeyError, match="no feature 'rsi_2'"):
        table.index("rsi_2")


def test_exog_can_be_left_out_and_late_rows_are_ready() -> None:
    table = market_features(MARKET, FeatureConfig(include_exog=False))
    expected = ["ret_1", "ret_5", "ret_20", "vol_20", "vol_60", "mom_20", "mom_60", "rsi_14"]
    assert table.names == expected
    # vol_60 is defined from bar 60, then the normalizer needs 20 earlier values.
    assert table.ready[80:].all() and not table.ready[79, :, table.index("vol_60")].any()


def test_table_rejects_bad_arrays() -> None:
    ok = np.zeros((2, 1, 1), dtype=np.float32)
    ready = np.zeros((2, 1, 1), dtype=bool)
    with pytest.raises(ValueError, match="float32"):
        FeatureTable(values=ok.astype(np.float64), ready=ready, names=["a"])
    with pytest.raises(ValueError, match="unique names"):
        FeatureTable(values=ok, ready=ready, names=["a", "b"])
    with pytest.raises(ValueError, match="finite"):
        FeatureTable(values=np.full((2, 1, 1), np.nan, dtype=np.float32), ready=ready, names=["a"])


@pytest.mark.parametrize(
    "bad",
    [
        {"vol_windows": [1]},
        {"rsi_windows": [14, 14]},
        {"normalize": "minmax"},
        {"clip": 0.0},
        {"norm_halflife": 0},
        {"lookahead": True},
    ],
)
def test_config_rejects_bad_values(bad: dict) -> None:
    with pytest.raises(ValidationError):
        FeatureConfig(**bad)
