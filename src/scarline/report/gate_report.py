"""The gate report (``gates.json``) as typed structs: what ``scarline gates`` writes, the
report renders and the ledger re-checks, decoded with ``type=`` like the run manifest.

One :class:`GateReport` holds the run's identity, the thresholds and, per judged agent, an
:class:`AgentGates`: one verdict struct per gate (G0 :class:`DataTruth`, G1
:class:`ReplayParity`, G2 :class:`AntiOverfit`, G3 :class:`Robustness`, G4
:class:`Deployability`), the flags raised and the overall ``pass``. A gate's verdict names
its checks as fields; each check's own figures stay a JSON object (:data:`Figures`, every
figure described in docs/gates.md), ``"pass"`` in it where the check decides. A verdict
written without a field (a gate skipped with ``--only``, a G0 that could not read its
source, a report from an older version) decodes with that field absent (``None``).

Kept free of heavy imports: the report, the ledger and the CLI read it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Self

import msgspec

from scarline.rundir import RunDir

REPORT_VERSION = 2
"""2: G2 as contracts + one evidence decision, per-agent ``flags``."""

GATE_NAMES = {
    "G0": "DataTruth",
    "G1": "ReplayParity",
    "G2": "Anti-overfit",
    "G3": "Robustness",
    "G4": "Deployability",
}
"""Every gate, in order, with its name."""

Figures = dict[str, Any]
"""One check's figures as JSON (``"pass"`` where the check decides; see docs/gates.md)."""


class VerdictBase(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What every gate's verdict carries besides its checks (fields a subclass adds come
    after these in the JSON)."""

    skipped: bool = False  # left out with --only: recorded, and not a pass
    error: str | None = None  # the gate could not be judged (the message says why)
    passed: bool = msgspec.field(name="pass")

    @classmethod
    def skip(cls) -> Self:
        """The verdict of a gate left out with ``--only``: recorded, not passed."""
        return cls(skipped=True, passed=False)

    def checks(self) -> dict[str, Figures]:
        """The verdict's checks that were recorded, by name, in report order."""
        return {
            name: value
            for name, value in msgspec.structs.asdict(self).items()
            if isinstance(value, dict)
        }

    def failed(self) -> list[str]:
        """The checks whose own ``pass`` is false (summaries that repeat a check left out)."""
        return [name for name, v in self.checks().items() if v.get("pass") is False]


class DataTruth(VerdictBase, kw_only=True, omit_defaults=True):
    """G0: the run's input source re-checked now, and still the market the run saw."""

    source: str | None = None
    rows: int | None = None
    symbols: int | None = None
    errors: int | None = None
    warnings: int | None = None
    findings: list[str] | None = None
    data_hash: str | None = None
    input_unchanged: bool | None = None


class ReplayParity(VerdictBase, kw_only=True, omit_defaults=True):
    """G1: the run re-executed from its WAL reproduces it record by record."""

    decision_trace_hash: str | None = None
    replayed_hash: str | None = None
    wal_head: str | None = None
    replayed_wal_head: str | None = None
    records_compared: int | None = None
    first_mismatch: str | None = None  # absent when the replay matched
    sealed_prefix: bool | None = None
    steps: int | None = None
    config_matches_manifest: bool | None = None


class AntiOverfit(VerdictBase, kw_only=True, omit_defaults=True):
    """G2: the contracts (each must pass), the evidence checks and their one decision, the
    informative figures and the flags raised (:mod:`scarline.gating.anti_overfit`)."""

    time_shift: Figures | None = None
    random_entry: Figures | None = None
    block_permutation: Figures | None = None
    label_shuffle: Figures | None = None
    dsr: Figures | None = None
    pbo: Figures | None = None
    spa: Figures | None = None
    feature_ablation: Figures | None = None
    plausibility: Figures | None = None
    contracts: Figures | None = None  # {"failed": [contract names], "pass"}
    evidence: Figures | None = None  # the one statistical decision over dsr, spa and pbo
    flags: list[str] | None = None  # the flags G2 raised ([] when none; None when skipped)

    def failed(self) -> list[str]:
        # the summaries name the checks that failed; listing them again says nothing new
        return [n for n in super().failed() if n not in ("contracts", "evidence")]


