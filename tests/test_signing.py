"""The key store (``scarline keys``) and signed sidecars: keys are created 0600 in a 0700
directory, never printed, and a signature binds exactly the file, its purpose and its key."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from scarline import safe_write
from scarline.cli import app
from scarline.cli import keys as keys_cli
from scarline.signing import (
    GATES_PURPOSE,
    KEYS_ENV,
    MANIFEST_PURPOSE,
    KeyStore,
    KeyStoreError,
    PublicKey,
    check_file,
    sign_file,
    signing_key,
)

runner = CliRunner()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_list_export_and_permissions(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys")
    info = store.init("ada")
    private = Path(info.path)
    assert _mode(private) == 0o600 and _mode(store.dir) == 0o700
    public = PublicKey.parse(info.public_key)
    assert info.key_id == public.key_id and len(info.key_id) == 16
    assert store.public("ada") == public == store.load("ada").public
    assert [k.name for k in store.list()] == ["ada"]
    with pytest.raises(KeyStoreError, match="already exists"):
        store.init("ada")
    with pytest.raises(KeyStoreError, match="bad key name"):
        store.init("../escape")
    with pytest.raises(KeyStoreError, match="no key 'bob'"):
        store.load("bob")
    private.chmod(0o644)
    with pytest.raises(KeyStoreError, match="permissions 0644 let others read"):
        store.load("ada")
    assert "PRIVATE" not in repr(store.public("ada"))


def test_the_cli_never_prints_a_private_key(tmp_path: Path) -> None:
    assert keys_cli.KEYS_ENV == KEYS_ENV
    where = ["--keys-dir", str(tmp_path / "k")]
    made = runner.invoke(app, ["keys", "init", "--name", "ci", *where, "--json"])
    assert made.exit_code == 0, made.output
    info = json.loads(made.stdout)
    pem = Path(info["path"]).read_text()
    body = "".join(pem.splitlines()[1:-1])
    again = runner.invoke(app, ["keys", "init", "--name", "ci", *where])
    assert again.exit_code == 2 and "already exists" in again.stderr
    listed = runner.invoke(app, ["keys", "list", *where])
    exported = runner.invoke(app, ["keys", "export", "ci", *where])
    assert exported.stdout.strip() == info["public_key"]
    for out in (made.output, again.output, listed.output, exported.output):
        assert body not in out and "PRIVATE KEY" not in out
    missing = runner.invoke(app, ["keys", "export", "nobody", *where])
    assert missing.exit_code == 2 and "no key 'nobody'" in missing.stderr


def test_a_sidecar_binds_file_purpose_and_key(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "keys")
    store.init("ada")
    key = store.load("ada")
    path = tmp_path / "manifest.json"
    path.write_text('{"wal_head": "aa"}')
    assert (
        check_file(path, MANIFEST_PURPOSE).problem
        == "manifest.json is not signed (no manifest.sig)"
    )
    sign_file(path, key, MANIFEST_PURPOSE)
    ok = check_file(path, MANIFEST_PURPOSE)
    assert ok.ok and ok.public_key == key.public
    # the same bytes offered as another kind of document
    assert "as a run-manifest, not" in check_file(path, GATES_PURPOSE).problem
    # the file edited after signing
    path.write_text('{"wal_head": "bb"}')
    assert check_file(path, MANIFEST_PURPOSE).problem.startswith(
        f"manifest.json changed after key {key.public.key_id} signed it"
    )
    # the sidecar's hash edited to match: the signature no longer verifies
    sig = json.loads((tmp_path / "manifest.sig").read_text())
    sig["sha256"] = check_file(path, MANIFEST_PURPOSE).sha256
    (tmp_path / "manifest.sig").write_text(json.dumps(sig))
    assert "the signature does not verify" in check_file(path, MANIFEST_PURPOSE).problem


def test_no_key_store_means_unsigned(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEYS_ENV, str(tmp_path / "none"))
    key, why = signing_key()
    assert key is None and "no key 'default'" in why and "scarline keys init" in why


def test_a_public_file_that_is_not_the_keys_is_refused(tmp_path: Path) -> None:
    """A swapped ``.pub`` would be exported (and trusted) as yours: the private key decides."""
    store = KeyStore(tmp_path / "keys")
    ada, bob = store.init("ada"), store.init("bob")
    (store.dir / "ada.pub").write_text((store.dir / "bob.pub").read_text())
    with pytest.raises(KeyStoreError, match=r"ada.pub is not the public key of .*ada.key"):
        store.public("ada")
    (store.dir / "ada.pub").unlink()
    assert store.public("ada").key_id == ada.key_id != bob.key_id
    (store.dir / "bob.key").unlink()  # a public key alone: what the .pub says
    assert store.public("bob").key_id == bob.key_id


def test_a_failed_signature_write_leaves_no_file_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk while writing manifest.sig: no half ``.sig.tmp`` is left in the run."""
    key = KeyStore(tmp_path / "keys").init("ada")
    signer = KeyStore(tmp_path / "keys").load(key.name)
    path = tmp_path / "run" / "manifest.json"
    path.parent.mkdir()
    path.write_text("{}")

    def full(fd: int, data: bytes) -> None:
        os.write(fd, data[:10])  # what fitted
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(safe_write, "_write_all", full)
    with pytest.raises(OSError, match="No space left"):
        sign_file(path, signer, MANIFEST_PURPOSE)
    monkeypatch.undo()
    assert sorted(p.name for p in path.parent.iterdir()) == ["manifest.json"]


def test_a_key_store_that_is_a_file_is_refused_by_list(tmp_path: Path) -> None:
    """``keys list`` said "no keys" (exit 0) when the store's path was a file."""
    store = tmp_path / "keys"
    store.write_text("not a directory")
    with pytest.raises(KeyStoreError, match="not a directory"):
        KeyStore(store).list()
    result = runner.invoke(app, ["keys", "list", "--keys-dir", str(store)])
    assert result.exit_code == 2 and "not a directory (the key store)" in result.stderr


def test_a_signature_is_never_written_through_a_link_planted_in_the_run(tmp_path: Path) -> None:
    """Someone who can write the run directory plants ``manifest.sig.tmp`` pointing at a
    file of whoever signs: the signature replaces the link, the file is left alone."""
    signer = KeyStore(tmp_path / "keys").load(KeyStore(tmp_path / "keys").init("ada").name)
    victim = tmp_path / "bashrc"
    victim.write_text("alias ls='ls --color'\n")
    path = tmp_path / "run" / "manifest.json"
    path.parent.mkdir()
    path.write_text("{}")
    (path.parent / "manifest.sig.tmp").symlink_to(victim)
    sign_file(path, signer, MANIFEST_PURPOSE)
    assert victim.read_text() == "alias ls='ls --color'\n"
    assert check_file(path, MANIFEST_PURPOSE).ok
    assert sorted(p.name for p in path.parent.iterdir()) == ["manifest.json", "manifest.sig"]
