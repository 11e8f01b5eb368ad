"""Ed25519 keys and signatures: the user's key store (``scarline keys``) and the signed
sidecars that bind a run's manifest and a gate report to a key (``docs/security.md``).

A key store is a directory outside the repository, ``$SCARLINE_KEYS_DIR`` or
``~/.config/scarline/keys`` (mode 0700). Each key is ``NAME.key``, the PEM (PKCS#8) private
key, mode 0600, and ``NAME.pub``, its public key on one line as ``ed25519:<base64 of the 32
raw bytes>``. A key's id is the first 16 hex digits of the sha256 of those raw bytes.
Nothing here prints, logs or returns a private key's bytes.

Every signature signs ``scarline-signature-v1\\n<purpose>\\n<payload>``: the purpose (a run
manifest, a gate report, an approval, the ledger anchor, a ledger policy) is part of what is
signed, so a signature made for one can never be passed off as another.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scarline.digest import file_sha256
from scarline.errors import ScarlineError
from scarline.safe_write import replace_file

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

KEYS_ENV = "SCARLINE_KEYS_DIR"
"""The key store's directory (default ``~/.config/scarline/keys``)."""
KEY_ENV = "SCARLINE_KEY"
"""The name of the key that signs (default :data:`DEFAULT_KEY`)."""
DEFAULT_KEY = "default"
PUBLIC_PREFIX = "ed25519:"
SIGNATURE_VERSION = b"scarline-signature-v1"

MANIFEST_PURPOSE = "run-manifest"
GATES_PURPOSE = "gate-report"
APPROVAL_PURPOSE = "approval"
ANCHOR_PURPOSE = "ledger-anchor"
POLICY_PURPOSE = "ledger-policy"

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


class KeyStoreError(ScarlineError):
    """A key store problem the user fixes: no such key, a bad name, loose permissions."""

    exit_code = 2


def keys_dir() -> Path:
    """``$SCARLINE_KEYS_DIR``, else ``$XDG_CONFIG_HOME/scarline/keys`` (``~/.config``)."""
    if found := os.environ.get(KEYS_ENV):
        return Path(found)
    config = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(config) / "scarline" / "keys"


def key_name() -> str:
    """The name of the key that signs: ``$SCARLINE_KEY``, else ``default``."""
    return os.environ.get(KEY_ENV) or DEFAULT_KEY


def _message(purpose: str, payload: bytes) -> bytes:
    return SIGNATURE_VERSION + b"\n" + purpose.encode() + b"\n" + payload


def canonical(obj: object) -> bytes:
    """Key-sorted compact JSON: the bytes a structured payload is signed as."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class PublicKey:
    """An Ed25519 public key (32 raw bytes)."""

    raw: bytes

    @classmethod
    def parse(cls, text: str) -> PublicKey:
        """From ``ed25519:<base64>``; raises :class:`ValueError` on anything else."""
        text = text.strip()
        if not text.startswith(PUBLIC_PREFIX):
            raise ValueError(f"not an {PUBLIC_PREFIX}<base64> public key: {text[:40]!r}")
        try:
            raw = base64.b64decode(text[len(PUBLIC_PREFIX) :], validate=True)
        except binascii.Error:
            raise ValueError(f"public key is not base64: {text[:40]!r}") from None
        if len(raw) != 32:
            raise ValueError(f"an Ed25519 public key has 32 bytes, not {len(raw)}")
        return cls(raw)

    @property
    def text(self) -> str:
        return PUBLIC_PREFIX + base64.b64encode(self.raw).decode()

    @property
    def key_id(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()[:16]

    def verifies(self, purpose: str, payload: bytes, signature: str) -> bool:
        """Whether ``signature`` (base64) is this key's over ``payload`` for ``purpose``."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        try:
            sig = base64.b64decode(signature, validate=True)
            Ed25519PublicKey.from_public_bytes(self.raw).verify(sig, _message(purpose, payload))
        except (binascii.Error, ValueError, InvalidSignature):
            return False
        return True


@dataclass(frozen=True)
class SigningKey:
    """A loaded private key; its repr shows the name and public key only."""

    name: str
    public: PublicKey
    _private: Ed25519PrivateKey = field(repr=False, compare=False)

    def sign(self, purpose: str, payload: bytes) -> str:
        """The base64 signature of ``payload`` for ``purpose``."""
        return base64.b64encode(self._private.sign(_message(purpose, payload))).decode()


