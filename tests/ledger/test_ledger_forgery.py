"""Someone who can write the ledger directory but holds no key the ledger trusts: records
they append (a promotion straight to Production), re-chained as anyone can, are read by
nothing — not ``ledger show``, not a paper session's stage, not the next write — whether
they delete the anchor, sign one with their own key, or record a policy of their own."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import msgspec
import pytest

from scarline.journal.format import chain_hash, seal
from scarline.ledger.anchor import ANCHOR_FILE, GENESIS_HEAD, write_anchor
from scarline.ledger.policy import POLICY_FILE, parse_policy
from scarline.ledger.records import (
    Envelope,
    LedgerError,
    LedgerRecordData,
    PolicySet,
    Promotion,
    policy_payload,
)
from scarline.ledger.store import Ledger
from scarline.signing import POLICY_PURPOSE, KeyStore, SigningKey

SEGMENT = "000000.jsonl"
FORGED = Promotion(policy="r:0", from_stage="Research", to_stage="Production", evidence=[])


@pytest.fixture(scope="module")
def genuine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ledger its owner wrote: the policy, one registration."""
    tmp = tmp_path_factory.mktemp("forgery")
    run = tmp / "run"
    run.mkdir()
    (run / "manifest.json").write_text(json.dumps({"run_id": "r", "agents": 4}))
    ledger = Ledger(tmp / "ledger")
    ledger.register("0", run)
    return ledger.dir


@pytest.fixture(scope="module")
def eve(tmp_path_factory: pytest.TempPathFactory) -> SigningKey:
    """The attacker's own key, in a key store of their own."""
    store = KeyStore(tmp_path_factory.mktemp("eve-keys"))
    store.init("eve")
    return store.load("eve")


def append(ledger: Path, event: LedgerRecordData) -> tuple[int, str]:
    """Append ``event`` chained as the ledger's writer would: ``(records, head)`` after it."""
    lines = (ledger / SEGMENT).read_bytes().splitlines()
    head = json.loads(lines[-1])["h"] if lines else GENESIS_HEAD
    canonical = msgspec.json.encode(Envelope(len(lines), 5, type(event).__name__, event))
    digest = chain_hash(bytes.fromhex(head), canonical)
    with (ledger / SEGMENT).open("ab") as f:
        f.write(seal(canonical, digest))
    return len(lines) + 1, digest.hex()


def own_policy(ledger: Path, eve: SigningKey, text: str) -> None:
    """Record ``text`` as the policy in force, signed by ``eve``, and write policy.toml."""
    lines = (ledger / SEGMENT).read_bytes().splitlines()
    sha = parse_policy(text).sha256
    signature = eve.sign(POLICY_PURPOSE, policy_payload(json.loads(lines[-1])["h"], sha))
    signed = PolicySet(sha256=sha, text=text, public_key=eve.public.text, signature=signature)
    append(ledger, signed)
    (ledger / POLICY_FILE).write_text(text)


def policy_text(names: dict[str, SigningKey]) -> str:
    """A policy in which every key of ``names`` holds every role and approves every stage."""
    keys = "\n".join(f'{n} = "{k.public.text}"' for n, k in names.items())
    everyone = json.dumps(list(names))
    roles = "\n".join(f"{r} = {everyone}" for r in ("runs", "gates", "ledger"))
    stages = ("Candidate", "Shadow", "LimitedLive", "Production")
    approvers = "\n".join(f"{s} = {everyone}" for s in stages)
    return f"version = 1\n[keys]\n{keys}\n[roles]\n{roles}\n[approvers]\n{approvers}\n"


def no_anchor(ledger: Path, eve: SigningKey) -> str:
    (ledger / ANCHOR_FILE).unlink()
    append(ledger, FORGED)
    return "but no anchor.json"


def own_anchor(ledger: Path, eve: SigningKey) -> str:
    write_anchor(ledger, *append(ledger, FORGED), eve)
    return "which the ledger policy does not let write the ledger"


def own_policy_and_anchor(ledger: Path, eve: SigningKey) -> str:
    own_policy(ledger, eve, policy_text({"eve": eve}))
    write_anchor(ledger, *append(ledger, FORGED), eve)
    return "which the policy in force did not let write the ledger"


FORGERIES: list[Callable[[Path, SigningKey], str]] = [no_anchor, own_anchor, own_policy_and_anchor]


