"""Gate G4 "Deployability": can this policy run live, exactly as it was evaluated?

Five checks, each a sub-dict of figures with its own ``"pass"`` (the gate passes when all do):

* ``onnx_parity``: the network rebuilt from the genome's portable files (the path a
  deployment takes, :mod:`scarline.evolution.rebuild`) and exported to ONNX gives the same
  Q-values and the same greedy actions under onnxruntime as under torch, on the observations
  the agent actually saw;
* ``latency``: single-observation onnxruntime calls (N = 1, one thread) fit the live
  decision budget at the 99th percentile;
* ``memory``: the exported model fits the size budget (plus coarse RSS figures);
* ``risk_limits``: the risk config sets the hard limits a live agent must never run without;
* ``rebuild``: the policy hash rebuilds byte-identical files, which load back to the same
  hash, and (given a vault) the vault's snapshot rebuilds the same bytes.

The result is JSON-ready (plain floats, ints, strs, bools, lists, dicts) for the ledger.
A genome that cannot be rebuilt at all (a scarline error) fails ``rebuild``; the other
checks need a rebuilt network and let such an error propagate.
"""

from __future__ import annotations

import math
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from scarline.digest import sha256_hex
from scarline.errors import ScarlineError
from scarline.evolution.genome import Genome, decode_genome, policy_hash
from scarline.evolution.rebuild import (
    POLICY_FILE,
    WEIGHTS_FILE,
    load_policy,
    obs_mask,
    policy_files,
)
from scarline.evolution.vault import Vault
from scarline.gating.config import DeployabilityThresholds
from scarline.risk.config import RiskConfig

if TYPE_CHECKING:
    import onnx
    import onnxruntime as ort

    from scarline.learning.qnet import QPopulation

_G4 = DeployabilityThresholds()

WARMUP_CALLS = 50
"""Untimed calls before the latency is measured (first calls allocate and pick kernels)."""


@dataclass(frozen=True)
class DeployThresholds:
    """What a policy must meet to be deployed (the design budgets, not measured habits)."""

    # defaults: the [G4] section of configs/gates.toml (one source of truth)
    onnx_atol: float = _G4.onnx_atol  # max |q_onnx - q_torch|
    latency_p99_us: float = _G4.latency_p99_us  # DESIGN budget: decision p99 <= 1 ms, N=1
    latency_calls: int = _G4.latency_calls  # single-observation onnxruntime calls timed
    max_model_bytes: int = _G4.max_model_bytes
    required_risk_limits: tuple[str, ...] = tuple(_G4.required_risk_limits)
    # each entry: one RiskConfig field name, or alternatives separated by '|' (one must be set)

    @classmethod
    def of(cls, g4: DeployabilityThresholds) -> DeployThresholds:
        return cls(**(g4.model_dump() | {"required_risk_limits": tuple(g4.required_risk_limits)}))

    def __post_init__(self) -> None:
        if not self.onnx_atol >= 0 or not self.latency_p99_us >= 0:
            raise ValueError("onnx_atol and latency_p99_us must be >= 0")
        if self.latency_calls < 1 or self.max_model_bytes < 0:
            raise ValueError("latency_calls must be >= 1 and max_model_bytes >= 0")
        for entry in self.required_risk_limits:
            _alternatives(entry)  # unknown field names fail here, not after a long gate run


def deployability(
    genome: Genome,
    observations: np.ndarray,
    risk: RiskConfig,
    thresholds: DeployThresholds,
    vault_dir: Path | None = None,
) -> dict[str, object]:
    """The G4 verdict on ``genome`` given the raw ``float32[T, obs_dim]`` observations it saw."""
    masked = masked_observations(genome, observations)
    model = export_model(genome)
    data = model_bytes(model)
    session, rss = _measured_session(data)
    parity = onnx_parity(genome, observations, thresholds.onnx_atol, model)
    checks: dict[str, dict[str, object]] = {
        "onnx_parity": parity,
        "latency": latency(session, masked, thresholds.latency_calls, thresholds.latency_p99_us),
        "memory": {
            "model_bytes": len(data),
            "max_model_bytes": thresholds.max_model_bytes,
            "n_parameters": n_parameters(genome),
            **rss,
            "pass": len(data) <= thresholds.max_model_bytes,
        },
        "risk_limits": risk_limits(risk, thresholds.required_risk_limits),
        "rebuild": rebuild_check(genome, vault_dir),
    }
    return {"pass": all(bool(c["pass"]) for c in checks.values()), **checks}


