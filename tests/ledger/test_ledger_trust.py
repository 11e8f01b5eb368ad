"""Who the ledger trusts: signed run manifests and gate reports, approvals signed by a key the
ledger policy lets approve that stage and given at the stage below it, policy changes signed
by a writer of the policy in force, sealed runs refused, and policy arguments that cannot be
mistaken for one another (``promote 2`` is agent 2, never a run id starting with 2026…)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import msgspec
import pytest
from ledger_helpers import passing_gates, tiny_q_run, write_gates
from typer.testing import CliRunner

from scarline.cli import app
from scarline.gating.config import GatesConfig
from scarline.journal.seal import seal_run
from scarline.journal.signature import sign_run_files
from scarline.ledger.policy import PolicyError
from scarline.ledger.records import (
    AmbiguousPolicy,
    Approval,
    LedgerError,
    LedgerRecord,
    PolicyRegistered,
    PromotionRefused,
    UnknownPolicy,
    approval_payload,
)
from scarline.ledger.state import LedgerState
from scarline.ledger.store import Ledger
from scarline.signing import (
    APPROVAL_PURPOSE,
    KEYS_ENV,
    KeyStore,
    KeyStoreError,
    SigningKey,
)

RUN_ID = "20261123T000000-ab12"
"""Shaped like a default run id: ``2`` is a prefix of every policy id of this run."""
runner = CliRunner()


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_q_run(tmp_path_factory.mktemp("trust-run"), RUN_ID, seed=4)


@pytest.fixture
def run(tiny_run: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(tiny_run, tmp_path / "run"))


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(tmp_path / "ledger")


def session_key(name: str) -> SigningKey:
    """A key of the session's key store, created on first use."""
    store = KeyStore()
    if not store.exists(name):
        store.init(name)
    return store.load(name)


def forge(ledger: Ledger, approval: Approval) -> None:
    """Append ``approval`` as it is, with the ledger's own key writing (as a ledger written
    before signatures, or a writer that skipped the checks, would have)."""
    with ledger._locked() as app:
        app.append(approval)


def cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stderr


# --- agent ids, run-id prefixes and hash prefixes -------------------------------------------


def test_promote_2_is_agent_2_never_a_run_id_prefix(run: Path, tmp_path: Path) -> None:
    book = str(tmp_path / "ledger")
    assert cli("promote", "1", "--to", "candidate", "--run", str(run), "--ledger", book)[0] == 0
    code, err = cli("promote", "2", "--to", "shadow", "--ledger", book)
    assert code == 2 and "policy '2' is not in the ledger" in err
    assert Ledger(book).state().policies[f"{RUN_ID}:1"].stage == "Candidate"
    # with --run, 2 is that run's agent 2: registered, then refused one stage at a time
    code, err = cli("promote", "2", "--to", "shadow", "--run", str(run), "--ledger", book)
    assert code == 1 and f"cannot promote {RUN_ID}:2 from Research to Shadow" in err
    state = Ledger(book).state()
    assert state.policies[f"{RUN_ID}:2"].stage == "Research"
    assert state.policies[f"{RUN_ID}:1"].stage == "Candidate"

    # agent 1 of a second run: "1" is now ambiguous (exit 2, both listed)
    other = Path(shutil.copytree(run, tmp_path / "other"))
    manifest = json.loads((other / "manifest.json").read_text())
    manifest["run_id"] = "20261124T000000-cd34"
    (other / "manifest.json").write_text(json.dumps(manifest))
    assert cli("ledger", "register", "1", "--run", str(other), "--ledger", book)[0] == 0
    code, err = cli("approve", "1", "--by", "ada", "--reason", "r", "--ledger", book)
    assert code == 2
    assert f"policy '1' is ambiguous: it names {RUN_ID}:1, 20261124T000000-cd34:1" in err
    code, err = cli("approve", f"{RUN_ID}:1", "--by", "ada", "--reason", "r", "--ledger", book)
    assert code == 0, err


def test_resolution_order() -> None:
    state = LedgerState()
    full = "abcdef" + "0" * 58

    def reg(policy: str, **kw: object) -> PolicyRegistered:
        return PolicyRegistered(
            policy=policy, run_dir=f"/runs/{policy[:4]}", run_id="r", manifest_sha256="x", **kw
        )

    for seq, data in enumerate([reg("2026:12", agent=12), reg(full, policy_hash=full)]):
        state.apply(LedgerRecord(seq, 0, "PolicyRegistered", data, f"{seq:064x}"))
    assert state.resolve("12") == "2026:12"
    assert state.resolve("abcdef") == full  # hash prefixes from 6 hex digits
    for ref in ("2", "20", "2026", "abcde", "1"):
        with pytest.raises(UnknownPolicy):
            state.resolve(ref)
    assert state.resolve("2026:12") == "2026:12"
    with pytest.raises(UnknownPolicy):
        state.resolve("12", run_dir="/runs/else")
    state.apply(LedgerRecord(2, 0, "PolicyRegistered", reg("x:12", agent=12), "f" * 64))
    with pytest.raises(AmbiguousPolicy, match="it names 2026:12, x:12"):
        state.resolve("12")


