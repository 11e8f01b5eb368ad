"""The ledger's trust policy, ``LEDGER_DIR/policy.toml``: which public keys may sign run
manifests, gate reports and the ledger itself, which may approve a policy for each stage, and
which gate thresholds besides the built-in ones count as evidence (``docs/ledger.md``, "Keys
and policy").

The file is what people edit; the ledger records every version of it (a ``PolicySet``
record, signed by a key the policy in force lets write the ledger), and only the recorded
version counts. An edited file is refused by every write until ``scarline ledger anchor``
records it.
"""

from __future__ import annotations

import functools
import hashlib
import re
import tomllib
from dataclasses import dataclass, field

from scarline.ledger.records import LedgerError
from scarline.signing import PublicKey

POLICY_FILE = "policy.toml"
ROLES: dict[str, str] = {
    "runs": "sign run manifests (scarline run, scarline wal seal)",
    "gates": "sign gate reports (scarline gates)",
    "ledger": "write the ledger: sign its anchor and record policy changes",
}
APPROVAL_STAGES = ("Candidate", "Shadow", "LimitedLive", "Production")
_SHA256 = re.compile(r"[0-9a-f]{64}")


class PolicyError(LedgerError):
    """policy.toml cannot be read or names an unknown key, role or stage (bad input)."""

    exit_code = 2


@dataclass(frozen=True)
class LedgerPolicy:
    """A parsed policy: key names to public keys, the keys of each role and stage."""

    keys: dict[str, PublicKey]
    roles: dict[str, tuple[str, ...]]
    approvers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    sha256: str = ""
    gate_thresholds: tuple[str, ...] = ()
    """sha256 of gate thresholds accepted besides the built-in defaults (``[gates]``)."""

    def name_of(self, key: PublicKey) -> str | None:
        return next((n for n, k in self.keys.items() if k == key), None)

    def _allowed(self, names: tuple[str, ...], key: PublicKey) -> bool:
        return any(self.keys[n] == key for n in names)

    def may(self, role: str, key: PublicKey) -> bool:
        """Whether ``key`` holds ``role`` (``runs``, ``gates``, ``ledger``)."""
        return self._allowed(self.roles.get(role, ()), key)

    def may_approve(self, stage: str, key: PublicKey) -> bool:
        return self._allowed(self.approvers.get(stage, ()), key)

    def who(self, key: PublicKey) -> str:
        """``name (id)`` when the policy names the key, else ``key <id>``."""
        name = self.name_of(key)
        return f"{name} ({key.key_id})" if name else f"key {key.key_id}"

    def holders(self, role: str) -> str:
        names = self.roles.get(role, ()) if role in ROLES else self.approvers.get(role, ())
        return ", ".join(names) or "nobody"


@functools.lru_cache(maxsize=64)
def parse_policy(text: str, where: str = POLICY_FILE) -> LedgerPolicy:
    """Parse policy.toml's text; :class:`PolicyError` names what is wrong. (Cached: every
    read of the ledger folds its recorded policies; the result is not to be changed.)"""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise PolicyError(f"{where}: not valid TOML: {err}") from None
    except RecursionError:  # arrays or tables nested thousands deep: no policy has them
        raise PolicyError(f"{where}: not a ledger policy (values nested too deeply)") from None
    unknown = set(doc) - {"version", "keys", "roles", "approvers", "gates"}
    if unknown:
        raise PolicyError(f"{where}: unknown section(s) {', '.join(sorted(unknown))}")
    if doc.get("version", 1) != 1:
        raise PolicyError(f"{where}: unsupported version {doc.get('version')!r} (1)")
    keys: dict[str, PublicKey] = {}
    for name, value in _table(doc, "keys", where).items():
        try:
            keys[name] = PublicKey.parse(str(value))
        except ValueError as err:
            raise PolicyError(f"{where}: keys.{name}: {err}") from None
    roles = _lists(_table(doc, "roles", where), "roles", set(ROLES), keys, where)
    approvers = _lists(
        _table(doc, "approvers", where), "approvers", set(APPROVAL_STAGES), keys, where
    )
    sha = hashlib.sha256(text.encode()).hexdigest()
    thresholds = _gate_thresholds(_table(doc, "gates", where), where)
    return LedgerPolicy(
        keys=keys, roles=roles, approvers=approvers, sha256=sha, gate_thresholds=thresholds
    )


def _gate_thresholds(table: dict[str, object], where: str) -> tuple[str, ...]:
    """``[gates] thresholds_sha256``: the thresholds files (by the sha256 ``gates.json``
    records) whose verdicts count besides the built-in defaults'. A report judged by laxer
    thresholds is signed like any other, so only the ledger's policy can refuse it."""
    unknown = set(table) - {"thresholds_sha256"}
    if unknown:
        raise PolicyError(f"{where}: gates.{sorted(unknown)[0]} is not a key (thresholds_sha256)")
    value = table.get("thresholds_sha256", [])
    if not isinstance(value, list) or not all(
        isinstance(v, str) and _SHA256.fullmatch(v) for v in value
    ):
        raise PolicyError(
            f"{where}: gates.thresholds_sha256 must be a list of sha256 hex digests "
            "(gates.json's thresholds_sha256)"
        )
    return tuple(value)


def _table(doc: dict[str, object], name: str, where: str) -> dict[str, object]:
    value = doc.get(name, {})
    if not isinstance(value, dict):
        raise PolicyError(f"{where}: [{name}] must be a table")
    return value


def _lists(
    table: dict[str, object],
    section: str,
    allowed: set[str],
    keys: dict[str, PublicKey],
    where: str,
) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for name, value in table.items():
        if name not in allowed:
            raise PolicyError(
                f"{where}: {section}.{name} is not one of {', '.join(sorted(allowed))}"
            )
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise PolicyError(f"{where}: {section}.{name} must be a list of key names")
        missing = [v for v in value if v not in keys]
        if missing:
            raise PolicyError(
                f"{where}: {section}.{name} names {', '.join(missing)}, not in [keys]"
            )
        out[name] = tuple(value)
    return out


def default_policy_text(name: str, key: PublicKey) -> str:
    """The policy a new ledger starts with: its first writer's key holds every role and
    approves every stage (edit it, then ``scarline ledger anchor``)."""
    stages = "\n".join(f'{s} = ["{name}"]' for s in APPROVAL_STAGES)
    roles = "\n".join(f'{r} = ["{name}"]  # may {what}' for r, what in ROLES.items())
    return (
        '# The ledger\'s trust policy (docs/ledger.md, "Keys and policy").\n'
        "# Written by the ledger's first write from the writer's key. Edit it (add keys with\n"
        "# `scarline keys export NAME`), then record the change: `scarline ledger anchor`,\n"
        "# signed by a key the policy in force lets write the ledger.\n"
        "version = 1\n\n"
        f'[keys]\n"{name}" = "{key.text}"  # id {key.key_id}\n\n'
        f"[roles]\n{roles}\n\n"
        f"[approvers]  # may approve a policy for a stage\n{stages}\n"
    )
