"""Risk configuration: pre-trade limits, the WARN → THROTTLE → HALT ladder, the kill switch.

Every limit is per agent and ``None`` switches it off, and every ladder threshold defaults
to ``None``: a plain backtest with ``RiskConfig()`` trades exactly as it would without a
risk engine (only the sanity rule ``no_price`` is always on). Percentages are percent
(``25.0`` = 25 %), money is in currency units (converted to int cash units inside).
"""

from __future__ import annotations

from itertools import pairwise

from pydantic import Field, model_validator

from scarline.execution.types import MAX_MONEY
from scarline.strict import Strict as _Strict


def _ordered(names: tuple[str, ...], values: tuple[float | int | None, ...]) -> None:
    """Thresholds that are set must not decrease from WARN to THROTTLE to HALT."""
    pairs = [(n, v) for n, v in zip(names, values, strict=True) if v is not None]
    for (n1, v1), (n2, v2) in pairwise(pairs):
        if v2 < v1:
            raise ValueError(f"{n2} ({v2}) must be >= {n1} ({v1})")


class LadderConfig(_Strict):
    """Per-agent (and population) escalation NORMAL → WARN → THROTTLE → HALT.

    A level is reached when the drawdown from peak equity (percent) or the number of the
    agent's breaches (rejected or throttled intents, see ``codes.BREACH_RULES``) within the
    last ``breach_window_steps`` steps reaches its threshold. HALT is sticky for the run;
    WARN and THROTTLE recover to the level still justified once the drawdown is at or below
    ``recover_below_pct`` (off when ``None``: the ladder then only escalates).
    """

    warn_drawdown_pct: float | None = Field(
        default=None, gt=0.0, le=100.0, description="drawdown % for WARN (logged only)"
    )
    throttle_drawdown_pct: float | None = Field(
        default=None, gt=0.0, le=100.0, description="drawdown % for THROTTLE"
    )
    halt_drawdown_pct: float | None = Field(
        default=None, gt=0.0, le=100.0, description="drawdown % for HALT (reducing orders only)"
    )
    throttle_scale: float = Field(
        default=0.5, gt=0.0, le=1.0, description="THROTTLE: opening qty x this, rounded down"
    )
    breach_warn: int | None = Field(default=None, ge=1, description="breaches in the window: WARN")
    breach_throttle: int | None = Field(
        default=None, ge=1, description="breaches in the window: THROTTLE"
    )
    breach_halt: int | None = Field(default=None, ge=1, description="breaches in the window: HALT")
    breach_window_steps: int = Field(
        default=20, ge=1, description="the breach window: steps (t - W, t]"
    )
    recover_below_pct: float | None = Field(
        default=None,
        ge=0.0,
        le=100.0,
        description="WARN/THROTTLE recover at or below this drawdown % (unset: only escalation)",
    )
    global_drawdown: bool = Field(
        default=True,
        description="also run the drawdown ladder on the population's summed equity",
    )

    @model_validator(mode="after")
    def _check_order(self) -> LadderConfig:
        _ordered(
            ("warn_drawdown_pct", "throttle_drawdown_pct", "halt_drawdown_pct"),
            (self.warn_drawdown_pct, self.throttle_drawdown_pct, self.halt_drawdown_pct),
        )
        _ordered(
            ("breach_warn", "breach_throttle", "breach_halt"),
            (self.breach_warn, self.breach_throttle, self.breach_halt),
        )
        lowest = next(
            (
                v
                for v in (
                    self.warn_drawdown_pct,
                    self.throttle_drawdown_pct,
                    self.halt_drawdown_pct,
                )
                if v is not None
            ),
            None,
        )
        recover = self.recover_below_pct
        if recover is not None and lowest is not None and recover >= lowest:
            raise ValueError(
                f"recover_below_pct ({recover}) must be below the lowest "
                f"drawdown threshold ({lowest})"
            )
        return self


