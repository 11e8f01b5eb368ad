"""The ledger's policies in a live session: ``[live] policies = "ledger:Shadow"``.

The session runs the learned policies the ledger has at a stage in a group of slots
(``policy_slots`` policies, each on every symbol of the session: the genome does not say
which symbol it learned on, and a Shadow policy is judged on all of them). The group is a
non-learning, non-evolving copy of the policies' source group (the layout every policy in
it must share), added to the config at the session's start (``live.policy_group`` records
its index, so a resumed session and a replay build the same population).

Each policy is loaded by its policy hash from the vault of the run it came from, checked by
sha256 (:func:`~scarline.evolution.rebuild.load_genome_from_vault`), and copied into the
session's own vault, so replay needs nothing outside the run directory. At every bar the
ledger is looked at (re-read only when its files changed); a promotion to the stage or a
rollback from it becomes a :class:`~scarline.events.PolicySwap` at the next step, journaled
and applied before anyone decides — so a rollback is instant and replays exactly.
"""

from __future__ import annotations

import re
from pathlib import Path

import structlog

from scarline.agents.config import QNetGroup
from scarline.config import RunConfig, load_config
from scarline.errors import ConfigError, ScarlineError
from scarline.events import PolicySwap
from scarline.evolution.genome import Genome, encode_genome, policy_hash
from scarline.evolution.rebuild import load_genome_from_vault
from scarline.evolution.vault import Vault
from scarline.features.market import feature_names
from scarline.ledger.bound_run import bound_run
from scarline.ledger.state import STAGES, LedgerState, parse_stage
from scarline.ledger.store import Ledger, default_ledger_dir
from scarline.operator import Swap
from scarline.policy_store import genome_of_agent
from scarline.report.gate_report import read_gate_report
from scarline.rundir import RunDir
from scarline.service.view import PolicySlot
from scarline.session import SessionIds

_SPEC = re.compile(r"ledger:(?P<stage>[A-Za-z_-]+)")


def parse_policies(spec: str) -> str:
    """``"ledger:Shadow"`` → ``"Shadow"`` (any spelling of a stage); a ConfigError else."""
    match = _SPEC.fullmatch(spec.strip())
    if match is None:
        raise ConfigError(f'live.policies: {spec!r} is not "ledger:STAGE" (e.g. "ledger:Shadow")')
    try:
        return parse_stage(match["stage"])
    except ValueError as err:
        raise ConfigError(f"live.policies: {err} (stages: {', '.join(STAGES)})") from None


def at_stage(state: LedgerState, stage: str) -> list[str]:
    """Policies at ``stage``, the most recently arrived first."""
    here = [p for p, st in state.policies.items() if st.stage == stage]
    return sorted(here, key=lambda p: -state.policies[p].since)


def _genome_of(state: LedgerState, policy: str) -> tuple[str, Genome]:
    """``(policy hash, genome)`` of a ledger policy: from its run's vault by hash, or, for
    one registered by agent id, rebuilt from the run's weights and checked against the
    policy hash its signed gate report judged; the run's files must be those the ledger
    bound (:func:`~scarline.ledger.bound_run.bound_run`)."""
    registered = state.policies[policy].registered
    run = bound_run(state, policy)  # the files as promoted, not as edited since
    if registered.policy_hash:
        return load_genome_from_vault(run, registered.policy_hash)
    if registered.agent is None:
        raise ScarlineError(f"ledger policy {policy}: neither a policy hash nor an agent")
    genome = genome_of_agent(run, registered.agent)
    digest = policy_hash(genome)
    judged = _judged_hash(run, registered.agent)
    if judged is not None and judged != digest:
        raise ScarlineError(
            f"ledger policy {policy}: the run's weights make policy {digest[:12]}, its gate "
            f"report judged {judged[:12]}"
        )
    return digest, genome


def _judged_hash(run_dir: Path, agent: int) -> str | None:
    """The policy hash the run's gate report gives ``agent`` (None: no report or hash)."""
    path = RunDir(run_dir).gates
    if not path.is_file():
        return None
    verdict = read_gate_report(path).agents.get(str(agent))
    return None if verdict is None else verdict.policy_hash


def slot_group(state: LedgerState, policy: str, slots: int, n_instruments: int) -> QNetGroup:
    """The group of slots for policies shaped like ``policy``: its source group, not
    learning, not evolving, ``slots × n_instruments`` rows."""
    registered = state.policies[policy].registered
    _, genome = _genome_of(state, policy)
    source = load_config(Path(registered.run_dir) / "config.toml")
    for group in source.agents:
        if isinstance(group, QNetGroup) and _fits(group, genome):
            return group.model_copy(
                update={
                    "count": slots * n_instruments,
                    "learn": False,
                    "evolution": group.evolution.model_copy(update={"enabled": False}),
                }
            )
    raise ScarlineError(
        f"ledger policy {policy}: no q-network group of {registered.run_dir} has its layout, "
        f"or it needs features a live market does not have ({', '.join(genome.feature_names)})"
    )


