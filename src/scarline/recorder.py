"""What a run keeps in memory for its report: the equity path, the trades, the risk events.

The WAL is the record of truth; this is a compact, array-shaped copy for plots and
metrics, filled by the kernel as it steps (no re-reading of the WAL afterwards).
"""

from __future__ import annotations

import numpy as np

from scarline.execution.types import FillBatch
from scarline.risk.codes import CAUSES, LEVELS
from scarline.risk.ladder import LadderTransitions


class Recorder:
    def __init__(self, n_steps: int, n_agents: int, *, keep_equity: bool = True) -> None:
        self.equity = np.zeros((n_steps, n_agents), dtype=np.int64) if keep_equity else None
        self._fills: list[tuple[int, FillBatch]] = []
        self._risk: list[tuple[np.ndarray, np.ndarray, list[str], list[str]]] = []

    def __deepcopy__(self, memo: dict[int, object]) -> Recorder:
        """A copy whose histories share their entries: an entry is never changed once
        appended (each step's fills and risk events are arrays of their own), so only the
        lists and the equity array are new. A block permutation copies a prefix kernel per
        placebo (:mod:`scarline.gating.prefix`); copying each of its thousands of entries
        cost ~0.3 s a placebo."""
        twin = Recorder.__new__(Recorder)
        memo[id(self)] = twin
        twin.equity = None if self.equity is None else self.equity.copy()
        twin._fills = list(self._fills)
        twin._risk = list(self._risk)
        return twin

    def grow(self, n_steps: int) -> None:
        """Room for ``n_steps`` rows of equity (a live session's market grows as it runs;
        capacity doubles, so growing a row at a time costs amortized O(1) per row)."""
        if self.equity is None or n_steps <= len(self.equity):
            return
        grown = np.zeros((max(n_steps, 2 * len(self.equity)), self.equity.shape[1]), np.int64)
        grown[: len(self.equity)] = self.equity
        self.equity = grown

    def trim(self, n_steps: int) -> None:
        """Drop the room :meth:`grow` left beyond ``n_steps`` rows (at the session's end)."""
        if self.equity is not None and len(self.equity) > n_steps:
            self.equity = self.equity[:n_steps].copy()

    def on_step(self, t: int, equity: np.ndarray) -> None:
        if self.equity is not None:
            self.equity[t] = equity

    def on_fills(self, t: int, fills: FillBatch) -> None:
        if len(fills):
            self._fills.append((t, fills))

    def on_risk(self, t: int, agents: np.ndarray, rules: list[str], outcomes: list[str]) -> None:
        """Risk events worth showing (anything but a plain pass)."""
        if agents.size:
            self._risk.append((np.full(agents.size, t, np.int64), agents, rules, outcomes))

    def on_transitions(self, t: int, tr: LadderTransitions) -> None:
        """Risk-ladder moves: rule = the cause, outcome = the new level."""
        self.on_risk(
            t,
            tr.agent,
            [CAUSES[c] for c in tr.cause.tolist()],
            [LEVELS[lv].lower() if lv else "pass" for lv in tr.to_level.tolist()],
        )

    def trades(self) -> dict[str, np.ndarray]:
        """All fills as arrays with their step."""
        if not self._fills:
            empty = FillBatch.empty()
            return {
                "step": np.zeros(0, np.int64),
                **{k: getattr(empty, k) for k in empty.__dataclass_fields__},
            }
        out = {"step": np.concatenate([np.full(len(f), t, np.int64) for t, f in self._fills])}
        for key in FillBatch.__dataclass_fields__:
            out[key] = np.concatenate([getattr(f, key) for _, f in self._fills])
        return out

    def risk_since(self, index: int) -> tuple[int, list[tuple[str, str]]]:
        """``(next index, [(rule, outcome), …])`` of the risk events recorded from entry
        ``index`` on (a live session's cumulative guardrail counts, read incrementally)."""
        found = [
            (rule, outcome)
            for _, _, rules, outcomes in self._risk[index:]
            for rule, outcome in zip(rules, outcomes, strict=True)
        ]
        return len(self._risk), found

    def risk_events(self) -> tuple[np.ndarray, np.ndarray, list[str], list[str]]:
        if not self._risk:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), [], []
        steps = np.concatenate([r[0] for r in self._risk])
        agents = np.concatenate([r[1] for r in self._risk])
        rules = [x for r in self._risk for x in r[2]]
        outcomes = [x for r in self._risk for x in r[3]]
        return steps, agents, rules, outcomes