class Robustness(VerdictBase, kw_only=True, omit_defaults=True):
    """G3: other periods, higher costs, every regime, a perturbed policy; every check must
    pass (:mod:`scarline.gating.robustness`)."""

    walk_forward: Figures | None = None
    fees_x2: Figures | None = None
    slippage: Figures | None = None
    regime_sliced: Figures | None = None
    perturbation: Figures | None = None


class Deployability(VerdictBase, kw_only=True, omit_defaults=True):
    """G4: the policy as it would be deployed (:mod:`scarline.gating.deploy`); a rule agent
    has no network (``network`` says so) and only its risk limits are checked."""

    network: str | None = None
    onnx_parity: Figures | None = None
    latency: Figures | None = None
    memory: Figures | None = None
    risk_limits: Figures | None = None
    rebuild: Figures | None = None


GateVerdict = DataTruth | ReplayParity | AntiOverfit | Robustness | Deployability


class AgentGates(msgspec.Struct, kw_only=True):
    """One judged agent: its kind and policy hash, a verdict per gate (None: not in the
    report), the flags the gates raised (they fail nothing; the ledger reads them) and
    whether it passed every gate."""

    kind: str = ""
    policy_hash: str | None = None
    G0: DataTruth | None = None
    G1: ReplayParity | None = None
    G2: AntiOverfit | None = None
    G3: Robustness | None = None
    G4: Deployability | None = None
    flags: list[str] = []
    passed: bool = msgspec.field(default=False, name="pass")

    def verdicts(self) -> dict[str, GateVerdict | None]:
        """Every gate's verdict by gate id, in :data:`GATE_NAMES` order."""
        return {"G0": self.G0, "G1": self.G1, "G2": self.G2, "G3": self.G3, "G4": self.G4}

    def not_passed(self) -> list[str]:
        """The gates without a verdict that passed (missing ones included)."""
        return [g for g, v in self.verdicts().items() if v is None or v.passed is not True]


class GateReport(msgspec.Struct, kw_only=True):
    """``gates.json``: the judged run, the bars judged, the thresholds and every agent by id.

    Fields other than ``agents`` default to "not recorded", so a hand-written or older
    report that carries only the agents still decodes (the ledger reads only those)."""

    version: int = 0  # 0: not recorded (a hand-written report); the gates write REPORT_VERSION
    run_id: str = ""
    decision_trace_hash: str = ""
    evaluated_bars: list[int] = []  # [first evaluated bar, bars]
    split_step: int | None = None
    gates: dict[str, str] = {}
    only: list[str] = []
    thresholds: dict[str, Any] = {}
    thresholds_sha256: str = ""
    agents: dict[str, AgentGates] = {}

    def passed(self) -> bool:
        """Whether every judged agent passed every gate."""
        return all(entry.passed for entry in self.agents.values())


class GateReportError(ValueError):
    """``gates.json`` is not valid JSON or not a gate report (the message says where)."""


def encode_gate_report(report: GateReport) -> bytes:
    """The bytes ``gates.json`` holds: indented JSON and a final newline."""
    return msgspec.json.format(msgspec.json.encode(report), indent=2) + b"\n"


def decode_gate_report(raw: bytes, where: Path | str = RunDir.GATES) -> GateReport:
    """``raw`` as a :class:`GateReport`; :class:`GateReportError` naming ``where`` if not."""
    try:
        return msgspec.json.decode(raw, type=GateReport)
    except msgspec.ValidationError as err:
        raise GateReportError(f"{where}: not a gate report: {err}") from None
    except msgspec.DecodeError as err:
        raise GateReportError(f"{where}: not valid JSON: {err}") from None


def read_gate_report(path: Path) -> GateReport:
    """Decode ``gates.json`` at ``path`` (see :func:`decode_gate_report`)."""
    return decode_gate_report(path.read_bytes(), path)
