"""The people's view of a gate report: G2's one decision and the flags are visible."""

from __future__ import annotations

import msgspec

from scarline.report.gate_report import AntiOverfit, GateReport
from scarline.report.gates_section import figures, gates_html

G2 = {
    "time_shift": {"lag": {"half_life_bars": 0.4985}, "pass": True},
    "random_entry": {"pass": True},
    "block_permutation": {"p_value": 0.05, "pass": True},
    "feature_ablation": {"carrier": "exog:signal"},
    "dsr": {"dsr": 0.999, "trials": 2, "trials_raw": 16, "pass": True},
    "pbo": {"pbo": 0.0, "pass": True},
    "spa": {"p_value": 0.2, "pass": False},
    "contracts": {"failed": [], "pass": True},
    "evidence": {"failed": ["spa"], "pass": False},
    "flags": ["implausible_edge"],
    "pass": False,
}


def test_g2_figures_show_contracts_evidence_half_life_and_flags() -> None:
    text = figures(msgspec.convert(G2, type=AntiOverfit))
    assert text.startswith("contracts hold, evidence fail: DSR 0.999 (N=2 of 16 trials)")
    assert "lag half-life 0.5 bars" in text and "flags: implausible_edge" in text
    assert text.endswith("failed: spa")  # the check, not the summary that repeats it
    lagless = G2 | {"time_shift": {"lag": "n/a: no exogenous columns", "pass": True}}
    assert "half-life" not in figures(msgspec.convert(lagless, type=AntiOverfit))


def test_flagged_agent_row_names_the_flag() -> None:
    entry = {"kind": "q-network", "policy_hash": "ab12", "G2": G2, "flags": ["implausible_edge"]}
    page = gates_html(msgspec.convert({"agents": {"3": entry | {"pass": False}}}, type=GateReport))
    assert "ab12 — flagged: implausible_edge" in page
