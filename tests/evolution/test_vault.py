"""Genome vault: round trip, pack and SHA256SUMS format, idempotent put, tamper detection."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scarline.errors import ScarlineError
from scarline.evolution.vault import SUMS_FILE, Vault, VaultError, read_header

H1, H2, H3 = "aa" * 32, "0b" * 32, "c3" * 32
PACK1, PACK2 = "pack-000001.vpack", "pack-000002.vpack"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _flip_genome_byte(vault: Vault, policy_hash: str) -> Path:
    """Flip the last byte of ``policy_hash``'s snapshot inside its pack; the pack's path."""
    entry = vault.entry(policy_hash)
    assert entry is not None
    path = vault.dir / entry.pack
    blob = bytearray(path.read_bytes())
    blob[entry.offset + entry.length - 1] ^= 1
    path.write_bytes(bytes(blob))
    return path


def test_round_trip_packs_and_sums_file(tmp_path: Path) -> None:
    vault = Vault(tmp_path / "run" / "vault")
    genome = b"\x81\xa1w\x01"
    vault.put(genome, H1)
    vault.put_many([(b"second genome", H2), (b"third", H3)])
    assert vault.get(H1) == genome and vault.get(H2) == b"second genome"
    assert vault.get(H3) == b"third"
    assert vault.hashes() == sorted([H1, H2, H3])
    assert H1 in vault and "dd" * 32 not in vault
    packs = sorted(p.name for p in vault.dir.glob("*.vpack"))
    assert packs == [PACK1, PACK2]  # one pack per batch
    sums = (vault.dir / SUMS_FILE).read_text()
    assert sums == "".join(  # sha256sum format, sorted by file name
        f"{_sha((vault.dir / p).read_bytes())}  {p}\n" for p in packs
    )
    header = read_header(vault.dir / PACK2)
    assert {h: (e.sha256, e.length) for h, e in header.items()} == {
        H2: (_sha(b"second genome"), 13),
        H3: (_sha(b"third"), 5),
    }
    assert vault.location(H2) == f"{vault.dir / PACK2}[{H2}]"
    assert not list(vault.dir.glob("*.tmp"))


@settings(max_examples=25, deadline=None)
@given(
    batches=st.lists(
        st.lists(
            st.tuples(st.binary(max_size=40), st.sampled_from(["ab" * 4, "cd" * 8, "ef" * 32]))
        ),
        max_size=4,
    )
)
def test_every_stored_genome_reads_back_from_a_fresh_vault(
    tmp_path_factory: pytest.TempPathFactory, batches: list[list[tuple[bytes, str]]]
) -> None:
    """The first bytes put under a hash are what a fresh vault returns; later puts of other
    bytes under it are refused and change nothing."""
    vault = Vault(tmp_path_factory.mktemp("v"))
    first: dict[str, bytes] = {}
    for batch in batches:
        clash = any(first.get(h, data) != data for data, h in batch) or any(
            data != other and h == g for data, h in batch for other, g in batch
        )
        if clash:
            with pytest.raises(VaultError, match="different bytes"):
                vault.put_many(batch)
            continue
        vault.put_many(batch)
        for data, h in batch:
            first.setdefault(h, data)
    fresh = Vault(vault.dir)
    assert {h: fresh.get(h) for h in fresh.hashes()} == first
    fresh.verify()


def test_put_is_idempotent_and_refuses_different_bytes(tmp_path: Path) -> None:
    vault = Vault(tmp_path)
    vault.put(b"genome", H1)
    sums_before = (tmp_path / SUMS_FILE).read_bytes()
    vault.put(b"genome", H1)  # stored already: no new pack
    assert (tmp_path / SUMS_FILE).read_bytes() == sums_before
    assert len(list(tmp_path.glob("*.vpack"))) == 1
    with pytest.raises(VaultError, match=rf"{PACK1}\[{H1}\]: already holds different bytes"):
        vault.put(b"another genome", H1)
    with pytest.raises(VaultError, match="already holds different bytes"):
        vault.put_many([(b"x", H2), (b"y", H2)])
    assert vault.get(H1) == b"genome" and H2 not in vault


def test_tampered_snapshot_is_named(tmp_path: Path) -> None:
    vault = Vault(tmp_path)
    vault.put_many([(b"genome", H1), (b"other", H2)])
    path = _flip_genome_byte(vault, H1)
    with pytest.raises(VaultError, match=rf"{path}\[{H1}\]: sha256 differs"):
        vault.get(H1)
    assert vault.get(H2) == b"other"  # the rest of the pack still reads
    with pytest.raises(VaultError, match="the pack was altered"):
        Vault(tmp_path).verify()


def test_tampered_sums_file_is_seen_by_an_open_vault(tmp_path: Path) -> None:
    vault = Vault(tmp_path)
    vault.put(b"genome", H1)
    assert vault.get(H1) == b"genome"  # the index is now cached
    sums = tmp_path / SUMS_FILE
    sums.write_text("garbage\n")
    with pytest.raises(VaultError, match=f"{sums}:1: not a"):
        vault.get(H1)
    sums.write_text("")
    with pytest.raises(VaultError, match="not in the vault"):
        vault.get(H1)


def test_a_sums_file_that_is_not_utf8_is_a_vault_error(tmp_path: Path) -> None:
    """A byte that is not UTF-8 in SHA256SUMS was a UnicodeDecodeError (an internal error
    of ``rebuild-policy``), not a message naming the file."""
    vault = Vault(tmp_path)
    vault.put(b"genome", H1)
    sums = tmp_path / SUMS_FILE
    sums.write_bytes(sums.read_bytes() + b"\xff\n")
    with pytest.raises(VaultError, match=rf"{sums}: not UTF-8 text \(byte 0xff at offset "):
        Vault(tmp_path).get(H1)


def test_missing_and_unlisted_packs(tmp_path: Path) -> None:
    vault = Vault(tmp_path)
    with pytest.raises(VaultError, match="not in the vault"):
        vault.get(H1)
    vault.put(b"genome", H1)
    (tmp_path / PACK1).unlink()
    with pytest.raises(VaultError, match="listed in SHA256SUMS but the file is missing"):
        Vault(tmp_path).get(H1)
    (tmp_path / PACK1).write_bytes(b"not a pack at all")
    with pytest.raises(VaultError, match=f"{PACK1}: not a scarline vault pack"):
        Vault(tmp_path).get(H1)


def test_a_pack_written_before_a_crash_is_listed_on_the_next_put(tmp_path: Path) -> None:
    Vault(tmp_path / "a").put(b"genome", H1)
    (tmp_path / "b").mkdir()
    # the pack reached the disk, the sums rewrite never happened
    (tmp_path / "b" / PACK1).write_bytes((tmp_path / "a" / PACK1).read_bytes())
    with pytest.raises(VaultError, match=f"{PACK1}: not listed"):
        Vault(tmp_path / "b").verify()
    vault = Vault(tmp_path / "b")
    vault.put(b"second", H2)
    assert vault.get(H1) == b"genome" and vault.get(H2) == b"second"
    assert sorted(p.name for p in vault.dir.glob("*.vpack")) == [PACK1, PACK2]
    vault.verify()


def test_an_unlisted_pack_sharing_a_number_is_still_seen(tmp_path: Path) -> None:
    """``pack-0000001.vpack`` and ``pack-000001.vpack`` share a number, not a name: both are
    packs of the directory (verify names the unlisted one, the next put lists it)."""
    vault = Vault(tmp_path)
    vault.put(b"genome", H1)
    other = tmp_path / "pack-0000001.vpack"
    other.write_bytes((tmp_path / PACK1).read_bytes())
    with pytest.raises(VaultError, match=r"pack-0000001\.vpack: not listed"):
        vault.verify()
    vault.put(b"second", H2)
    assert "pack-0000001.vpack" in vault.fingerprints(tmp_path)
    assert vault.entry(H2) is not None and vault.entry(H2).pack == PACK2
    vault.verify()


def test_bad_hash_and_data(tmp_path: Path) -> None:
    vault = Vault(tmp_path)
    for bad in ("../../etc/passwd", "ABCDEF0123", "", "abc"):
        with pytest.raises(VaultError, match="policy hash must be 8-128 lowercase hex"):
            vault.put(b"x", bad)
    with pytest.raises(VaultError, match="snapshot must be bytes, got str"):
        vault.put("text", H1)  # type: ignore[arg-type]
    assert issubclass(VaultError, ScarlineError)
    assert not list(tmp_path.iterdir())  # a refused batch writes nothing


def test_fingerprints_for_the_run_manifest(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    vault = Vault(run_dir / "vault")
    assert vault.fingerprints() == {}
    vault.put(b"one", H1)
    vault.put(b"two", H2)
    prints = vault.fingerprints()
    assert set(prints) == {f"vault/{PACK1}", f"vault/{PACK2}"}
    for rel, digest in prints.items():  # the manifest's contract: run_dir / path has that sha
        assert _sha((run_dir / rel).read_bytes()) == digest
    assert set(vault.fingerprints(root=run_dir / "vault")) == {PACK1, PACK2}
