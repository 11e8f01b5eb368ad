"""Gate thresholds: one TOML file (``configs/gates.toml``), separate from the run config.

A run's config decides what the run *does* and is hashed into its identity; how strictly we
judge a finished run is a different question, so changing a threshold never changes a run.
The thresholds used (and their sha256) are written into every ``gates.json``. Every field is
explained in ``docs/gates.md``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pydantic import Field, ValidationError, field_validator

from scarline.config import format_validation_error, read_toml
from scarline.errors import ConfigError
from scarline.strict import Strict as _Strict


class DataTruthThresholds(_Strict):
    """G0: the run's input source is re-checked; errors fail, warnings are reported."""

    allow_warnings: bool = True


class AntiOverfitThresholds(_Strict):
    """G2: contracts (lookahead, placebos), one evidence decision (DSR, SPA, PBO veto) and
    figures that are reported but decide nothing (lag half-life, feature ablation, flags)."""

    alpha: float = Field(
        default=0.02,
        gt=0,
        lt=1,
        description="level of every test; G2's false-pass rate (docs/gates.md: why 2 %)",
    )
    truncation_cuts: int = Field(default=3, ge=1, description="data cut points (lookahead)")
    lag_bars: list[int] = Field(
        default_factory=lambda: [1, 2, 4],
        min_length=1,
        description="exogenous columns this many bars late: the edge's half-life (a figure)",
    )
    placebo_quantile: float = Field(
        default=0.5,
        gt=0,
        lt=1,
        description="contract: the candidate's Sharpe must exceed this quantile of every "
        "placebo distribution (random entry, block permutations, shuffled labels); the "
        "level-alpha significance is the evidence decision's, not the placebos'",
    )
    placebo_agents: int = Field(default=100, ge=10, description="random-entry placebos")
    permutations: int = Field(default=39, ge=1, description="block permutations of returns")
    permutation_block: int = Field(default=10, ge=1, description="bars per permuted block")
    label_shuffle: bool = Field(default=True, description="retrain on shuffled rewards")
    pbo_max: float = Field(
        default=0.5, gt=0, le=1, description="PBO (CSCV, distinct strategies) at most: a veto"
    )
    pbo_blocks: int = Field(
        default=16,
        ge=2,
        le=20,
        description="CSCV blocks S (even; at most 20: C(S, S/2) splits, 184,756 at 20)",
    )
    spa_reps: int = Field(
        default=1000,
        ge=100,
        description="SPA bootstrap replications (and of the in-sample max-t); the smallest p "
        "they can give is 1 / (1 + `spa_reps`)",
    )
    implausible_sharpe: float = Field(
        default=0.3, gt=0, description="per-bar Sharpe above this flags implausible_edge"
    )
    implausible_ic: float = Field(
        default=0.35, gt=0, le=1, description="|IC| of a column above this flags implausible_edge"
    )

    @field_validator("pbo_blocks")
    @classmethod
    def _even(cls, blocks: int) -> int:
        if blocks % 2:  # CSCV splits the blocks in halves; refused here, not after the re-runs
            raise ValueError("must be even: the blocks are split in halves")
        return blocks

    @field_validator("lag_bars")
    @classmethod
    def _increasing(cls, lags: list[int]) -> list[int]:
        if any(b <= a for a, b in zip([0, *lags], lags, strict=False)):
            raise ValueError(f"lag_bars must be positive and increasing, got {lags}")
        return lags


class RobustnessThresholds(_Strict):
    """G3: walk-forward, costs, regimes and parameter perturbations."""

    walk_forward_folds: int = Field(default=4, ge=1)
    walk_forward_train_share: float = Field(default=0.5, gt=0, lt=1)
    walk_forward_min_positive: float = Field(
        default=0.5, ge=0, le=1, description="share of folds with a positive test return"
    )
    fees_factor: float = Field(default=2.0, ge=1)
    fees_floor_bps: float = Field(
        default=1.0, ge=0, description="fees x2 is at least this many bps (x2 of 0 is 0)"
    )
    slippage_bps: list[float] = Field(default_factory=lambda: [2.0, 5.0, 10.0], min_length=1)
    slippage_pass_bps: float = Field(
        default=5.0,
        ge=0,
        description="still profitable with this much extra slippage (at least one "
        "`slippage_bps` point must be ≤ it, or the check fails: nothing judged)",
    )
    regime_min_bars: int = Field(default=20, ge=2, description="regimes with fewer bars ignored")
    regime_min_sharpe: float = Field(
        default=-0.1, description="per-bar Sharpe in the worst regime at least"
    )
    perturbations: int = Field(default=16, ge=1)
    perturbation_scale: float = Field(
        default=0.05, gt=0, description="weight noise, in units of each tensor's std"
    )
    perturbation_min_retention: float = Field(
        default=0.5, description="median perturbed Sharpe / Sharpe at least"
    )


class DeployabilityThresholds(_Strict):
    """G4: what a deployed policy must satisfy."""

    onnx_atol: float = Field(default=1e-4, gt=0)
    latency_p99_us: float = Field(default=1000.0, gt=0, description="DESIGN budget: p99 1 ms")
    latency_calls: int = Field(default=2000, ge=10)
    max_model_bytes: int = Field(default=16 * 2**20, ge=1)
    required_risk_limits: list[str] = Field(
        default_factory=lambda: [
            "max_drawdown_pct",
            "max_position_lots|max_notional|max_gross_notional",
        ],
        description="RiskConfig fields that must be set; 'a|b' means one of them",
    )


class GatesConfig(_Strict):
    """Everything ``scarline gates`` judges by; ``seed`` drives every placebo draw."""

    seed: int = Field(
        default=0,
        ge=0,
        description="drives every placebo draw (numpy seeds are non-negative: refused here, "
        "not after the replay)",
    )
    G0: DataTruthThresholds = DataTruthThresholds()
    G2: AntiOverfitThresholds = AntiOverfitThresholds()
    G3: RobustnessThresholds = RobustnessThresholds()
    G4: DeployabilityThresholds = DeployabilityThresholds()

    def sha256(self) -> str:
        raw = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(raw.encode()).hexdigest()


def builtin_sha256() -> str:
    """sha256 of the built-in thresholds: the verdicts the ledger counts without a policy
    naming their thresholds (``docs/ledger.md``)."""
    return GatesConfig().sha256()


def load_gates_config(path: str | Path | None = None) -> GatesConfig:
    """Read thresholds from TOML (``None``: the built-in defaults); errors name file and key."""
    if path is None:
        return GatesConfig()
    p = Path(path)
    raw = read_toml(p, "gates config")
    try:
        return GatesConfig.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, str(p))) from None
