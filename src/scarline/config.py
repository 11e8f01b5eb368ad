"""Run configuration: pydantic models, TOML files, and the config hash.

A run is a pure function of (config, input events, seed), so the resolved config is part
of a run's identity: :func:`config_hash` is the sha256 of its canonical JSON, and the
snapshot written to ``runs/<id>/config.toml`` is what replay reads. Unknown keys and
wrong types are errors that name the key and the file.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

import tomli_w
from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator

from scarline.agents.config import AgentGroup, SmaGroup
from scarline.errors import ConfigError
from scarline.evolution.scars import ScarConfig
from scarline.execution.config import ExecutionConfig
from scarline.reflect.config import DriftConfig
from scarline.regime.stage import RegimeSettings
from scarline.risk.config import RiskConfig
from scarline.strict import Strict

Profile = Literal["sim", "paper", "live-shadow"]
FsyncPolicy = Literal["always", "batch", "never"]


_Strict = Strict


NOT_IMPLEMENTED_FLAGS = ("fast_weights", "linear_attention", "auto_governed_feedback")


class FeatureFlags(_Strict):
    """Optional behaviours. ``exploration`` lets learning agents (and evolution) try what they
    have not learned; off means every decision of the run is greedy. The other flags name
    behaviours that do not exist yet: true is refused rather than silently ignored."""

    exploration: bool = Field(
        default=True, description="learning agents (and evolution) may explore; false: all greedy"
    )
    fast_weights: bool = Field(default=False, description="not implemented: true is refused")
    linear_attention: bool = Field(default=False, description="not implemented: true is refused")
    auto_governed_feedback: bool = Field(
        default=False, description="not implemented: true is refused"
    )

    @field_validator(*NOT_IMPLEMENTED_FLAGS)
    @classmethod
    def _not_implemented(cls, value: bool, info: ValidationInfo) -> bool:
        if value:
            raise ValueError(
                f"flags.{info.field_name} = true is not implemented; only false is accepted"
            )
        return value


MAX_EXOG_LAG = 100_000
"""Upper bound of ``data.exog_available_after`` (bars): beyond it a lag is surely a typo."""

ExogLag = Annotated[int, Field(ge=0, le=MAX_EXOG_LAG)]


class DataConfig(_Strict):
    """Which market to run on: a bundled dataset name or a CSV/Parquet path, and when each
    exogenous column becomes known (``exog_available_after``, see docs/data.md)."""

    source: str = Field(
        default="sp500", description="a dataset name (`scarline data list`) or a CSV/Parquet path"
    )
    start: str | None = Field(
        default=None, description="first timestamp kept (ISO date), inclusive"
    )
    end: str | None = Field(default=None, description="last timestamp kept (ISO date), inclusive")
    symbols: list[str] | None = Field(default=None, description="symbols kept (unset: all)")
    tick_size: str | None = Field(default=None, description="override the inferred tick size")
    exog_available_after: dict[str, ExogLag] = Field(
        default_factory=dict,
        description="bars after its stamp that an exogenous column is known (default 0)",
    )


class WalConfig(_Strict):
    """The write-ahead log of the run: segment size and fsync policy (docs/wal.md)."""

    segment_bytes: int = Field(
        default=64 * 2**20, gt=1024, description="bytes per WAL segment before the next one starts"
    )
    fsync: FsyncPolicy = Field(default="batch", description="when records are synced to disk")
    fsync_every: int = Field(default=4096, ge=1, description='records per sync with "batch"')


class AccountsConfig(_Strict):
    """What every agent's account starts with."""

    initial_cash: float = Field(
        default=1_000_000.0,
        gt=0,
        allow_inf_nan=False,
        description="starting cash of every agent, currency units",
    )


class EvaluationConfig(_Strict):
    """The time split: learning agents learn and explore on the first part only; the report
    and ``--json`` compare everyone in-sample and out-of-sample, net of costs."""

    oos_fraction: float = Field(
        default=0.0, ge=0.0, lt=1.0, description="last share of the steps held out (0: no split)"
    )

    def split_step(self, n_steps: int) -> int | None:
        if self.oos_fraction == 0.0:
            return None
        return max(1, min(n_steps - 1, round(n_steps * (1.0 - self.oos_fraction))))