def _fits(group: QNetGroup, genome: Genome) -> bool:
    """Whether ``genome`` runs in ``group`` on a live market (no exogenous columns)."""
    return (
        tuple(feature_names(group.features, ())) == tuple(genome.feature_names)
        and tuple(group.qnet.hidden) == tuple(genome.hidden)
        and tuple(group.qnet.actions) == tuple(genome.actions)
    )


def with_policy_group(config: RunConfig, n_instruments: int) -> RunConfig:
    """``config`` with the slot group appended (``live.policy_group`` set), once."""
    live = config.live
    if live is None or live.policies is None or live.policy_group is not None:
        return config
    stage = parse_policies(live.policies)
    ledger = Ledger(live.ledger_dir or default_ledger_dir())
    state = ledger.state()
    here = at_stage(state, stage)
    if not here:  # nothing to run yet: the session runs without slots, and says so
        structlog.get_logger("scarline.paper").warning(
            "paper.no_policies",
            stage=stage,
            ledger=str(ledger.dir),
            note="running without the ledger's policies; restart after a promotion",
        )
        return config
    group = slot_group(state, here[0], live.policy_slots, n_instruments)
    agents = [*config.agents, group]
    new_live = live.model_copy(update={"policy_group": len(config.agents)})
    return config.model_copy(update={"agents": agents, "live": new_live})


class LedgerPolicies:
    """Which policy each slot runs, kept in step with the ledger."""

    def __init__(
        self,
        config: RunConfig,
        ids: SessionIds,
        n_instruments: int,
        run_vault: Path,
    ) -> None:
        live = config.live
        assert live is not None and live.policies is not None and live.policy_group is not None
        self.stage = parse_policies(live.policies)
        self.ledger = Ledger(live.ledger_dir or default_ledger_dir())
        self.group = live.policy_group
        group = config.agents[self.group]
        assert isinstance(group, QNetGroup)
        self._group_cfg = group
        self.slots = live.policy_slots
        self.m = n_instruments
        self.ids = ids
        self.vault = Vault(run_vault)
        self.running: list[str] = [""] * self.slots  # the policy of each slot ("" = none)
        self._hashes: dict[str, str] = {}
        self._seen: tuple[tuple[str, int, int], ...] | None = None

    def slots_now(self) -> list[PolicySlot]:
        """What each slot runs now (the operations service's /status)."""
        return [
            PolicySlot(slot=i, policy=p, policy_hash=self._hashes.get(p, ""), stage=self.stage)
            for i, p in enumerate(self.running)
        ]

    def restore(self, swaps: list[PolicySwap]) -> None:
        """A resumed session's slots, as its journaled swaps left them."""
        for swap in swaps:
            self.running[swap.rows[0] // self.m] = swap.policy if swap.policy_hash else ""
            self._hashes[swap.policy] = swap.policy_hash
        self._seen = None

    def poll(self, step: int) -> list[Swap]:
        """The swaps that bring the slots in line with the ledger (none if it is unchanged)."""
        mark = self._mark()
        if mark == self._seen:
            return []
        self._seen = mark
        state = self.ledger.state()
        wanted = at_stage(state, self.stage)[: self.slots]
        keep = [p for p in self.running if p in wanted]
        fresh = [p for p in wanted if p not in keep]
        swaps: list[Swap] = []
        for slot, current in enumerate(self.running):
            if current and current in wanted:
                continue
            policy = fresh.pop(0) if fresh else ""
            if policy == current:
                continue
            swaps.append(self._swap(step, slot, policy, current, state))
        return swaps

    def _swap(self, step: int, slot: int, policy: str, current: str, state: LedgerState) -> Swap:
        genome: Genome | None = None
        digest = ""
        reason = self._reason(step, current, state) if current else "empty"
        if policy:
            try:
                digest, genome = _genome_of(state, policy)
            except ScarlineError as err:
                reason = f"refused: {err}"
                policy = ""
            else:
                if not _fits(self._group_cfg, genome):
                    reason, genome, digest = "refused: another layout than the slots", None, ""
                    policy = ""
                else:
                    reason = self._reason(step, current, state)
                    if digest not in self.vault:
                        self.vault.put(encode_genome(genome), digest)
        self.running[slot] = policy
        self._hashes[policy] = digest
        event = PolicySwap(
            run_id=self.ids.run_id,
            session_id=self.ids.session_id,
            step=step,
            group=self.group,
            rows=[slot * self.m + m for m in range(self.m)],
            policy=policy,
            policy_hash=digest,
            stage=self.stage,
            reason=reason,
            ledger_head=state.head,
        )
        return event, genome

    def _reason(self, step: int, current: str, state: LedgerState) -> str:
        """Why a slot takes a policy: the session's start, its policy leaving the stage (a
        rollback or a promotion beyond it), or a policy newly at the stage."""
        if current and current in state.policies:
            now = state.policies[current].stage
            if now != self.stage:
                return f"{current} left {self.stage} (now {now})"
        return "start" if step == 0 and not current else "promoted"

    def _mark(self) -> tuple[tuple[str, int, int], ...]:
        """What the ledger directory's files look like now (name, size, mtime)."""
        if not self.ledger.dir.is_dir():
            return ()
        return tuple(
            (p.name, (s := p.stat()).st_size, s.st_mtime_ns)
            for p in sorted(self.ledger.dir.iterdir())
            if p.is_file()
        )
