"""The ledger directory: its state read back (after checking the whole chain and the
anchor) and records appended under the directory lock, in the journal's format and chain
(``docs/wal.md``), each append signed into the anchor by the writer's key.

No write ever trims or rewrites a record. A torn last line is set aside (moved to
``<segment>.torn-<ns>``) only when the anchor shows a write of exactly that record was
interrupted; any other difference between the records and the anchor refuses every write.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import msgspec
import structlog

from scarline.digest import file_sha256
from scarline.errors import WalError
from scarline.gating.flags import FLAGS, unknown_flags
from scarline.journal.format import H_CLOSE, H_OPEN, TAIL, segment_name
from scarline.journal.lock import DirLock
from scarline.journal.scan import scan
from scarline.journal.segments import list_segments
from scarline.ledger.anchor import compare, read_anchor
from scarline.ledger.appender import Appender, set_aside, write_text
from scarline.ledger.audit import LedgerReport, audit, torn_tail
from scarline.ledger.checks import (
    collect_evidence,
)
from scarline.ledger.policy import POLICY_FILE, default_policy_text, parse_policy
from scarline.ledger.records import (
    LEDGER_ID,
    Approval,
    Envelope,
    LedgerError,
    LedgerRecord,
    PolicyRegistered,
    PolicySet,
    Promotion,
    PromotionRefused,
    Rollback,
    UnknownPolicy,
)
from scarline.ledger.state import STAGES, LedgerState, next_stage, parse_stage
from scarline.ledger.trust import distrust
from scarline.signing import (
    KeyStore,
    KeyStoreError,
    SigningKey,
    key_name,
)

LEDGER_ENV = "SCARLINE_LEDGER"
DEFAULT_LEDGER = Path("ledger")
LOCK_WAIT_S = 60.0
"""How long a write waits for another writer of the same ledger before giving up. Writes
are short, but a promotion holds the lock while it replays its run (tens of seconds)."""
LOCK_POLL_S = 0.05


def default_ledger_dir() -> Path:
    return Path(os.environ.get(LEDGER_ENV) or DEFAULT_LEDGER)


class Ledger:
    """The ledger directory: read its state, append records under the directory lock."""

    def __init__(self, directory: Path | str | None = None, *, key: str | None = None) -> None:
        self.dir = Path(directory) if directory is not None else default_ledger_dir()
        self.key_name = key or key_name()
        """The key that signs what this process writes (``$SCARLINE_KEY``, else default)."""
        self._decode = msgspec.json.Decoder(Envelope).decode
        self._encode = msgspec.json.Encoder().encode

    # reading

    def verify(self, *, evidence: bool = False) -> LedgerReport:
        """The chain, the anchor, the policy, every signature (approvals, each policy's run
        manifest and gate report); ``evidence``: also re-run each policy's run-directory
        evidence checks (artifacts, replay)."""
        if not self.dir.is_dir():
            raise LedgerError(f"no ledger at {self.dir}")
        return audit(self.dir, self._read_upto, evidence=evidence)

    def records(self) -> list[LedgerRecord]:
        """Every record, after the checks of :meth:`state`."""
        return self.state().records

    def state(self) -> LedgerState:
        """The ledger folded, after checking the whole chain, the anchor, and that both are
        vouched for by the ledger's own keys (:func:`~scarline.ledger.trust.distrust`): a
        tampered, cut or forged ledger proves nothing, and nobody should act on it."""
        if not self.dir.is_dir():
            return LedgerState()
        found = scan(self.dir, LEDGER_ID)
        torn_bytes = torn_tail(
            self.dir, found.bad, found.bad_is_tail, found.bad_offset, "fails verification"
        )
        st = _fold(self._read_upto(found.records), self.dir)
        anchor = read_anchor(self.dir)
        problem = distrust(st, anchor)
        if not problem and anchor is not None:
            problem = compare(anchor, [r.h for r in st.records], torn_bytes).problem
        elif not problem and torn_bytes:
            problem = (
                "its last line is torn and there is no anchor to tell an interrupted write "
                "from a cut record"
            )
        if problem:
            raise LedgerError(f"ledger {self.dir} fails verification: {problem}")
        return st

    def _read_upto(self, limit: int | None = None) -> list[LedgerRecord]:
        """The complete records (the first ``limit``), decoded; the chain is checked apart."""
        out: list[LedgerRecord] = []
        for path in list_segments(self.dir):
            with path.open("rb") as f:
                for n, line in enumerate(f, 1):
                    if not line.endswith(b"\n") or (limit is not None and len(out) >= limit):
                        break
                    body = line[:-1]
                    try:
                        env = self._decode(body)
                    except ValueError as err:
                        raise LedgerError(f"{path}: line {n}: {err}") from None
                    h = body[-TAIL + len(H_OPEN) : -len(H_CLOSE)].decode()
                    out.append(LedgerRecord(env.seq, env.ts, env.kind, env.data, h))
        return out

    # writing

    def _signing_key(self) -> SigningKey:
        try:
            return KeyStore().load(self.key_name)
        except KeyStoreError as err:
            raise KeyStoreError(f"the ledger signs every write with your key: {err}") from None

    @contextmanager
    def _locked(self, *, adopt: bool = False) -> Iterator[Appender]:
        """Check the ledger against its anchor and policy, then hand out an appender.
        ``adopt`` (``scarline ledger anchor``): accept a ledger without an anchor or a
        policy, or an edited policy.toml, so the appender can record them."""
        key = self._signing_key()  # before anything is created: a refused write leaves nothing
        self.dir.mkdir(parents=True, exist_ok=True)
        where = f"ledger {self.dir}"
        with _write_lock(self.dir):
            _refuse_links(self.dir)
            found = scan(self.dir, LEDGER_ID)
            try:
                torn_bytes = torn_tail(self.dir, found.bad, found.bad_is_tail, found.bad_offset)
            except LedgerError as err:
                # an edited record, even the last one, is tampering: it blocks every write
                raise LedgerError(
                    f"{err}; refusing to write (see `scarline ledger verify`)"
                ) from None
            st = _fold(self._read_upto(found.records), self.dir)
            anchor = read_anchor(self.dir)
            if problem := distrust(st, anchor, adopt=adopt):
                raise LedgerError(
                    f"{where}: {problem}; refusing to write (see `scarline ledger verify`)"
                )
            if anchor is None:
                if torn_bytes and not adopt:
                    raise LedgerError(
                        f"{where}: its last line is torn and there is no anchor.json to tell an "
                        "interrupted write from a cut record; if you trust it as it is, "
                        "`scarline ledger anchor` sets the torn bytes aside and anchors it"
                    )
                if torn_bytes:
                    set_aside(self.dir, found)
            else:
                check = compare(anchor, [r.h for r in st.records], torn_bytes)
                if check.problem:
                    raise LedgerError(
                        f"{where}: {check.problem}; refusing to write (see `scarline ledger "
                        "verify`)"
                    )
                if check.torn_is_interrupted_write:
                    set_aside(self.dir, found)
            if st.policy is not None:
                if not st.policy.may("ledger", key.public):
                    raise LedgerError(
                        f"your key {key.name!r} ({key.public.key_id}) may not write {where} "
                        f"(policy roles.ledger: {st.policy.holders('ledger')}); a holder adds "
                        "it to policy.toml and records that with `scarline ledger anchor`"
                    )
                self._check_policy_file(st, adopt)
            segments = list_segments(self.dir)
            path = segments[-1] if segments else self.dir / segment_name(0)
            app = Appender(self.dir, st, path, key)
            if st.policy is None and not adopt:
                app.set_policy(self._first_policy(key))
            yield app

    def _check_policy_file(self, st: LedgerState, adopt: bool) -> None:
        """policy.toml must be the policy in force; a missing file is restored from it."""
        path = self.dir / POLICY_FILE
        assert st.policy_seq is not None
        recorded = st.records[st.policy_seq].data
        assert isinstance(recorded, PolicySet)
        if not path.is_file():
            write_text(path, recorded.text)
        elif file_sha256(path) != recorded.sha256 and not adopt:
            raise LedgerError(
                f"{path} differs from the policy in force (recorded at seq {st.policy_seq}): "
                "record the change with `scarline ledger anchor`, or restore the file; "
                "refusing to write"
            )

    def _first_policy(self, key: SigningKey) -> str:
        """policy.toml if someone wrote one, else the default: ``key`` holds every role."""
        path = self.dir / POLICY_FILE
        if path.is_file():
            return path.read_text(encoding="utf-8")
        text = default_policy_text(key.name, key.public)
        structlog.get_logger("scarline.ledger").warning(
            "ledger.policy_created",
            path=str(path),
            key=key.name,
            key_id=key.public.key_id,
            note="this key may sign runs and gate reports, write and approve; edit policy.toml "
            "and run `scarline ledger anchor` to change that",
        )
        return text

    def anchor(self, *, now: int | None = None) -> dict[str, object]:
        """``scarline ledger anchor``: anchor a ledger written before anchors (recording
        policy.toml, or a default one, as its first policy), record an edited policy.toml,
        or re-sign the anchor of an intact ledger. Never accepts a cut or edited ledger."""
        with self._locked(adopt=True) as app:
            st = app.state
            path = self.dir / POLICY_FILE
            text = path.read_text(encoding="utf-8") if path.is_file() else None
            if st.policy is None:
                status = "adopted" if st.records else "created"
                app.set_policy(text or self._first_policy(app.key), now)
            elif text is not None and parse_policy(text, str(path)).sha256 != st.policy.sha256:
                app.set_policy(text, now)
                status = "policy recorded"
            else:
                self._check_policy_file(st, adopt=False)
                app.reanchor()
                status = "anchored"
            return {
                "status": status,
                "ledger": str(self.dir),
                "records": len(st.records),
                "head": st.head,
                "policy_sha256": st.policy.sha256 if st.policy else None,
                "key_id": app.key.public.key_id,
            }

    def register(self, policy: str, run_dir: Path, *, now: int | None = None) -> PolicyRegistered:
        with self._locked() as app:
            event = app.register(policy, run_dir)
            app.append(event, now)
            return event

    def approve(
        self,
        policy: str,
        *,
        stage: str | None,
        by: str,
        reason: str,
        flags: tuple[str, ...] | list[str] = (),
        now: int | None = None,
    ) -> Approval:
        """Record a human approval; ``flags`` names the gate-report flags it accepts."""
        if not by.strip():
            raise LedgerError("an approval needs --by NAME (who approves)")
        if not reason.strip():
            raise LedgerError("an approval needs --reason TEXT (why)")
        if unknown := unknown_flags(tuple(flags)):
            raise LedgerError(
                f"unknown flag(s) {', '.join(unknown)} (flags: {', '.join(sorted(FLAGS))})"
            )
        with self._locked() as app:
            pid = app.state.resolve(policy)
            here = app.state.policies[pid].stage
            target = parse_stage(stage) if stage else next_stage(here)
            if target == "Research":
                raise LedgerError("nothing to approve for Research")
            below = STAGES[STAGES.index(target) - 1]
            if here != below:
                raise LedgerError(
                    f"an approval for {target} is given while the policy is at {below}; "
                    f"{pid} is at {here}"
                )
            policy_in_force = app.state.policy
            assert policy_in_force is not None  # _locked records one before any other record
            if not policy_in_force.may_approve(target, app.key.public):
                raise LedgerError(
                    f"your key {app.key.name!r} ({app.key.public.key_id}) may not approve "
                    f"{target} (policy approvers.{target}: {policy_in_force.holders(target)})"
                )
            event = app.signed(
                Approval(
                    policy=pid,
                    stage=target,
                    by=by.strip(),
                    reason=reason.strip(),
                    flags=tuple(sorted(set(flags))),
                )
            )
            app.append(event, now)
            return event

    def promote(
        self,
        policy: str,
        to: str,
        *,
        run_dir: Path | None = None,
        now: int | None = None,
    ) -> Promotion:
        """Move ``policy`` up one stage, re-checking (and binding) every piece of evidence."""
        target = parse_stage(to)
        with self._locked() as app:
            run = str(Path(run_dir).resolve()) if run_dir is not None else None
            known = app.state.policies.get(policy)
            if run is not None and known is not None and known.registered.run_dir != run:
                raise LedgerError(
                    f"policy {policy} was registered from {known.registered.run_dir}, not {run_dir}"
                )
            try:  # with --run, an agent id names that run's agent, never another run's
                pid = app.state.resolve(policy, run)
            except UnknownPolicy:
                if run_dir is None:
                    raise
                reg = app.register(policy, run_dir)
                app.append(reg, now)
                pid = reg.policy
            st = app.state.policies[pid]
            here = st.stage
            if target == "Research" or STAGES.index(target) != STAGES.index(here) + 1:
                nxt = next_stage(here) if here != STAGES[-1] else None
                raise PromotionRefused(
                    f"cannot promote {pid} from {here} to {target}: one stage at a time"
                    + (f" (next: {nxt})" if nxt else f" ({here} is the last stage)")
                )
            evidence, missing = collect_evidence(st.registered, target, app.state)
            if missing:
                raise PromotionRefused(
                    f"cannot promote {pid} to {target}: missing evidence: " + "; ".join(missing)
                )
            event = Promotion(policy=pid, from_stage=here, to_stage=target, evidence=evidence)
            app.append(event, now)
            return event

    def rollback(self, target: str, *, reason: str = "", now: int | None = None) -> Rollback:
        """Take the current policy of a stage (or the stage of ``target`` policy) back one stage;
        the policy promoted to that stage before it is current again."""
        with self._locked() as app:
            st = app.state
            try:
                stage: str | None = parse_stage(target)
            except LedgerError:
                stage = None
            if stage is not None:
                current = st.current(stage)
                if current is None:
                    raise LedgerError(f"no policy is at {stage}; nothing to roll back")
            else:
                current = st.resolve(target)
                stage = st.policies[current].stage
                if st.current(stage) != current:
                    raise LedgerError(
                        f"policy {current} is not the current {stage} policy "
                        f"({st.current(stage)} is); roll back {stage} instead"
                    )
            if stage == "Research":
                raise LedgerError("cannot roll back Research (nothing is below it)")
            st.policies[current].stage = STAGES[STAGES.index(stage) - 1]
            previous = st.current(stage)
            st.policies[current].stage = stage
            event = Rollback(
                stage=stage,
                from_policy=current,
                to_policy=previous,
                reason=reason.strip() or "rollback",
            )
            app.append(event, now)
            return event


def _refuse_links(directory: Path) -> None:
    """A write appends to the last segment and may cut a torn tail off it: never through a
    symbolic link someone planted in the ledger directory (to a file of whoever writes)."""
    for path in list_segments(directory):
        if path.is_symlink():
            raise LedgerError(
                f"ledger {directory}: segment {path.name} is a symbolic link (to "
                f"{os.readlink(path)}), not a file of this ledger; refusing to write"
            )


def _fold(records: list[LedgerRecord], directory: Path) -> LedgerState:
    """``records`` folded into a state; records that do not fold (a promotion of a policy
    never registered: written by hand) are a :class:`LedgerError` naming the ledger."""
    st = LedgerState()
    try:
        for rec in records:
            st.apply(rec)
    except (KeyError, ValueError) as err:
        raise LedgerError(
            f"ledger {directory} fails verification: its records do not fold into a ledger "
            f"(seq {len(st.records) - 1}: {err!r}); see `scarline ledger verify`"
        ) from None
    return st


@contextmanager
def _write_lock(directory: Path) -> Iterator[None]:
    """The ledger directory's lock, waiting up to :data:`LOCK_WAIT_S` for another writer: two
    people approving at once both get written (the lock serializes them), instead of the
    second failing with the WAL's "open by another writer"."""
    lock = DirLock(directory)
    deadline = time.monotonic() + LOCK_WAIT_S
    waited = False
    while True:
        try:
            lock.acquire()
            break
        except WalError:
            if not waited:  # say why the command pauses
                structlog.get_logger("scarline.ledger").warning(
                    "ledger.waiting_for_writer", ledger=str(directory), up_to_s=LOCK_WAIT_S
                )
                waited = True
            if time.monotonic() >= deadline:
                raise LedgerError(
                    f"ledger {directory} is being written by another process (waited "
                    f"{LOCK_WAIT_S:g} s); try again when it has finished"
                ) from None
            time.sleep(LOCK_POLL_S)
    try:
        yield
    finally:
        lock.release()