class MicrostructureConfig(_Strict):
    """Microstructure filters on opening orders (``docs/risk.md``); every threshold off.

    The measures come from :mod:`scarline.features.microstructure`, computed once per run;
    the quote-based ones need L1 quotes (without them their rules pass). A filter refuses
    (or, ``vpin_throttle``, scales down) orders that open or add exposure; orders that only
    reduce always pass, so a position can be closed in any market.
    """

    vpin_throttle: float | None = Field(
        default=None, ge=0.0, le=1.0, description="VPIN-lite above it: opening qty x factor"
    )
    vpin_block: float | None = Field(
        default=None, ge=0.0, le=1.0, description="VPIN-lite above it: opening orders refused"
    )
    throttle_factor: float = Field(
        default=0.5, gt=0.0, le=1.0, description="opening qty x this above vpin_throttle"
    )
    max_imbalance: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="book imbalance against the order (side x imbalance) above it: refused",
    )
    max_stale_bars: int | None = Field(
        default=None, ge=0, description="bars since the quote last changed above it: refused"
    )
    block_invalid_quotes: bool = Field(
        default=False, description="refuse opening orders on a quote with bid <= 0 or ask <= bid"
    )
    spread_shock_z: float | None = Field(
        default=None, gt=0.0, description="spread z-score vs earlier bars above it: refused"
    )
    vpin_window: int = Field(default=50, ge=1, description="bars in the VPIN-lite sum")
    vol_halflife: float = Field(
        default=20.0, gt=0.0, description="half-life (bars) of the return sigma of the BVC"
    )
    spread_halflife: float = Field(
        default=50.0, gt=0.0, description="half-life (bars) of the spread mean and std"
    )
    warmup: int = Field(
        default=20, ge=1, description="earlier returns / spreads needed before a value exists"
    )
    spread_floor_bps: float = Field(
        default=0.5, gt=0.0, description="lower bound of the spread std in the z-score, bps"
    )

    @property
    def enabled(self) -> bool:
        """Some filter is on (the kernel only computes the measures then)."""
        thresholds = (
            self.vpin_throttle,
            self.vpin_block,
            self.max_imbalance,
            self.max_stale_bars,
            self.spread_shock_z,
        )
        return self.block_invalid_quotes or any(v is not None for v in thresholds)

    @model_validator(mode="after")
    def _check_order(self) -> MicrostructureConfig:
        _ordered(("vpin_throttle", "vpin_block"), (self.vpin_throttle, self.vpin_block))
        return self


class RiskConfig(_Strict):
    """Pre-trade limits (each per agent; ``None`` = off), the ladder and the kill switch."""

    max_position_lots: int | None = Field(
        default=None, ge=0, description="|position + pending + qty| per instrument, lots"
    )
    max_notional: float | None = Field(
        default=None,
        ge=0.0,
        le=MAX_MONEY,
        description="per instrument: |exposure| x last price, currency",
    )
    max_gross_notional: float | None = Field(
        default=None,
        ge=0.0,
        le=MAX_MONEY,
        description="sum over instruments of |exposure| x last price",
    )
    max_orders_per_window: int | None = Field(
        default=None, ge=0, description="approved orders per agent within order_window_steps"
    )
    order_window_steps: int = Field(
        default=1, ge=1, description="the rate window: steps (t - W, t]"
    )
    price_band_pct: float | None = Field(
        default=None, gt=0.0, description="limit orders: |limit - last| / last, percent"
    )
    max_quote_age_ns: int | None = Field(
        default=None, ge=0, description="quote older than this (ns) refuses orders (needs quotes)"
    )
    max_spread_bps: float | None = Field(
        default=None, ge=0.0, description="(ask - bid) / mid above this refuses orders, bps"
    )
    min_cash: float | None = Field(
        default=None,
        ge=-MAX_MONEY,
        le=MAX_MONEY,
        description="currency; buys may not go below",
    )
    max_drawdown_pct: float | None = Field(
        default=None, gt=0.0, le=100.0, description="hard limit: reaching it halts the agent"
    )
    ladder: LadderConfig = LadderConfig()
    microstructure: MicrostructureConfig = MicrostructureConfig()
    kill: bool = Field(default=False, description="config kill switch: flatten and halt all")
