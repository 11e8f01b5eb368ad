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
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import tomli_w
from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator

from scarline.agents.config import AgentGroup, QNetGroup, SmaGroup, domain_problems
from scarline.alerts_config import AlertsConfig
from scarline.errors import ConfigError
from scarline.evolution.scars import ScarConfig
from scarline.execution.config import ExecutionConfig
from scarline.execution.types import MAX_MONEY
from scarline.instrument import CASH_SCALE, check_tick_size
from scarline.market.checks import GAP_FACTOR_RANGE, OUTLIER_K_RANGE, STALE_RUN_RANGE
from scarline.market.feeds.config import LiveConfig
from scarline.market.frequency import Calendar
from scarline.market.subset import date_ns
from scarline.ops_config import ServiceConfig
from scarline.reflect.config import DriftConfig
from scarline.regime.stage import RegimeSettings
from scarline.risk.config import RiskConfig
from scarline.strict import Strict as _Strict
from scarline.strict import positive_decimals

Profile = Literal["sim", "paper", "live-shadow"]
FsyncPolicy = Literal["always", "batch", "never"]


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

MAX_CASH = MAX_MONEY
"""Money of a config (currency units) is at most this (``execution.types.MAX_MONEY``)."""

MIN_CASH = 1 / CASH_SCALE
"""The least starting cash of a new run: one cash unit. Less (``1e-9``) became 0 units, and
the run failed after its last step with an internal error, its run directory left behind."""

WarningCheck = Literal["gap", "outlier", "stale_close", "exog_inf"]


COARSEST_INFERRED_TICK = Decimal(1)
"""The largest tick a run infers without ``data.tick_size``: ``10^-p`` from the decimals
written in the prices (p >= 0), and every bundled dataset's tick is finer."""


def check_lot_sizes(lots: dict[str, str], tick_size: str | None) -> dict[str, str]:
    """``lots`` if one lot moving one tick is at most :data:`MAX_CASH` currency units.

    The accounts hold ``tick x lot x CASH_SCALE`` in int64 cash units (``unit_values``): a
    lot past this overflows it. The tick is ``tick_size`` when given, else the coarsest a
    run infers. Compared without arithmetic on the lot, so ``"1e999999"`` is refused too."""
    tick = Decimal(tick_size) if tick_size is not None else COARSEST_INFERRED_TICK
    limit = Decimal(int(MAX_CASH)) / tick
    for symbol, text in lots.items():
        if Decimal(text) > limit:
            raise ValueError(
                f"lot size {text!r} of {symbol!r} is too large: one lot moving one tick "
                f"(tick {tick}) would be more than {int(MAX_CASH):,} currency units, the most "
                f"int64 cash accounts allow (a lot is at most {limit:,f} at this tick)"
            )
    return lots


class G0Settings(_Strict):
    """G0 DataTruth on the rows a run trades, before its first step (docs/data.md). Errors
    always refuse the run; warnings are journaled (``DataWarnings``) and printed, and refuse
    the run only when their check is listed in ``refuse_warnings`` (``scarline run
    --allow-data-warnings`` then lets it start anyway)."""

    gap_factor: float = Field(
        default=5.0,
        gt=GAP_FACTOR_RANGE[0],
        le=GAP_FACTOR_RANGE[1],
        description="warn on steps > this x the median step",
    )
    outlier_k: float = Field(
        default=12.0,
        gt=OUTLIER_K_RANGE[0],
        le=OUTLIER_K_RANGE[1],
        description="warn on |log return| > k x rolling MAD scale",
    )
    stale_run: int = Field(
        default=10,
        ge=STALE_RUN_RANGE[0],
        le=STALE_RUN_RANGE[1],
        description="warn on this many equal closes in a row",
    )
    refuse_warnings: list[WarningCheck] = Field(
        default_factory=list,
        description="warning checks that refuse the run (unless --allow-data-warnings)",
    )


