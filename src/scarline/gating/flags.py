"""Flags a gate report can raise about a policy: not failures, but a reason to look.

A flagged policy may pass every gate; the ledger then refuses to promote it past Candidate
until a human approval *names* the flag (``scarline approve POLICY --flag NAME``), so nobody
ships it without having read why it was raised. Kept free of heavy imports: the ledger and
the CLI read it.
"""

from __future__ import annotations

IMPLAUSIBLE_EDGE = "implausible_edge"

FLAGS: dict[str, str] = {
    IMPLAUSIBLE_EDGE: (
        "per-bar Sharpe or a column's IC with the next return above what a real market offers "
        "(G2 plausibility; docs/gates.md)"
    ),
}
"""Every flag a gate report may carry, with what it means."""

FLAGGED_FROM = "Shadow"
"""The first stage a flagged policy needs an approval naming the flag for."""


def unknown_flags(names: list[str] | tuple[str, ...]) -> list[str]:
    """The names that are not flags a gate report can raise."""
    return sorted(set(names) - set(FLAGS))