# --- approvals -----------------------------------------------------------------------------


def test_only_signed_approvals_given_at_the_stage_below_count(run: Path, ledger: Ledger) -> None:
    pid = ledger.promote("1", "candidate", run_dir=run).policy
    write_gates(run, passing_gates("1"))
    ledger.promote(pid, "shadow")
    with pytest.raises(LedgerError, match="an approval for Production is given while the policy"):
        ledger.approve(pid, stage="production", by="ada", reason="early")

    eve = KeyStore(run / "eve-keys")
    eve.init("eve")
    eve_key = eve.load("eve")
    base = Approval(policy=pid, stage="LimitedLive", by="ada", reason="ok")
    forge(ledger, base)  # unsigned
    with pytest.raises(PromotionRefused, match=r"approval at seq \d+ is not signed"):
        ledger.promote(pid, "limited-live")
    head = ledger.state().head
    by_eve = msgspec.structs.replace(
        base,
        public_key=eve_key.public.text,
        signature=eve_key.sign(APPROVAL_PURPOSE, approval_payload(head, base)),
    )
    forge(ledger, by_eve)  # signed, by a key the policy does not let approve
    with pytest.raises(PromotionRefused, match=r"which may not approve LimitedLive") as err:
        ledger.promote(pid, "limited-live")
    assert f"signed by key {eve_key.public.key_id}" in str(err.value)
    with ledger._locked() as app:  # signed by the right key, then edited
        app.append(msgspec.structs.replace(app.signed(base), by="someone else"))
    with pytest.raises(PromotionRefused, match="does not verify"):
        ledger.promote(pid, "limited-live")
    with ledger._locked() as app:  # properly signed, for Production, while at Shadow
        app.append(app.signed(msgspec.structs.replace(base, stage="Production")))

    ledger.approve(pid, stage="limited-live", by="ada", reason="shadow ok")
    ledger.promote(pid, "limited-live")
    with pytest.raises(PromotionRefused) as err:
        ledger.promote(pid, "production")
    assert "was given at Shadow; Production needs one given while the policy is at " in str(
        err.value
    )
    ledger.approve(pid, stage="production", by="ada", reason="live ok")
    assert ledger.promote(pid, "production").to_stage == "Production"

    report = ledger.verify()
    assert not report.ok
    assert any("is not signed" in n for n in report.notes)
    assert any("which may not approve LimitedLive" in p for p in report.problems)
    assert any("does not verify (forged or edited)" in p for p in report.problems)


# --- the policy file -----------------------------------------------------------------------


def test_policy_changes_need_a_writer_of_the_policy_in_force(run: Path, ledger: Ledger) -> None:
    ledger.register("1", run)
    policy_file = ledger.dir / "policy.toml"
    assert "roles" in policy_file.read_text()
    eve = session_key("eve")
    as_eve = Ledger(ledger.dir, key="eve")
    with pytest.raises(LedgerError, match=r"your key 'eve' .* may not write"):
        as_eve.approve("1", stage="candidate", by="eve", reason="let me")

    text = policy_file.read_text()
    text = text.replace("[roles]", f'"eve" = "{eve.public.text}"\n\n[roles]')
    text = text.replace('ledger = ["default"]', 'ledger = ["default", "eve"]')
    text = text.replace('Candidate = ["default"]', 'Candidate = ["eve"]')
    policy_file.write_text(text)
    report = ledger.verify()
    assert not report.ok and "policy.toml differs from the policy in force" in report.problems[0]
    with pytest.raises(LedgerError, match="differs from the policy in force"):
        ledger.approve("1", stage="candidate", by="ada", reason="ok")
    with pytest.raises(LedgerError, match=r"your key 'eve' .* may not write"):
        as_eve.anchor()  # eve is not a writer of the policy in force
    assert ledger.anchor()["status"] == "policy recorded"
    assert ledger.verify().ok
    with pytest.raises(LedgerError, match="may not approve Candidate"):
        ledger.approve("1", stage="candidate", by="ada", reason="ok")
    as_eve.approve("1", stage="candidate", by="eve", reason="now I may")
    assert ledger.verify().ok


def test_without_a_key_nothing_is_written_and_runs_are_unsigned(
    run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEYS_ENV, str(tmp_path / "no-keys"))
    book = Ledger(tmp_path / "ledger")
    with pytest.raises(KeyStoreError, match="the ledger signs every write with your key") as err:
        book.register("1", run)
    assert err.value.exit_code == 2 and not book.dir.exists()
    (run / "manifest.sig").unlink()
    assert sign_run_files(run) == "" and not (run / "manifest.sig").exists()