@pytest.mark.parametrize("forge", FORGERIES, ids=lambda f: f.__name__)
def test_records_no_ledger_key_vouches_for_are_read_by_nothing(
    forge: Callable[[Path, SigningKey], str], genuine: Path, eve: SigningKey, tmp_path: Path
) -> None:
    work = Path(shutil.copytree(genuine, tmp_path / "ledger"))
    why = forge(work, eve)
    ledger = Ledger(work)
    with pytest.raises(LedgerError, match=f"fails verification: .*{why}"):
        ledger.state()  # what `ledger show`, the service and a paper session read
    assert not ledger.verify().ok
    with pytest.raises(LedgerError, match=why):
        ledger.rollback("Production")


def test_a_policy_of_their_own_that_also_trusts_the_owner_is_refused(
    genuine: Path, eve: SigningKey, tmp_path: Path
) -> None:
    """The policy lists the owner's key too, so the owner's next write would go through
    and sign the anchor over it: nothing but the policy's own signature tells."""
    work = Path(shutil.copytree(genuine, tmp_path / "ledger"))
    owner = KeyStore().load("default")
    own_policy(work, eve, policy_text({"default": owner, "eve": eve}))
    write_anchor(work, *append(work, FORGED), eve)
    before = (work / SEGMENT).read_bytes()
    ledger = Ledger(work)
    with pytest.raises(LedgerError, match="policy recorded at seq 2 is signed by key"):
        ledger.approve("r:0", stage="candidate", by="ada", reason="routine")
    with pytest.raises(LedgerError, match="policy recorded at seq 2 is signed by key"):
        ledger.state()
    assert (work / SEGMENT).read_bytes() == before


def test_a_ledger_without_a_policy_is_not_adopted_by_a_routine_write(
    genuine: Path, eve: SigningKey, tmp_path: Path
) -> None:
    """Records with no policy, anchored by the attacker, and the owner's own policy.toml
    beside them: a routine write would record that policy after the forged records and sign
    the anchor, leaving a ledger whose policy and anchor key are the owner's. Only
    ``ledger anchor`` (someone who looked) adopts records without a policy."""
    work = tmp_path / "ledger"
    work.mkdir()
    shutil.copy(genuine / POLICY_FILE, work / POLICY_FILE)
    (work / SEGMENT).touch()
    append(work, Ledger(genuine).state().records[1].data)  # the registration of r:0
    write_anchor(work, *append(work, FORGED), eve)
    ledger = Ledger(work)
    with pytest.raises(LedgerError, match="no policy recorded"):
        ledger.register("1", genuine.parent / "run")
    with pytest.raises(LedgerError, match="no policy recorded"):
        ledger.state()
    assert len((work / SEGMENT).read_bytes().splitlines()) == 2


def test_a_segment_linked_to_a_file_of_the_writer_is_never_cut_or_appended_to(
    genuine: Path, tmp_path: Path
) -> None:
    """A ledger directory holding only ``000000.jsonl -> ~/.git-credentials`` (one line, not
    JSON: read as a torn tail): `ledger anchor` would set the "torn" line aside — moving the
    secret into the ledger directory — cut the file and append records to it."""
    secret = tmp_path / "git-credentials"
    secret.write_text("https://ada:hunter2@git.example.invalid\n")
    work = tmp_path / "ledger"
    work.mkdir()
    (work / SEGMENT).symlink_to(secret)
    ledger = Ledger(work)
    with pytest.raises(LedgerError, match=r"is a symbolic link .* refusing to write"):
        ledger.anchor()
    assert secret.read_text() == "https://ada:hunter2@git.example.invalid\n"
    assert sorted(p.name for p in work.iterdir()) == [SEGMENT]


def test_ledger_files_are_never_written_through_a_planted_link(
    genuine: Path, tmp_path: Path
) -> None:
    work = Path(shutil.copytree(genuine, tmp_path / "ledger"))
    victim = tmp_path / "profile"
    victim.write_text("umask 077\n")
    (work / POLICY_FILE).unlink()  # the next write restores it from the recorded policy
    for name in (ANCHOR_FILE, POLICY_FILE):
        (work / f"{name}.tmp").symlink_to(victim)
    Ledger(work).approve("r:0", stage="candidate", by="ada", reason="routine")
    assert victim.read_text() == "umask 077\n"
    assert Ledger(work).verify().ok
