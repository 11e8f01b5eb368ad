"""The gate report for people: one line per agent and gate, each verdict with the figures
that decided it and the checks that failed — the Gates section of report.html and the table
``scarline gates`` prints. It reads ``gates.json`` as written (plain JSON), so the report
never imports the gates."""

from __future__ import annotations

import html
from typing import Any

from rich.table import Table

GATE_NAMES = {
    "G0": "DataTruth",
    "G1": "ReplayParity",
    "G2": "Anti-overfit",
    "G3": "Robustness",
    "G4": "Deployability",
}


def _num(value: Any, digits: int = 3) -> str:
    return f"{value:.{digits}f}" if isinstance(value, int | float) else str(value)


def _failed(verdict: dict[str, Any]) -> list[str]:
    summary = ("contracts", "evidence", "thresholds")  # G2's summaries name their checks
    return [
        name
        for name, v in verdict.items()
        if isinstance(v, dict) and v.get("pass") is False and name not in summary
    ]


def _g2(verdict: dict[str, Any]) -> str:
    """Contracts, the evidence decision with its figures, the lag half-life, the flags."""
    dsr, spa, pbo = verdict.get("dsr", {}), verdict.get("spa", {}), verdict.get("pbo", {})
    perm = verdict.get("block_permutation", {})
    contracts = verdict.get("contracts", {})
    proof = verdict.get("evidence", {})
    text = [
        "contracts " + ("hold" if contracts.get("pass") else "broken"),
        f"evidence {'pass' if proof.get('pass') else 'fail'}: "
        f"DSR {_num(dsr.get('dsr'))} (N={_num(dsr.get('trials'), 0)} of "
        f"{_num(dsr.get('trials_raw'), 0)} trials), SPA p {_num(spa.get('p_value'))}, "
        f"PBO {_num(pbo.get('pbo'))}",
        f"permutation p {_num(perm.get('p_value'))}",
    ]
    lag = verdict.get("time_shift", {}).get("lag")
    half = lag.get("half_life_bars") if isinstance(lag, dict) else None
    if isinstance(half, int | float) or str(half).startswith(">"):
        text.append(f"lag half-life {_num(half, 1)} bars")
    if verdict.get("flags"):
        text.append("flags: " + ", ".join(verdict["flags"]))
    return ", ".join(text)


def figures(gate: str, verdict: dict[str, Any]) -> str:
    """A short account of one gate's verdict: its key figures, then what failed."""
    if verdict.get("skipped"):
        return "skipped (--only)"
    if "error" in verdict:
        return f"error: {verdict['error']}"
    parts: list[str] = []
    if gate == "G0":
        parts.append(f"{verdict.get('errors')} errors, {verdict.get('warnings')} warnings")
        if verdict.get("input_unchanged") is False:
            parts.append("input changed since the run")
    elif gate == "G1":
        mismatch = verdict.get("first_mismatch")  # absent in reports written before it
        if verdict.get("pass"):
            parts.append("WAL and decision trace reproduced")
        elif mismatch:
            parts.append(f"differs at {mismatch}")
        elif verdict.get("config_matches_manifest") is False:
            parts.append("config snapshot differs from the manifest")
        else:
            parts.append("decision trace differs")
    elif gate == "G2":
        parts.append(_g2(verdict))
    elif gate == "G3":
        fees, wf = verdict.get("fees_x2", {}), verdict.get("walk_forward", {})
        parts.append(
            f"fees x2 return {_num(fees.get('return'))}, "
            f"walk-forward positive {_num(wf.get('positive_share'), 2)}"
        )
    elif gate == "G4":
        if "network" in verdict:
            parts.append(str(verdict["network"]))
        else:
            lat, parity = verdict.get("latency", {}), verdict.get("onnx_parity", {})
            parts.append(
                f"ONNX max diff {parity.get('max_abs_diff', '?'):.1e}, "
                f"p99 {_num(lat.get('p99_us'), 1)} µs"
                if isinstance(parity.get("max_abs_diff"), float)
                else "no ONNX figures"
            )
    failed = _failed(verdict)
    if failed:
        parts.append("failed: " + ", ".join(failed))
    return "; ".join(parts)


def identity(entry: dict[str, Any]) -> str:
    """The agent's policy hash (or kind), and the flags raised for it."""
    text = str(entry.get("policy_hash") or entry["kind"])
    flags = entry.get("flags") or []
    return text + (f" — flagged: {', '.join(flags)}" if flags else "")


def gates_table(report: dict[str, Any]) -> Table:
    """The terminal table: one row per agent and gate."""
    table = Table(title="Gates", title_justify="left")
    for col in ("agent", "gate", "verdict", "figures"):
        table.add_column(col, overflow="fold")
    for agent, entry in report["agents"].items():
        for gate, name in GATE_NAMES.items():
            v = entry.get(gate, {})
            mark = "[green]pass[/]" if v.get("pass") else "[red]FAIL[/]"
            table.add_row(agent, f"{gate} {name}", mark, figures(gate, v))
        overall = "[bold green]PASS[/]" if entry.get("pass") else "[bold red]FAIL[/]"
        table.add_row(agent, "[bold]all[/]", overall, identity(entry))
    return table


def gates_html(report: dict[str, Any]) -> str:
    """The report.html section (same content as :func:`gates_table`)."""
    e = html.escape
    rows = []
    for agent, entry in report["agents"].items():
        for gate, name in GATE_NAMES.items():
            v = entry.get(gate, {})
            verdict = "pass" if v.get("pass") else "FAIL"
            rows.append(
                f"<tr><td>{e(agent)}</td><td>{gate} {name}</td><td>{verdict}</td>"
                f"<td>{e(figures(gate, v))}</td></tr>\n"
            )
        overall = "PASS" if entry.get("pass") else "FAIL"
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