class ReflectConfig(_Strict):
    """``[reflect]``: the drift sentry (``[reflect.drift]``); see docs/drift.md."""

    drift: DriftConfig = Field(
        default_factory=DriftConfig, description="the drift sentry over every agent's returns"
    )


class RunConfig(_Strict):
    """Everything that decides what a run does."""

    name: str = Field(default="default", description="the config's name, shown in the report")
    profile: Profile = Field(
        default="sim",
        description="recorded in the session; every run is a simulation today (paper and "
        "live-shadow sessions are not built yet)",
    )
    seed: int = Field(default=0, description="root of every random stream of the run")
    out_dir: str = Field(default="runs", description="parent directory of run directories")
    data: DataConfig = DataConfig()
    flags: FeatureFlags = FeatureFlags()
    wal: WalConfig = WalConfig()
    accounts: AccountsConfig = AccountsConfig()
    agents: list[AgentGroup] = Field(
        default_factory=lambda: [SmaGroup()],
        description="the population, one table per group; agent ids follow this order",
    )
    execution: ExecutionConfig = ExecutionConfig()
    risk: RiskConfig = RiskConfig()
    scars: ScarConfig = ScarConfig()
    regime: RegimeSettings = Field(default_factory=RegimeSettings)
    reflect: ReflectConfig = Field(default_factory=ReflectConfig)
    evaluation: EvaluationConfig = EvaluationConfig()
    report: bool = Field(default=True, description="write report.html and plots")

    @model_validator(mode="after")
    def _exploration_everywhere(self) -> RunConfig:
        """``flags.exploration = false`` means no exploratory step anywhere; evolution's
        mutation and novelty are exploration, so the two cannot be combined."""
        if not self.flags.exploration:
            for i, group in enumerate(self.agents):
                evolution = getattr(group, "evolution", None)
                if evolution is not None and evolution.enabled:
                    raise ValueError(
                        f"flags.exploration = false, but agents[{i}].evolution explores "
                        "(mutation, novelty): set flags.exploration = true or "
                        f"agents[{i}].evolution.enabled = false"
                    )
        return self

    def with_overrides(self, **dotted: Any) -> RunConfig:
        """A copy with ``{"data.source": "nasdaq", "seed": 3}``-style overrides, re-validated."""
        raw = self.model_dump(mode="json")
        for key, value in dotted.items():
            node = raw
            *parents, leaf = key.split(".")
            for part in parents:
                node = node[int(part)] if isinstance(node, list) else node[part]
            node[leaf] = value
        return _validate(raw, "<overrides>")


def format_validation_error(err: ValidationError, source: str) -> str:
    lines = []
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"]) or "<root>"
        if e["type"] == "extra_forbidden":
            lines.append(f"{source}: unknown key '{key}'")
        elif not e["loc"]:  # a rule across keys: its message names them (the input is all)
            lines.append(f"{source}: {e['msg'].removeprefix('Value error, ')}")
        else:
            got = e.get("input")
            lines.append(f"{source}: key '{key}': {e['msg'].lower()} (got {got!r})")
    return "\n".join(lines)


def _validate(raw: dict[str, Any], source: str) -> RunConfig:
    try:
        return RunConfig.model_validate(raw)
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, source)) from None


def read_toml(path: Path, what: str = "config file") -> dict[str, Any]:
    """A TOML file's table; a missing file or bad TOML is a :class:`ConfigError` naming it."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: {what} not found") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: invalid TOML: {err}") from None


def load_config(path: str | Path | None = None) -> RunConfig:
    """Read a TOML config (``None``: the built-in defaults)."""
    if path is None:
        return RunConfig()
    return _validate(read_toml(Path(path)), str(path))


def canonical_json(config: RunConfig) -> bytes:
    return json.dumps(
        config.model_dump(mode="json"), sort_keys=True, separators=(",", ":")
    ).encode()


def config_hash(config: RunConfig) -> str:
    """sha256 of the canonical resolved config (sorted keys, no whitespace)."""
    return hashlib.sha256(canonical_json(config)).hexdigest()


def dump_toml(config: RunConfig) -> str:
    """The resolved config as TOML (``None`` values are left out: they are the defaults)."""

    def drop_none(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: drop_none(v) for k, v in node.items() if v is not None}
        return node

    return tomli_w.dumps(drop_none(config.model_dump(mode="json")))