# ---- the network a deployment runs ---------------------------------------------------------


def masked_observations(genome: Genome, observations: np.ndarray) -> np.ndarray:
    """``float32[T, obs_dim]`` as the agent's network sees them (dropped features zeroed)."""
    obs = np.asarray(observations, dtype=np.float32)
    width = len(genome.feature_names) + len(genome.private_names)
    if obs.ndim != 2 or obs.shape[0] < 1 or obs.shape[1] != width:
        raise ValueError(f"observations: expected float32[T >= 1, {width}], got {list(obs.shape)}")
    return np.ascontiguousarray(obs * obs_mask(genome))


def rebuilt_network(genome: Genome) -> tuple[QPopulation, Genome]:
    """The one-agent network and genome loaded back from the genome's portable files: what
    a deployment holds, not the in-memory tensors the run trained."""
    files = policy_files(genome, policy_hash(genome))
    with tempfile.TemporaryDirectory(prefix="scarline-g4-") as tmp:
        for name, content in files.items():
            (Path(tmp) / name).write_bytes(content)
        return load_policy(tmp)


def export_model(genome: Genome) -> onnx.ModelProto:
    """The ONNX model of the rebuilt network (byte-deterministic, see ``onnx_export``)."""
    from scarline.learning.onnx_export import agent_model

    pop, _ = rebuilt_network(genome)
    return agent_model(pop, 0)


def model_bytes(model: onnx.ModelProto) -> bytes:
    return model.SerializeToString(deterministic=True)


