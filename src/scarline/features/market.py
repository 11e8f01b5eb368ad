"""Build the causal feature table of a market: price features plus exogenous columns."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from scarline.features.config import FeatureConfig
from scarline.features.normalize import normalize, prior_count
from scarline.features.price import log_prices, log_return, momentum, rsi, volatility
from scarline.features.table import FeatureTable
from scarline.market.frame import MarketData

EXOG_PREFIX = "exog:"


def feature_names(cfg: FeatureConfig, exog_names: Sequence[str] = ()) -> list[str]:
    """Column names in table order, known before any data (the observation width)."""
    names = [f"ret_{k}" for k in cfg.return_windows]
    names += [f"vol_{k}" for k in cfg.vol_windows]
    names += [f"mom_{k}" for k in cfg.momentum_windows]
    names += [f"rsi_{k}" for k in cfg.rsi_windows]
    if cfg.include_exog:
        names += [EXOG_PREFIX + n for n in exog_names]
    return names


def raw_features(market: MarketData, cfg: FeatureConfig) -> np.ndarray:
    """``float64[T, M, F]`` before normalization, NaN where a feature is undefined."""
    prices = market.prices("close")
    log_p = log_prices(prices)
    close = np.where(np.isnan(log_p), np.nan, prices)
    columns = [log_return(log_p, k) for k in cfg.return_windows]
    columns += [volatility(log_p, k) for k in cfg.vol_windows]
    columns += [momentum(close, k) for k in cfg.momentum_windows]
    columns += [rsi(close, k) for k in cfg.rsi_windows]
    if cfg.include_exog:
        exog = np.where(market.valid[:, :, None], market.exog, np.nan)
        columns += [np.where(np.isfinite(c), c, np.nan) for c in np.moveaxis(exog, -1, 0)]
    t, m = market.n_steps, market.n_instruments
    if not columns:
        return np.zeros((t, m, 0))
    return np.stack(columns, axis=-1)


def market_features(market: MarketData, cfg: FeatureConfig) -> FeatureTable:
    """The table agents observe: each raw feature normalized causally, 0 where not ready.

    A value is ready when its raw feature is defined and (unless ``normalize == "none"``)
    the normalizer has seen ``norm_warmup`` earlier values of that instrument's feature.
    """
    raw = raw_features(market, cfg)
    z = normalize(raw, cfg.normalize, cfg.norm_halflife, cfg.norm_warmup, cfg.clip)
    ready = ~np.isnan(raw)
    if cfg.normalize != "none":
        ready &= prior_count(raw) >= cfg.norm_warmup
    values = np.where(ready, z, 0.0).astype(np.float32)
    return FeatureTable(values=values, ready=ready, names=feature_names(cfg, market.exog_names))
