"""The background vault writer stores exactly what direct writes store, and never loses an
error."""

from pathlib import Path

import pytest

from scarline.evolution.vault import Vault
from scarline.evolution.vault_writer import VaultWriter


def _items(k: int, salt: str = "") -> list[tuple[bytes, str]]:
    return [(f"genome {i}{salt}".encode(), f"{i:08x}") for i in range(k)]


def test_batches_land_as_with_direct_writes(tmp_path: Path) -> None:
    direct = Vault(tmp_path / "direct")
    writer = VaultWriter(Vault(tmp_path / "threaded"))
    for batch in (_items(5), _items(3)):
        direct.put_many(batch)
        writer(batch)
    writer.close()
    assert writer.vault.fingerprints() == {
        k.replace("direct", "threaded"): v for k, v in direct.fingerprints().items()
    }
    assert (tmp_path / "threaded" / "SHA256SUMS").read_bytes() == (
        tmp_path / "direct" / "SHA256SUMS"
    ).read_bytes()


def test_a_worker_error_is_raised_at_close(tmp_path: Path) -> None:
    writer = VaultWriter(Vault(tmp_path / "v"))
    writer(_items(1))
    writer(_items(1, salt="other bytes, same hash"))
    with pytest.raises(Exception, match="different bytes"):
        writer.close()
    with pytest.raises(RuntimeError, match="closed"):
        writer(_items(1))