def ort_session(data: bytes) -> ort.InferenceSession:
    """One-threaded CPU session: the live setting, and stable timings."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return ort.InferenceSession(data, sess_options=options, providers=["CPUExecutionProvider"])


def n_parameters(genome: Genome) -> int:
    return sum(math.prod(a.shape) for a in genome.weights)


# ---- the checks ----------------------------------------------------------------------------


def onnx_parity(
    genome: Genome,
    observations: np.ndarray,
    atol: float,
    model: onnx.ModelProto | None = None,
) -> dict[str, object]:
    """onnxruntime on ``model`` (default: the genome's own export) vs torch on the rebuilt
    network, both on the masked raw ``observations``. Passing another ``model`` is the seam
    that shows a tampered export is caught."""
    import torch

    obs = masked_observations(genome, observations)
    pop, _ = rebuilt_network(genome)
    if model is None:
        from scarline.learning.onnx_export import agent_model

        model = agent_model(pop, 0)
    data = model_bytes(model)
    (q_onnx,) = ort_session(data).run(["q"], {"obs": obs})
    with torch.no_grad():
        q_torch = pop.forward(torch.from_numpy(obs).unsqueeze(0))[0].numpy()
    if q_onnx.shape != q_torch.shape:
        raise ValueError(f"onnx_parity: model gives {q_onnx.shape}, torch {q_torch.shape}")
    diff = float(np.max(np.abs(q_onnx.astype(np.float64) - q_torch.astype(np.float64))))
    agreement = float(np.mean(q_onnx.argmax(axis=1) == q_torch.argmax(axis=1)))
    return {
        "n_obs": int(obs.shape[0]),
        "max_abs_diff": diff,
        "atol": float(atol),
        "action_agreement": agreement,
        "onnx_sha256": sha256_hex(data),
        "onnx_bytes": len(data),
        "pass": bool(diff <= atol and agreement == 1.0),
    }


def latency(
    session: ort.InferenceSession, rows: np.ndarray, calls: int, budget_us: float
) -> dict[str, object]:
    """Wall-clock of ``calls`` single-row ``session.run`` calls, cycling over ``rows`` (the
    masked observations), after :data:`WARMUP_CALLS` untimed ones."""
    singles = [np.ascontiguousarray(rows[i : i + 1]) for i in range(min(len(rows), calls))]
    run = session.run
    for i in range(WARMUP_CALLS):
        run(["q"], {"obs": singles[i % len(singles)]})
    times = np.empty(calls, dtype=np.int64)
    clock = time.perf_counter_ns
    for i in range(calls):
        feed = {"obs": singles[i % len(singles)]}
        start = clock()
        run(["q"], feed)
        times[i] = clock() - start
    us = times / 1000.0
    p50, p99 = (float(v) for v in np.percentile(us, [50, 99]))
    return {
        "calls": calls,
        "warmup_calls": WARMUP_CALLS,
        "p50_us": p50,
        "p99_us": p99,
        "max_us": float(us.max()),
        "budget_us": float(budget_us),
        "pass": bool(p99 <= budget_us),
    }


def risk_limits(risk: RiskConfig, required: tuple[str, ...]) -> dict[str, object]:
    """Which required limit is set (field and value) and which are missing (``None`` = off)."""
    limits: list[dict[str, object]] = []
    missing: list[str] = []
    for entry in required:
        names = _alternatives(entry)
        found = {n: getattr(risk, n) for n in names if getattr(risk, n) is not None}
        limits.append({"required": entry, "set": found})
        if not found:
            missing.append(entry)
    return {"limits": limits, "missing": missing, "pass": not missing}


def rebuild_check(genome: Genome, vault_dir: Path | None = None) -> dict[str, object]:
    """The policy hash's files are a pure function of the genome: rebuilt twice they are
    byte-identical, they load back to the same hash, and the vault's snapshot of that hash
    (if ``vault_dir`` holds it) rebuilds the very same bytes."""
    full = policy_hash(genome)
    files = policy_files(genome, full)
    identical = files == policy_files(genome, full)
    error: str | None = None
    try:
        _, loaded = rebuilt_network(genome)
        reloaded = policy_hash(loaded)
    except ScarlineError as exc:
        reloaded, error = None, str(exc)
    from_vault = False
    if vault_dir is not None:
        vault = Vault(vault_dir)
        if vault.entry(full) is not None:
            from_vault = True
            try:  # Vault.get checks the snapshot's sha256; the hash is re-checked here
                snapshot = decode_genome(vault.get(full))
                identical &= policy_hash(snapshot) == full
                identical &= policy_files(snapshot, full) == files
            except (ScarlineError, ValueError) as exc:
                identical, error = False, str(exc)
    result: dict[str, object] = {
        "policy_hash": full,
        "policy_json_sha256": sha256_hex(files[POLICY_FILE]),
        "weights_sha256": sha256_hex(files[WEIGHTS_FILE]),
        "reloaded_hash": reloaded,
        "from_vault": from_vault,
        "identical": bool(identical),
        "pass": bool(identical and reloaded == full),
    }
    if error is not None:
        result["error"] = error
    return result


# ---- helpers -------------------------------------------------------------------------------


def _alternatives(entry: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in entry.split("|"))
    unknown = [n for n in names if n not in RiskConfig.model_fields]
    if unknown:
        raise ValueError(f"required risk limit {entry!r}: no RiskConfig field {unknown}")
    return names


def _rss_bytes() -> int | None:
    """Current resident set size (Linux ``/proc``); None where it cannot be read."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return pages * resource.getpagesize()


def _maxrss_bytes() -> int:
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def _measured_session(data: bytes) -> tuple[ort.InferenceSession, dict[str, object]]:
    """The session plus the process memory it took to load. Coarse: RSS moves by pages and
    with the allocator's moods, and the peak (maxrss) only moves when a new peak is set."""
    import onnxruntime  # noqa: F401  (imported first: its import is not the session's cost)

    rss0, peak0 = _rss_bytes(), _maxrss_bytes()
    session = ort_session(data)
    rss1, peak1 = _rss_bytes(), _maxrss_bytes()
    rss_delta = rss1 - rss0 if rss0 is not None and rss1 is not None else None
    return session, {"session_rss_delta_bytes": rss_delta, "maxrss_delta_bytes": peak1 - peak0}
