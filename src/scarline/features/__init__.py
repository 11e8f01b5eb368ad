"""Causal features: the shared market part of every agent's observation.

A value at bar t uses data up to t only (tests prove it for every feature by truncation).
"""

from scarline.features.config import FeatureConfig
from scarline.features.market import feature_names, market_features, raw_features
from scarline.features.normalize import (
    causal_moments,
    causal_zscore,
    expanding_zscore,
    normalize,
)
from scarline.features.table import FeatureTable

__all__ = [
    "FeatureConfig",
    "FeatureTable",
    "causal_moments",
    "causal_zscore",
    "expanding_zscore",
    "feature_names",
    "market_features",
    "normalize",
    "raw_features",
]
