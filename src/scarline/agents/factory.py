"""Builds the configured agent population for a market."""

from __future__ import annotations

from scarline.agents.policy import Policy
from scarline.agents.sma import SmaCrossover, crossover_pairs
from scarline.config import RunConfig
from scarline.errors import ConfigError
from scarline.market.frame import MarketData


def build_policy(config: RunConfig, market: MarketData) -> Policy:
    spec = config.agents
    pairs = crossover_pairs(spec.fast, spec.slow)
    if not pairs:
        raise ConfigError(
            f"agents: no (fast, slow) pair with fast < slow in fast={spec.fast}, slow={spec.slow}"
        )
    return SmaCrossover(market, pairs, order_qty=spec.order_qty)