@dataclass(frozen=True)
class KeyInfo:
    name: str
    key_id: str
    public_key: str
    path: str


class KeyStore:
    """The directory of a user's keys (see the module docstring)."""

    def __init__(self, directory: Path | str | None = None) -> None:
        self.dir = Path(directory) if directory is not None else keys_dir()

    def _paths(self, name: str) -> tuple[Path, Path]:
        if not _NAME.fullmatch(name):
            raise KeyStoreError(
                f"bad key name {name!r} (letters, digits, '.', '_', '-'; at most 64 characters)"
            )
        return self.dir / f"{name}.key", self.dir / f"{name}.pub"

    def exists(self, name: str) -> bool:
        return self._paths(name)[0].is_file()

    def init(self, name: str = DEFAULT_KEY) -> KeyInfo:
        """Create key ``name`` (refused if it exists): private key 0600, directory 0700."""
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        private_path, public_path = self._paths(name)
        if self.dir.exists() and not self.dir.is_dir():
            raise KeyStoreError(f"{self.dir}: not a directory (the key store)")
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.dir, 0o700)
        if private_path.exists() or public_path.exists():
            raise KeyStoreError(f"key {name!r} already exists in {self.dir}")
        private = Ed25519PrivateKey.generate()
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(private_path, flags, 0o600)
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, pem)
            os.fsync(fd)
        finally:
            os.close(fd)
        public = _public_of(private)
        public_path.write_text(public.text + "\n", encoding="utf-8")
        return KeyInfo(name, public.key_id, public.text, str(private_path))

    def list(self) -> list[KeyInfo]:
        """Every key of the store, by name; a key whose private file is gone is left out."""
        if self.dir.exists() and not self.dir.is_dir():
            raise KeyStoreError(f"{self.dir}: not a directory (the key store)")
        if not self.dir.is_dir():
            return []
        out: list[KeyInfo] = []
        for path in sorted(self.dir.glob("*.key")):
            name = path.stem
            if _NAME.fullmatch(name):
                public = self.public(name)
                out.append(KeyInfo(name, public.key_id, public.text, str(path)))
        return out

    def public(self, name: str) -> PublicKey:
        """Key ``name``'s public key: its private key's, which its ``.pub`` file must match
        (a swapped ``.pub`` would be exported and trusted as yours); the ``.pub`` alone
        when the private key is not here."""
        private_path, public_path = self._paths(name)
        stored = None
        if public_path.is_file():
            try:
                stored = PublicKey.parse(public_path.read_text(encoding="utf-8"))
            except (ValueError, UnicodeDecodeError) as err:
                raise KeyStoreError(f"{public_path}: {err}") from None
        if stored is not None and not private_path.is_file():
            return stored
        if not private_path.is_file():
            return self.load(name).public  # refused: no key of that name
        derived = _public_of(_read_private(private_path))  # public info: no mode check
        if stored is not None and stored.text != derived.text:
            raise KeyStoreError(
                f"{public_path} is not the public key of {private_path} (key id "
                f"{stored.key_id}, the private key's is {derived.key_id}): delete the .pub "
                f"file, or restore the one `scarline keys init` wrote"
            )
        return derived

    def load(self, name: str) -> SigningKey:
        """Key ``name`` ready to sign; refused when its file is readable by others."""
        private_path, _ = self._paths(name)
        if not private_path.is_file():
            raise KeyStoreError(
                f"no key {name!r} in {self.dir} (create one: `scarline keys init --name {name}`)"
            )
        mode = stat.S_IMODE(private_path.stat().st_mode)
        if mode & 0o077:
            raise KeyStoreError(
                f"{private_path}: permissions {mode:04o} let others read the private key; "
                f"`chmod 600 {private_path}`"
            )
        private = _read_private(private_path)
        return SigningKey(name, _public_of(private), private)


