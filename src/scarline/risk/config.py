"""Risk configuration: pre-trade limits, the WARN → THROTTLE → HALT ladder, the kill switch.

Every limit is per agent and ``None`` switches it off, and every ladder threshold defaults
to ``None``: a plain backtest with ``RiskConfig()`` trades exactly as it would without a
risk engine (only the sanity rule ``no_price`` is always on). Percentages are percent
(``25.0`` = 25 %), money is in currency units (converted to int cash units inside).
"""

from __future__ import annotations

from itertools import pairwise

from pydantic import Field, model_validator

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

    warn_drawdown_pct: float | None = Field(default=None, gt=0.0, le=100.0)
    throttle_drawdown_pct: float | None = Field(default=None, gt=0.0, le=100.0)
    halt_drawdown_pct: float | None = Field(default=None, gt=0.0, le=100.0)
    throttle_scale: float = Field(default=0.5, gt=0.0, le=1.0)
    breach_warn: int | None = Field(default=None, ge=1)
    breach_throttle: int | None = Field(default=None, ge=1)
    breach_halt: int | None = Field(default=None, ge=1)
    breach_window_steps: int = Field(default=20, ge=1)
    recover_below_pct: float | None = Field(default=None, ge=0.0, le=100.0)
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


class RiskConfig(_Strict):
    """Pre-trade limits (each per agent; ``None`` = off), the ladder and the kill switch."""

    max_position_lots: int | None = Field(default=None, ge=0)
    max_notional: float | None = Field(
        default=None, ge=0.0, description="per instrument: |exposure| x last price, currency"
    )
    max_gross_notional: float | None = Field(
        default=None, ge=0.0, description="sum over instruments of |exposure| x last price"
    )
    max_orders_per_window: int | None = Field(default=None, ge=0)
    order_window_steps: int = Field(default=1, ge=1)
    price_band_pct: float | None = Field(
        default=None, gt=0.0, description="limit orders: |limit - last| / last, percent"
    )
    max_quote_age_ns: int | None = Field(default=None, ge=0)
    max_spread_bps: float | None = Field(default=None, ge=0.0)
    min_cash: float | None = Field(default=None, description="currency; buys may not go below")
    max_drawdown_pct: float | None = Field(
        default=None, gt=0.0, le=100.0, description="hard limit: reaching it halts the agent"
    )
    ladder: LadderConfig = LadderConfig()
    kill: bool = Field(default=False, description="config kill switch: flatten and halt all")
