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
from typing import Any, Literal

import tomli_w
from pydantic import Field, ValidationError

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


class FeatureFlags(_Strict):
    """Optional behaviours, all off unless the run needs them."""

    exploration: bool = False
    fast_weights: bool = False
    linear_attention: bool = False
    auto_governed_feedback: bool = False


class DataConfig(_Strict):
    """Which market to run on: a bundled dataset name or a CSV/Parquet path."""

    source: str = "sp500"
    start: str | None = Field(
        default=None, description="first timestamp kept (ISO date), inclusive"
    )
    end: str | None = Field(default=None, description="last timestamp kept (ISO date), inclusive")
    symbols: list[str] | None = None
    tick_size: str | None = Field(default=None, description="override the inferred tick size")


class WalConfig(_Strict):
    segment_bytes: int = Field(default=64 * 2**20, gt=1024)
    fsync: FsyncPolicy = "batch"
    fsync_every: int = Field(default=4096, ge=1)


class AccountsConfig(_Strict):
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

    drift: DriftConfig = Field(default_factory=DriftConfig)


class RunConfig(_Strict):
    """Everything that decides what a run does."""

    name: str = "default"
    profile: Profile = "sim"
    seed: int = 0
    out_dir: str = "runs"
    data: DataConfig = DataConfig()
    flags: FeatureFlags = FeatureFlags()
    wal: WalConfig = WalConfig()
    accounts: AccountsConfig = AccountsConfig()
    agents: list[AgentGroup] = Field(default_factory=lambda: [SmaGroup()])
    execution: ExecutionConfig = ExecutionConfig()
    risk: RiskConfig = RiskConfig()
    scars: ScarConfig = ScarConfig()
    regime: RegimeSettings = Field(default_factory=RegimeSettings)
    reflect: ReflectConfig = Field(default_factory=ReflectConfig)
    evaluation: EvaluationConfig = EvaluationConfig()
    report: bool = Field(default=True, description="write report.html and plots")

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