class DataConfig(_Strict):
    """Which market to run on: a bundled dataset name or a CSV/Parquet/Feather path, and when each
    exogenous column becomes known (``exog_available_after``, see docs/data.md)."""

    source: str = Field(
        default="sp500",
        min_length=1,
        description="a dataset name (`scarline data list`) or a CSV/Parquet/Feather path",
    )
    start: str | None = Field(
        default=None,
        description="first timestamp kept (ISO date, 1677-09-22 .. 2262-04-10), inclusive",
    )
    end: str | None = Field(
        default=None,
        description="last timestamp kept (ISO date, 1677-09-22 .. 2262-04-10), inclusive: "
        '"2024" or "2024-06" ends with that year or month, a date with its day',
    )
    symbols: list[str] | None = Field(
        default=None, min_length=1, description="symbols kept (unset: all)"
    )
    tick_size: str | None = Field(
        default=None,
        description="override the inferred tick size (a multiple of 0.00000001, at most 1e6)",
    )
    exog_available_after: dict[str, ExogLag] = Field(
        default_factory=dict,
        description="bars after its stamp that an exogenous column is known (default 0)",
    )
    g0: G0Settings = Field(
        default_factory=G0Settings, description="G0 DataTruth on the run's rows before it starts"
    )
    lot_sizes: dict[str, str] = Field(
        default_factory=dict,
        description='lot size per symbol, e.g. {"BTC/USDT" = "0.00001"} (default one unit): '
        "what quantities and volumes count in; lot x tick is at most 1e10 currency units",
    )
    calendar: Calendar = Field(
        default="exchange",
        description='when the market trades, for annualizing: "exchange" (252 days of 6.5 h) '
        'or "24/7" (crypto: 365 days of 24 h)',
    )

    @field_validator("start", "end")
    @classmethod
    def _date(cls, value: str | None) -> str | None:
        if value is not None:
            date_ns(value)  # ValueError: unparsable, or outside the supported range
        return value

    @field_validator("tick_size")
    @classmethod
    def _tick(cls, value: str | None) -> str | None:
        return None if value is None else check_tick_size(value)

    @field_validator("lot_sizes")
    @classmethod
    def _lots(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        return check_lot_sizes(positive_decimals(value), info.data.get("tick_size"))

    @field_validator("symbols")
    @classmethod
    def _symbols(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            if any(not s.strip() for s in value):
                raise ValueError("symbols: an empty symbol")
            if len(set(value)) != len(value):
                raise ValueError(f"symbols must be unique, got {value}")
        return value


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
        le=MAX_CASH,
        allow_inf_nan=False,
        description="starting cash of every agent, currency units (a new run takes at least "
        "one cash unit, 1e-8)",
    )


class EvaluationConfig(_Strict):
    """The time split: learning agents learn and explore on the first part only; the report
    and ``--json`` compare everyone in-sample and out-of-sample, net of costs."""

    oos_fraction: float = Field(
        default=0.0, ge=0.0, lt=1.0, description="last share of the steps held out (0: no split)"
    )

    def split_step(self, n_steps: int) -> int | None:
        """The first out-of-sample step; None without a split, or with one bar (no step can
        be out of sample: step 1 made a one-bar run fail at its close)."""
        if self.oos_fraction == 0.0 or n_steps < 2:
            return None
        return max(1, min(n_steps - 1, round(n_steps * (1.0 - self.oos_fraction))))


class ReflectConfig(_Strict):
    """``[reflect]``: the drift sentry (``[reflect.drift]``); see docs/drift.md."""

    drift: DriftConfig = Field(
        default_factory=DriftConfig, description="the drift sentry over every agent's returns"
    )


def _default_agents() -> list[AgentGroup]:
    return [SmaGroup()]


class RunConfig(_Strict):
    """Everything that decides what a run does."""

    name: str = Field(default="default", description="the config's name, shown in the report")
    profile: Profile = Field(
        default="sim",
        description="recorded in the session: sim (a backtest) or paper (`scarline paper` "
        "sets it); live-shadow is not built yet, so it is refused",
    )
    seed: int = Field(
        default=0, ge=0, le=2**63 - 1, description="root of every random stream of the run"
    )
    out_dir: str = Field(default="runs", description="parent directory of run directories")
    data: DataConfig = DataConfig()
    flags: FeatureFlags = FeatureFlags()
    wal: WalConfig = WalConfig()
    accounts: AccountsConfig = AccountsConfig()
    agents: list[AgentGroup] = Field(
        default_factory=_default_agents,
        description="the population, one table per group; agent ids follow this order",
    )
    execution: ExecutionConfig = ExecutionConfig()
    risk: RiskConfig = RiskConfig()
    scars: ScarConfig = ScarConfig()
    regime: RegimeSettings = Field(default_factory=RegimeSettings)
    reflect: ReflectConfig = Field(default_factory=ReflectConfig)
    evaluation: EvaluationConfig = EvaluationConfig()
    live: LiveConfig | None = Field(
        default=None,
        description="the live feed of a paper session (`scarline paper`; docs/paper.md)",
    )
    service: ServiceConfig = ServiceConfig()
    alerts: AlertsConfig = AlertsConfig()
    report: bool = Field(default=True, description="write report.html and plots")

    @property
    def calendar(self) -> Calendar:
        """The market's calendar: a live (crypto) feed trades 24/7; files say in [data]."""
        return "24/7" if self.live is not None else self.data.calendar

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

    @field_validator("profile")
    @classmethod
    def _built_profile(cls, value: str) -> str:
        if value == "live-shadow":  # a run would record a profile it never traded under
            raise ValueError("profile 'live-shadow' is not built yet: use 'sim' or 'paper'")
        return value

    @model_validator(mode="after")
    def _founders_in_domain(self) -> RunConfig:
        """A q-network group's founders must lie in its gene domain (see
        :func:`~scarline.agents.config.domain_problems`)."""
        problems = [
            problem
            for i, group in enumerate(self.agents)
            if isinstance(group, QNetGroup)
            for problem in domain_problems(group, f"agents[{i}]")
        ]
        if problems:
            raise ValueError("; ".join(problems))
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
        return validate_config(raw, "<overrides>")


def new_run_problems(config: RunConfig) -> list[str]:
    """Why a new run must not start with ``config`` (empty: it may): values that validate,
    so a run recorded with them before these checks existed still loads and replays, but
    that a new run would silently spoil (NaN networks, an account of zero cash units)."""
    problems = []
    if config.accounts.initial_cash < MIN_CASH:
        problems.append(
            f"accounts.initial_cash = {config.accounts.initial_cash} is less than one cash "
            f"unit ({MIN_CASH:g}): the account would start with 0 units"
        )
    for i, group in enumerate(config.agents):
        if isinstance(group, QNetGroup):
            problems += group.qnet.new_run_problems(f"agents[{i}].qnet")
    return problems


def check_new_run(config: RunConfig, source: str) -> None:
    """A :class:`ConfigError` naming ``source`` and each key of :func:`new_run_problems`."""
    problems = new_run_problems(config)
    if problems:
        raise ConfigError("\n".join(f"{source}: {problem}" for problem in problems))


def format_validation_error(err: ValidationError, source: str) -> str:
    lines = []
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"]) or "<root>"
        if e["type"] == "extra_forbidden":
            lines.append(f"{source}: unknown key '{key}'")
        elif not e["loc"]:  # a rule across keys: its message names them (the input is all)
            lines.append(f"{source}: {e['msg'].removeprefix('Value error, ')}")
        elif "credential" in e["msg"] or isinstance(e.get("input"), dict):
            # the value is the secret, or a whole table that may hold one (a sink's webhook
            # URL): not echoed to a terminal; the key names where to look
            lines.append(f"{source}: key '{key}': {_message(e['msg'])}")
        else:
            got = e.get("input")
            lines.append(f"{source}: key '{key}': {_message(e['msg'])} (got {got!r})")
    return "\n".join(lines)


def _message(msg: str) -> str:
    """pydantic's message as the rest of a sentence: its ``Value error,`` prefix dropped and
    only its first letter lowered (``'BTCUSDT' is not base/quote`` keeps the symbol's case)."""
    msg = msg.removeprefix("Value error, ")
    return msg[:1].lower() + msg[1:]


def validate_config(raw: dict[str, Any], source: str) -> RunConfig:
    """``raw`` as a config; a :class:`ConfigError` naming ``source`` and each bad key."""
    too_deep = f"{source}: values nested too deeply to validate"
    try:
        return RunConfig.model_validate(raw)
    except ValidationError as err:
        try:
            message = format_validation_error(err, source)
        except RecursionError:  # the bad value is too deep even to show
            message = too_deep
    except RecursionError:
        message = too_deep
    raise ConfigError(message)


def read_toml(path: Path, what: str = "config file") -> dict[str, Any]:
    """A TOML file's table; a missing file or bad TOML is a :class:`ConfigError` naming it."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: {what} not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a {what}") from None
    except PermissionError:
        raise ConfigError(f"{path}: permission denied (the {what} cannot be read)") from None
    except UnicodeDecodeError as err:
        line = path.read_bytes()[: err.start].count(b"\n") + 1
        raise ConfigError(
            f"{path}: not UTF-8 text (byte {err.object[err.start]:#04x} at line {line}); "
            f"a {what} is UTF-8 TOML"
        ) from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path}: invalid TOML: {err}") from None
    except RecursionError:  # arrays or inline tables nested thousands deep
        raise ConfigError(f"{path}: invalid {what}: values nested too deeply to read") from None
    except ValueError as err:  # an integer past Python's int-str limit (4300 digits)
        reason = str(err).split(";", 1)[0]  # not Python's advice to raise the limit
        raise ConfigError(f"{path}: invalid {what}: {reason}") from None


def load_config(path: str | Path | None = None) -> RunConfig:
    """Read a TOML config (``None``: the built-in defaults)."""
    if path is None:
        return RunConfig()
    return validate_config(read_toml(Path(path)), str(path))


def canonical_json(config: RunConfig) -> bytes:
    return json.dumps(
        config.model_dump(mode="json"), sort_keys=True, separators=(",", ":")
    ).encode()


def config_hash(config: RunConfig) -> str:
    """sha256 of the canonical resolved config (sorted keys, no whitespace)."""
    return hashlib.sha256(canonical_json(config)).hexdigest()


def snapshot_matches(config: RunConfig, recorded_json: bytes | None, recorded_hash: str) -> bool:
    """Whether ``config`` (read from a run's ``config.toml``) is the config the run recorded
    as ``recorded_hash``.

    A run written since ``config.json`` exists kept the canonical bytes it hashed, so the
    check survives a config model that grew new fields (their defaults keep old behaviour,
    but change today's canonical form): those bytes must hash to ``recorded_hash`` and read
    back, under today's model, as the same config as the TOML. Without them (older runs)
    today's canonical form must hash to ``recorded_hash``, which fails once fields were
    added since the run."""
    if recorded_json is None:
        return config_hash(config) == recorded_hash
    if hashlib.sha256(recorded_json).hexdigest() != recorded_hash:
        return False
    try:
        recorded = RunConfig.model_validate(json.loads(recorded_json))
    except (ValueError, TypeError):
        return False
    return canonical_json(recorded) == canonical_json(config)


def drop_none(node: Any) -> Any:
    """``node`` without the ``None`` values of its tables, at any depth, lists included.

    TOML has no null, so the snapshot leaves them out; that reads back as the same config
    because every field that may be ``None`` defaults to ``None`` (tests/test_config.py
    checks the models). Tables inside lists (``[[alerts.sinks]]``, ``[[agents]]``) are
    tables too: a sink without ``url`` must not crash the snapshot."""
    if isinstance(node, dict):
        return {k: drop_none(v) for k, v in node.items() if v is not None}
    if isinstance(node, list):
        return [drop_none(v) for v in node]
    return node


def dump_toml(config: RunConfig) -> str:
    """The resolved config as TOML (``None`` values are left out: they are the defaults)."""
    return tomli_w.dumps(drop_none(config.model_dump(mode="json")))