def _read_private(private_path: Path) -> Ed25519PrivateKey:
    """The Ed25519 key in ``private_path``; :class:`KeyStoreError` naming what it is not."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        private = serialization.load_pem_private_key(private_path.read_bytes(), None)
    except (ValueError, TypeError):
        raise KeyStoreError(f"{private_path}: not an unencrypted PEM private key") from None
    except OSError as err:
        raise KeyStoreError(f"{private_path}: cannot be read ({err.strerror})") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise KeyStoreError(f"{private_path}: not an Ed25519 key")
    return private


def _public_of(private: Ed25519PrivateKey) -> PublicKey:
    from cryptography.hazmat.primitives import serialization

    raw = private.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return PublicKey(raw)


def signing_key(name: str | None = None) -> tuple[SigningKey | None, str]:
    """The key that signs runs and gate reports (``name``, else ``$SCARLINE_KEY``, else
    ``default``), or ``(None, why not)`` when the store has none: the caller writes unsigned
    and says so."""
    name = name or key_name()
    store = KeyStore()
    try:
        if not store.exists(name):
            return None, f"no key {name!r} in {store.dir} (`scarline keys init`)"
        return store.load(name), ""
    except (KeyStoreError, OSError) as err:
        return None, str(err)


# --- signed sidecar files: manifest.sig, gates.sig -----------------------------------------


def sidecar(path: Path) -> Path:
    """The signature file of ``path``: ``manifest.json`` -> ``manifest.sig``."""
    return path.with_suffix(".sig")


def _file_payload(name: str, sha: str, bound: dict[str, str]) -> bytes:
    return canonical({"file": name, "sha256": sha, **bound})


def sign_file(
    path: Path,
    key: SigningKey,
    purpose: str,
    *,
    digest: str | None = None,
    bound: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Sign ``path`` for ``purpose``: its ``digest`` (default: the sha256 of its exact bytes)
    and the ``bound`` values (e.g. the run a gate report judged). Writes the sidecar (temp
    file + rename, :func:`~scarline.safe_write.replace_file`) and returns it."""
    sha = digest if digest is not None else file_sha256(path)
    extra = dict(bound or {})
    doc = {
        "version": 1,
        "purpose": purpose,
        "file": path.name,
        "sha256": sha,
        **extra,
        "key_id": key.public.key_id,
        "public_key": key.public.text,
        "signature": key.sign(purpose, _file_payload(path.name, sha, extra)),
    }
    # never through a link planted in the run directory; a full disk leaves no half file
    replace_file(sidecar(path), (json.dumps(doc, indent=2) + "\n").encode())
    return doc


@dataclass(frozen=True)
class FileCheck:
    """A sidecar checked against its file: ``problem`` is empty when the signature holds.
    Whether the key is *trusted* is the caller's question (a ledger policy answers it)."""

    file: str
    sha256: str
    problem: str = ""
    public_key: PublicKey | None = None

    @property
    def ok(self) -> bool:
        return not self.problem


def check_file(
    path: Path,
    purpose: str,
    *,
    digest: str | None = None,
    bound: dict[str, str] | None = None,
) -> FileCheck:
    """Whether ``path`` (its ``digest``, default the sha256 of its bytes) is what its
    sidecar's key signed for ``purpose``, together with the expected ``bound`` values."""
    name = path.name
    sig_path = sidecar(path)
    try:
        sha = digest if digest is not None else file_sha256(path)
    except OSError as err:
        return FileCheck(name, "", f"{name} cannot be read ({err.strerror})")
    if not sig_path.is_file():
        return FileCheck(name, sha, f"{name} is not signed (no {sig_path.name})")
    expected = dict(bound or {})
    try:
        doc = json.loads(sig_path.read_bytes())
        signed = {k: doc[k] for k in ("purpose", "file", "sha256", *expected)}
        public = PublicKey.parse(doc["public_key"])
        signature = doc["signature"]
        if not all(isinstance(v, str) for v in (*signed.values(), signature)):
            raise TypeError
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return FileCheck(name, sha, f"{sig_path.name} is not a valid signature file")
    if signed["purpose"] != purpose or signed["file"] != name:
        return FileCheck(
            name,
            sha,
            f"{sig_path.name} signs {signed['file']} as a {signed['purpose']}, not {name}",
        )
    values = {k: signed[k] for k in expected}
    if not public.verifies(purpose, _file_payload(name, signed["sha256"], values), signature):
        return FileCheck(
            name, sha, f"{sig_path.name}: the signature does not verify (forged or edited)"
        )
    if signed["sha256"] != sha:
        return FileCheck(
            name,
            sha,
            f"{name} changed after key {public.key_id} signed it "
            f"(sha256 {sha[:16]}…, signed {signed['sha256'][:16]}…)",
            public,
        )
    for k, want in expected.items():
        if values[k] != want:
            return FileCheck(
                name,
                sha,
                f"{name} was signed by key {public.key_id} with another {k} "
                f"({values[k][:16]}…, here {want[:16]}…)",
                public,
            )
    return FileCheck(name, sha, "", public)
