"""Who may call the API: two bearer tokens, two roles, and where the server may listen.

The operate token reads and acts (kill, flags, acks); the read token only reads. Tokens come
from ``$SCARLINE_API_TOKEN`` / ``$SCARLINE_API_READ_TOKEN`` or the files ``[service]``
names. They are compared in constant time, and the only trace of a token that is ever
logged, journaled or returned is its *key id*: the first 12 hex digits of its sha256, enough
to tell keys apart in an audit, useless to call the API with.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from scarline.alerts_config import is_loopback
from scarline.errors import ScarlineError
from scarline.ops_config import ServiceConfig

Role = Literal["read", "operate"]
OPERATE_ENV = "SCARLINE_API_TOKEN"
READ_ENV = "SCARLINE_API_READ_TOKEN"


class ServiceError(ScarlineError):
    """The service cannot start as configured (a token file, an unsafe bind)."""

    exit_code = 2


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def key_id(token: str) -> str:
    """The short public name of a token: 12 hex digits of its sha256."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: its role and its key id (never the token)."""

    role: Role
    key_id: str

    @property
    def can_operate(self) -> bool:
        return self.role == "operate"


class Auth:
    """The configured tokens; :meth:`authenticate` maps a presented token to a caller."""

    def __init__(self, *, operate: str | None = None, read: str | None = None) -> None:
        # only each token's sha256 is kept: a fixed-length compare tells no length, and
        # nothing that dumps this object (a debugger, a crash report) shows a token
        self._tokens: list[tuple[bytes, Principal]] = []
        pairs: tuple[tuple[str | None, Role], ...] = ((operate, "operate"), (read, "read"))
        for token, role in pairs:
            if token:
                self._tokens.append((_digest(token), Principal(role, key_id(token))))

    @classmethod
    def from_config(cls, config: ServiceConfig, env: Mapping[str, str] | None = None) -> Auth:
        """Tokens from the environment, else from the files ``config`` names. A named file
        that is missing, empty, not UTF-8 or readable by other users is an error naming it;
        so is a token that is not printable ASCII (no header could carry it) or one token
        given for both roles (every reader could act)."""
        env = os.environ if env is None else env
        operate = _env_token(env, OPERATE_ENV) or _token_file(
            config.token_file, "service.token_file"
        )
        read = _env_token(env, READ_ENV) or _token_file(
            config.read_token_file, "service.read_token_file"
        )
        if operate is not None and operate == read:
            raise ServiceError(
                "the read and the operate token are the same: a reader could act; "
                "give each role its own token"
            )
        return cls(operate=operate, read=read)

    @property
    def configured(self) -> bool:
        """Whether any token is set (without one, every authenticated endpoint answers 401)."""
        return bool(self._tokens)

    @property
    def key_ids(self) -> dict[str, str]:
        """Role -> key id of the configured tokens (safe to log)."""
        return {p.role: p.key_id for _, p in self._tokens}

    def authenticate(self, token: str | None) -> Principal | None:
        """The caller ``token`` belongs to, or None. Every configured token is compared (in
        constant time), so the time taken does not tell which one nearly matched."""
        if not token:
            return None
        presented = _digest(token)
        found: Principal | None = None
        for secret, principal in self._tokens:
            if hmac.compare_digest(presented, secret) and found is None:
                found = principal
        return found


def _printable(token: str, where: str) -> str:
    """``token`` if every character is printable ASCII (what an ``Authorization`` header can
    carry; a token with others would never match). The error never shows the token."""
    if not all("!" <= ch <= "~" for ch in token):
        raise ServiceError(
            f"{where}: the token holds a character that is not printable ASCII "
            "(a space, a control character or non-ASCII), which no header can carry"
        )
    return token


def _env_token(env: Mapping[str, str], name: str) -> str | None:
    """The token in ``$name``, trimmed like a file's (a trailing newline from a secret store
    would otherwise make it unmatchable); None when unset or blank."""
    token = env.get(name, "").strip()
    return _printable(token, f"${name}") if token else None


def _token_file(name: str | None, key: str) -> str | None:
    if name is None:
        return None
    path = Path(name).expanduser()
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        if path.is_file() and mode & 0o077:
            raise ServiceError(
                f"{key}: {path} has permissions {mode:04o}, so other users can read the "
                f"token; `chmod 600 {path}`"
            )
        token = path.read_text(encoding="utf-8").strip()
    except OSError as err:
        raise ServiceError(f"{key}: cannot read {path}: {err.strerror or err}") from None
    except UnicodeDecodeError:
        raise ServiceError(f"{key}: {path} is not UTF-8 text") from None
    if not token:
        raise ServiceError(f"{key}: {path} is empty")
    return _printable(token, f"{key} ({path})")


def check_bind(host: str, auth: Auth) -> None:
    """Refuse to listen beyond this machine with no token: anyone on the network could
    otherwise reach the API (with no token it would answer 401 to all, but an operator who
    binds 0.0.0.0 surely meant to configure one)."""
    if not is_loopback(host) and not auth.configured:
        raise ServiceError(
            f"refusing to bind {host}: a non-loopback address needs a token "
            f"(${OPERATE_ENV}, ${READ_ENV}, or service.token_file / service.read_token_file); "
            "bind 127.0.0.1 to serve this machine only"
        )
