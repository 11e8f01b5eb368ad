"""The ledger's Shadow policies in a paper session: the policy promoted to Shadow is what the
session runs; a rollback during the session swaps it at the next bar, journaled, and replay
gives parity."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from feed_venue import FakeVenue
from ledger_helpers import passing_gates, tiny_q_run, write_gates
from paper_helpers import PaperRunner, ccxt_live, paper_config

from scarline.errors import ScarlineError
from scarline.events import Decision, PolicySwap
from scarline.evolution.genome import policy_hash
from scarline.journal import read_records
from scarline.journal.manifest import read_manifest
from scarline.ledger.store import Ledger
from scarline.policy_store import genome_of_agent
from scarline.replayer import replay, replay_run
from scarline.rundir import RunDir

ROLLBACK_AFTER = 20


def test_the_shadow_policy_runs_and_a_rollback_swaps_it_at_the_next_bar(
    venue: FakeVenue, run_session: PaperRunner, tmp_path: Path
) -> None:
    source = tiny_q_run(tmp_path, "source", seed=5)
    hashes = {f"source:{a}": policy_hash(genome_of_agent(source, a)) for a in (1, 2)}
    agents = {}
    for a in (1, 2):  # what the gates judged, policy hash included
        verdicts = passing_gates(str(a))["agents"]
        assert isinstance(verdicts, dict)
        agents[str(a)] = verdicts[str(a)] | {"policy_hash": hashes[f"source:{a}"]}
    write_gates(source, passing_gates("1") | {"agents": agents})
    ledger = Ledger(tmp_path / "ledger")
    for agent in ("2", "1"):  # 1 reaches Shadow last: it is the one the session runs
        ledger.promote(agent, "candidate", run_dir=source)
        ledger.promote(agent, "shadow")
    first, second = "source:1", "source:2"

    def on_step(t: int) -> None:
        if t == ROLLBACK_AFTER:
            back = ledger.rollback("shadow", reason="shadow drawdown")
            assert back.from_policy == first

    live = ccxt_live(venue, policies="ledger:Shadow", ledger_dir=str(tmp_path / "ledger"))
    config = paper_config(tmp_path, live, agents=[{"kind": "buy-and-hold"}])
    summary = run_session(config, max_steps=40, on_step=on_step)

    run_dir = summary.run_dir
    records = list(read_records(RunDir(run_dir).wal))
    swaps = [r.data for r in records if isinstance(r.data, PolicySwap)]
    assert [(s.step, s.policy, s.policy_hash) for s in swaps] == [
        (0, first, hashes[first]),
        (ROLLBACK_AFTER + 1, second, hashes[second]),
    ]
    assert swaps[0].reason == "start" and "Candidate" in swaps[1].reason
    assert swaps[0].rows == [0, 1] and swaps[0].group == 1  # one slot, on both symbols
    # each swap is journaled before the decisions of its step
    seq = {id(r.data): r.seq for r in records}
    for swap in swaps:
        decision = next(
            r for r in records if isinstance(r.data, Decision) and r.data.step == swap.step
        )
        assert seq[id(swap)] < decision.seq
    # the slots run the policy the ledger has at Shadow, from the session's own vault
    kernel = replay(run_dir).kernel
    slots = kernel.population.groups[1]
    assert policy_hash(slots.genome(0)) == hashes[second]
    assert replay_run(run_dir).parity
    # the session's vault is bound in its manifest, like an evolving run's: a pack rewritten
    # with its SHA256SUMS line to match (a genome the session never ran) is refused
    bound = read_manifest(run_dir).artifacts
    packs = sorted(RunDir(run_dir).vault.glob("*.vpack"))
    assert packs and all(f"vault/{p.name}" in bound for p in packs)
    forged = packs[0].read_bytes() + b"\n"
    packs[0].write_bytes(forged)
    sums = RunDir(run_dir).vault / "SHA256SUMS"
    old = bound[f"vault/{packs[0].name}"]
    sums.write_text(sums.read_text().replace(old, hashlib.sha256(forged).hexdigest()))
    with pytest.raises(ScarlineError, match="manifest"):
        replay_run(run_dir)
