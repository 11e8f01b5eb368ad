"""Genome vault: round trip, SHA256SUMS format, idempotent put, tamper detection."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from scarline.errors import ScarlineError
from scarline.evolution.vault import SUMS_FILE, Vault, VaultError

H1, H2, H3 = "aa" * 32, "0b" * 32, "c3" * 32


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_round_trip_and_sums_file(tmp_path: Path) -> None:
    vault = Vault(tmp_path / "run" / "vault")
    genome = b"\x81\xa1w\x01"
    path = vault.put(genome, H1)
    vault.put(b"second genome", H2)
    assert path == tmp_path / "run" / "vault" / f"{H1}.msgpack"
    assert path.read_bytes() == genome
    assert vault.get(H1) == genome and vault.get(H2) == b"second genome"
    assert vault.hashes() == sorted([H1, H2])
    assert H1 in vault and H3 not in vault
    sums = (vault.dir / SUMS_FILE).read_text()
    assert sums == (  # sha256sum format, sorted by file name
        f"{_sha(b'second genome')}  {H2}.msgpack\n{_sha(genome)}  {H1}.msgpack\n"
    )
    assert not list(vault.dir.glob("*.tmp"))


def test_a_fresh_vault_reads_what_another_wrote(tmp_path: Path) -> None:
    Vault(tmp_path).put_many([(b"one", H1), (b"two", H2)])
    again = Vault(tmp_path)
    assert again.get(H2) == b"two"
    again.verify()


def test_put_is_idempotent_and_refuses_different_bytes(tmp_path: Path) -> None:
    vault = Vault(tmp_path)
    first = vault.put(b"genome", H1)
    sums_before = (tmp_path / SUMS_FILE).read_bytes()
    assert vault.put(b"genome", H1) == first
    assert (tmp_path / SUMS_FILE).read_bytes() == sums_before
    with pytest.raises(VaultError, match=f"{H1}.msgpack: already holds different bytes"):
        vault.put(b"another genome", H1)
    assert vault.get(H1) == b"genome"


def test_tampered_snapshot_is_named(tmp_path: Path) -> None:
    vault = Vault(tmp_path)
    path = vault.put(b"genome", H1)
    path.write_bytes(b"genomE")
    with pytest.raises(VaultError, match=f"{path}: sha256 differs from SHA256SUMS"):
        vault.get(H1)
    with pytest.raises(VaultError, match="altered"):
        Vault(tmp_path).verify()


def test_tampered_sums_file_is_seen_by_an_open_vault(tmp_path: Path) -> None:
    vault = Vault(tmp_path)
    vault.put(b"genome", H1)
    assert vault.get(H1) == b"genome"  # sums now cached
    sums = tmp_path / SUMS_FILE
    sums.write_text(f"{_sha(b'other')}  {H1}.msgpack\n")
    with pytest.raises(VaultError, match="sha256 differs"):
        vault.get(H1)
    sums.write_text("garbage\n")
    with pytest.raises(VaultError, match=f"{sums}:1: not a"):
        vault.get(H1)


def test_missing_and_unlisted_snapshots(tmp_path: Path) -> None:
    vault = Vault(tmp_path)
    with pytest.raises(VaultError, match="not in the vault"):
        vault.get(H1)
    path = vault.put(b"genome", H1)
    path.unlink()
    with pytest.raises(VaultError, match="listed in SHA256SUMS but the file is missing"):
        vault.get(H1)
    vault.put(b"genome", H1)  # re-put restores it
    (tmp_path / f"{H2}.msgpack").write_bytes(b"stray")
    with pytest.raises(VaultError, match=f"{H2}.msgpack: not listed"):
        vault.verify()


def test_file_written_before_a_crash_is_listed_on_the_next_put(tmp_path: Path) -> None:
    (tmp_path / f"{H1}.msgpack").write_bytes(b"genome")  # the sums rewrite never happened
    vault = Vault(tmp_path)
    vault.put(b"genome", H1)
    assert vault.get(H1) == b"genome"


def test_bad_hash_and_data(tmp_path: Path) -> None:
    vault = Vault(tmp_path)
    for bad in ("../../etc/passwd", "ABCDEF0123", "", "abc"):
        with pytest.raises(VaultError, match="policy hash must be 8-128 lowercase hex"):
            vault.put(b"x", bad)
    with pytest.raises(VaultError, match="snapshot must be bytes, got str"):
        vault.put("text", H1)  # type: ignore[arg-type]
    assert issubclass(VaultError, ScarlineError)


def test_failed_batch_still_lists_what_it_wrote(tmp_path: Path) -> None:
    vault = Vault(tmp_path)
    vault.put(b"old", H2)
    with pytest.raises(VaultError):
        vault.put_many([(b"one", H1), (b"new", H2)])
    assert Vault(tmp_path).get(H1) == b"one"


def test_fingerprints_for_the_run_manifest(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    vault = Vault(run_dir / "vault")
    assert vault.fingerprints() == {}
    vault.put(b"one", H1)
    vault.put(b"two", H2)
    prints = vault.fingerprints()
    assert prints == {
        f"vault/{H2}.msgpack": _sha(b"two"),
        f"vault/{H1}.msgpack": _sha(b"one"),
    }
    for rel, digest in prints.items():  # the manifest's contract: run_dir / path has that sha
        assert _sha((run_dir / rel).read_bytes()) == digest
    assert set(vault.fingerprints(root=run_dir / "vault")) == {f"{H1}.msgpack", f"{H2}.msgpack"}