# --- the run's evidence --------------------------------------------------------------------


def test_unsigned_or_untrusted_manifests_are_refused(run: Path, ledger: Ledger) -> None:
    ledger.register("1", run)
    signature = (run / "manifest.sig").read_bytes()
    (run / "manifest.sig").unlink()
    with pytest.raises(
        PromotionRefused, match=r"manifest\.json is not signed \(no manifest\.sig\)"
    ):
        ledger.promote("1", "candidate")
    sign_run_files(run, session_key("eve"))
    with pytest.raises(PromotionRefused, match="which the ledger policy does not let sign run"):
        ledger.promote("1", "candidate")
    (run / "manifest.sig").write_bytes(signature)
    assert ledger.promote("1", "candidate").to_stage == "Candidate"


def test_a_sealed_run_is_no_evidence(run: Path, ledger: Ledger) -> None:
    (run / "manifest.json").unlink()
    (run / "manifest.sig").unlink()
    assert seal_run(run, RUN_ID).status == "sealed"
    assert (run / "manifest.sig").is_file()  # sealed manifests are signed too
    with pytest.raises(PromotionRefused, match="sealed_after_crash") as err:
        ledger.promote("1", "candidate", run_dir=run)
    assert "a sealed run is not promotion evidence" in str(err.value)


def test_the_bound_gate_report_cannot_be_swapped(run: Path, ledger: Ledger) -> None:
    """Even a report a gate key signed: once the ledger bound one, another is refused."""
    write_gates(run, passing_gates("1"))
    ledger.promote("1", "candidate", run_dir=run)
    shadow = ledger.promote("1", "shadow")
    bound = next(e.sha256 for e in shadow.evidence if e.kind == "gate_report")
    write_gates(run, passing_gates("1", fees_x2={"sharpe": 2.5}))
    ledger.approve("1", stage="limited-live", by="ada", reason="ok")
    with pytest.raises(PromotionRefused, match=f"changed since the ledger bound {bound[:16]}"):
        ledger.promote("1", "limited-live")
    assert "is not the report the ledger bound" in " ".join(ledger.verify().problems)


def test_verdicts_judged_by_thresholds_the_policy_does_not_name_are_no_evidence(
    run: Path, ledger: Ledger
) -> None:
    """A report judged with ``alpha = 0.99`` is signed like any other: only the ledger's
    policy can refuse it, and it accepts it once its sha256 is recorded there."""
    lax = GatesConfig.model_validate({"G2": {"alpha": 0.99}}).sha256()
    write_gates(run, passing_gates("1", thresholds=lax))
    ledger.promote("1", "candidate", run_dir=run)
    with pytest.raises(PromotionRefused, match=f"judged with thresholds sha256 {lax[:16]}"):
        ledger.promote("1", "shadow")
    policy_file = ledger.dir / "policy.toml"
    policy_file.write_text(policy_file.read_text() + f'\n[gates]\nthresholds_sha256 = ["{lax}"]\n')
    assert ledger.anchor()["status"] == "policy recorded"
    assert ledger.promote("1", "shadow").to_stage == "Shadow"
    policy_file.write_text(policy_file.read_text() + 'extra = ["abc"]\n')
    with pytest.raises(PolicyError, match=r"gates\.extra is not a key"):
        ledger.anchor()


def test_a_config_snapshot_edited_after_the_run_is_no_evidence(run: Path, ledger: Ledger) -> None:
    """An edit that leaves the records as they were (a replay buffer no 200-bar run fills)
    still replays with parity, but it is not the config the manifest recorded; a paper
    session builds its policy slots from this file, so the ledger refuses it, as `scarline
    replay` does."""
    config = run / "config.toml"
    recorded = config.read_text()
    assert "buffer_capacity = 2048" in recorded
    config.write_text(recorded.replace("buffer_capacity = 2048", "buffer_capacity = 4096"))
    with pytest.raises(PromotionRefused, match="replay parity from the recorded config"):
        ledger.promote("1", "candidate", run_dir=run)
    config.write_text(recorded)
    assert ledger.promote("1", "candidate").to_stage == "Candidate"


def test_another_runs_signed_manifest_in_its_place_fails_verify(
    run: Path, ledger: Ledger, tmp_path: Path
) -> None:
    """manifest.json and manifest.sig of another run the same key signed: the signature
    holds, but the ledger registered another manifest."""
    ledger.promote("1", "candidate", run_dir=run)
    (tmp_path / "other").mkdir()
    other = tiny_q_run(tmp_path / "other", "other", seed=6)
    for name in ("manifest.json", "manifest.sig"):
        shutil.copy(other / name, run / name)
    (problem,) = ledger.verify().problems
    assert "manifest.json (digest" in problem and "is not the manifest the ledger registered" in (
        problem
    )
