"""The gate report for people: one line per agent and gate, each verdict with the figures
that decided it and the checks that failed — the Gates section of report.html and the table
``scarline gates`` prints. It renders the :class:`~scarline.report.gate_report.GateReport`
as written in ``gates.json``, so the report never imports the gates."""

from __future__ import annotations

import html
from typing import Any

from rich.table import Table

from scarline.report.gate_report import (
    GATE_NAMES,
    AgentGates,
    AntiOverfit,
    DataTruth,
    Deployability,
    GateReport,
    GateVerdict,
    ReplayParity,
    Robustness,
)


def _num(value: Any, digits: int = 3) -> str:
    return f"{value:.{digits}f}" if isinstance(value, int | float) else str(value)


def _g2(verdict: AntiOverfit) -> str:
    """Contracts, the evidence decision with its figures, the lag half-life, the flags."""
    dsr, spa, pbo = verdict.dsr or {}, verdict.spa or {}, verdict.pbo or {}
    perm = verdict.block_permutation or {}
    contracts = verdict.contracts or {}
    proof = verdict.evidence or {}
    text = [
        "contracts " + ("hold" if contracts.get("pass") else "broken"),
        f"evidence {'pass' if proof.get('pass') else 'fail'}: "
        f"DSR {_num(dsr.get('dsr'))} (N={_num(dsr.get('trials'), 0)} of "
        f"{_num(dsr.get('trials_raw'), 0)} trials), SPA p {_num(spa.get('p_value'))}, "
        f"PBO {_num(pbo.get('pbo'))}",
        f"permutation p {_num(perm.get('p_value'))}",
    ]
    lag = (verdict.time_shift or {}).get("lag")
    half = lag.get("half_life_bars") if isinstance(lag, dict) else None
    if isinstance(half, int | float) or str(half).startswith(">"):
        text.append(f"lag half-life {_num(half, 1)} bars")
    if verdict.flags:
        text.append("flags: " + ", ".join(verdict.flags))
    return ", ".join(text)


def _g1(verdict: ReplayParity) -> str:
    if verdict.passed:
        return "WAL and decision trace reproduced"
    if verdict.first_mismatch:  # absent in reports written before it
        return f"differs at {verdict.first_mismatch}"
    if verdict.config_matches_manifest is False:
        return "config snapshot differs from the manifest"
    return "decision trace differs"


def _g4(verdict: Deployability) -> str:
    if verdict.network is not None:
        return verdict.network
    lat, parity = verdict.latency or {}, verdict.onnx_parity or {}
    diff = parity.get("max_abs_diff")
    if not isinstance(diff, float):
        return "no ONNX figures"
    return f"ONNX max diff {diff:.1e}, p99 {_num(lat.get('p99_us'), 1)} µs"


def figures(verdict: GateVerdict | None) -> str:
    """A short account of one gate's verdict: its key figures, then what failed."""
    if verdict is None:
        return "not in the report"
    if verdict.skipped:
        return "skipped (--only)"
    if verdict.error is not None:
        return f"error: {verdict.error}"
    parts: list[str] = []
    if isinstance(verdict, DataTruth):
        parts.append(f"{verdict.errors} errors, {verdict.warnings} warnings")
        if verdict.input_unchanged is False:
            parts.append("input changed since the run")
    elif isinstance(verdict, ReplayParity):
        parts.append(_g1(verdict))
    elif isinstance(verdict, AntiOverfit):
        parts.append(_g2(verdict))
    elif isinstance(verdict, Robustness):
        fees, wf = verdict.fees_x2 or {}, verdict.walk_forward or {}
        parts.append(
            f"fees x2 return {_num(fees.get('return'))}, "
            f"walk-forward positive {_num(wf.get('positive_share'), 2)}"
        )
    elif isinstance(verdict, Deployability):
        parts.append(_g4(verdict))
    failed = verdict.failed()
    if failed:
        parts.append("failed: " + ", ".join(failed))
    return "; ".join(parts)


def identity(entry: AgentGates) -> str:
    """The agent's policy hash (or kind), and the flags raised for it."""
    text = str(entry.policy_hash or entry.kind)
    return text + (f" — flagged: {', '.join(entry.flags)}" if entry.flags else "")


def _passed(verdict: GateVerdict | None) -> bool:
    return verdict is not None and verdict.passed is True


def gates_table(report: GateReport) -> Table:
    """The terminal table: one row per agent and gate."""
    table = Table(title="Gates", title_justify="left")
    for col in ("agent", "gate", "verdict", "figures"):
        table.add_column(col, overflow="fold")
    for agent, entry in report.agents.items():
        for gate, v in entry.verdicts().items():
            mark = "[green]pass[/]" if _passed(v) else "[red]FAIL[/]"
            table.add_row(agent, f"{gate} {GATE_NAMES[gate]}", mark, figures(v))
        overall = "[bold green]PASS[/]" if entry.passed else "[bold red]FAIL[/]"
        table.add_row(agent, "[bold]all[/]", overall, identity(entry))
    return table


def gates_html(report: GateReport) -> str:
    """The report.html section (same content as :func:`gates_table`)."""
    e = html.escape
    rows = []
    for agent, entry in report.agents.items():
        for gate, v in entry.verdicts().items():
            verdict = "pass" if _passed(v) else "FAIL"
            rows.append(
                f"<tr><td>{e(agent)}</td><td>{gate} {GATE_NAMES[gate]}</td><td>{verdict}</td>"
                f"<td>{e(figures(v))}</td></tr>\n"
            )
        overall = "PASS" if entry.passed else "FAIL"
        rows.append(
            f"<tr><th>{e(agent)}</th><th>all</th><th>{overall}</th>"
            f"<td>{e(identity(entry))}</td></tr>\n"
        )
    head = "<tr><th>agent</th><th>gate</th><th>verdict</th><th>figures</th></tr>\n"
    note = (
        '<p class="note">Every figure is in <code>gates.json</code> (its sha256 is in '
        "manifest.json); thresholds and pass rules: docs/gates.md.</p>\n"
    )
    return f"<table>\n{head}{''.join(rows)}</table>\n{note}"
