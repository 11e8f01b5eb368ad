"""A tiny real run and a hand-written passing gate report, for the ledger's tests (signed
with the session's test key, as ``scarline gates`` signs the reports it writes)."""

from __future__ import annotations

import json
from pathlib import Path

from scarline.config import RunConfig
from scarline.gating.config import GatesConfig
from scarline.journal.signature import sign_gate_report
from scarline.ledger.store import Ledger
from scarline.market.io import write_market
from scarline.market.synthetic import SynthSpec, generate
from scarline.runner import execute_run
from scarline.signing import KeyStore


def tiny_q_run(tmp: Path, run_id: str, seed: int) -> Path:
    """200 synthetic bars, four Q-network agents; the run directory."""
    data = write_market(generate(SynthSpec(n_steps=200, seed=seed)), tmp / "synth.csv")
    cfg = RunConfig(
        seed=seed,
        data={"source": str(data)},
        report=False,
        agents=[{"kind": "q-network", "count": 4, "qnet": {"warmup_steps": 16}}],
    )
    return execute_run(cfg, run_id=run_id, out_dir=tmp / "runs").run_dir


def passing_gates(agent: str, thresholds: str | None = None, **g3: object) -> dict[str, object]:
    """Every gate passes for ``agent``, judged by the built-in thresholds (or those of sha256
    ``thresholds``); ``g3`` overrides G3's figures (None drops one)."""
    figures = {"fees_x2": {"sharpe": 0.9}, "regime_sliced": {"bull": 0.4, "bear": 0.1}} | g3
    verdicts: dict[str, object] = {g: {"pass": True} for g in ("G0", "G1", "G2", "G4")}
    verdicts["G3"] = {"pass": True, **{k: v for k, v in figures.items() if v is not None}}
    verdicts["pass"] = True
    sha = GatesConfig().sha256() if thresholds is None else thresholds
    return {"thresholds_sha256": sha, "agents": {agent: verdicts}}


def write_gates(run_dir: Path, report: dict[str, object], key: str = "default") -> Path:
    """Write ``report`` as ``run_dir/gates.json`` and sign it (``gates.sig``) with ``key``
    of the session's key store: a report a trusted gate key vouches for."""
    path = run_dir / "gates.json"
    path.write_text(json.dumps(report))
    sign_gate_report(run_dir, KeyStore().load(key))
    return path


def accept_thresholds(ledger_dir: Path, sha256: str) -> None:
    """Let the ledger at ``ledger_dir`` count verdicts judged by the thresholds of
    ``sha256`` (a test's cheaper ones): policy.toml's ``[gates]``, recorded by an anchor."""
    policy = ledger_dir / "policy.toml"
    policy.write_text(policy.read_text() + f'\n[gates]\nthresholds_sha256 = ["{sha256}"]\n')
    Ledger(ledger_dir).anchor()
