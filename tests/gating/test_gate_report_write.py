"""Writing gates.json binds it into the manifest and signs it under the run directory's
lock, so two ``scarline gates`` finishing together leave one consistent report."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from ledger_helpers import tiny_q_run

from scarline.digest import sha256_hex
from scarline.gating.runner import write_gate_report
from scarline.journal.lock import DirLock
from scarline.journal.manifest import read_manifest
from scarline.report.gate_report import GateReport


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_q_run(tmp_path_factory.mktemp("gate-write"), "gate-write", seed=2)


def test_the_report_waits_for_the_run_directorys_lock(run_dir: Path) -> None:
    report = GateReport(run_id="gate-write", thresholds_sha256="ab" * 32)
    holder = DirLock(run_dir)
    holder.acquire()  # another writer of this run's gate report, mid-write
    writer = threading.Thread(target=write_gate_report, args=(run_dir, report))
    try:
        writer.start()
        writer.join(timeout=0.5)
        assert writer.is_alive() and not (run_dir / "gates.json").exists()
    finally:
        holder.release()
    writer.join(timeout=10)
    assert not writer.is_alive()
    raw = (run_dir / "gates.json").read_bytes()
    assert read_manifest(run_dir).gate_report_sha256 == sha256_hex(raw)


def test_no_write_of_the_report_goes_through_a_link_planted_in_the_run(
    run_dir: Path, tmp_path: Path
) -> None:
    """The run directory is writable by others (shared storage, CI artifacts): links
    planted at the temp names of gates.json, manifest.json and gates.sig point at a file
    of whoever runs `scarline gates`; each write replaces its link, the file is untouched."""
    victim = tmp_path / "bashrc"
    victim.write_text("export PATH\n")
    for name in ("gates.json", "manifest.json", "gates.sig"):
        (run_dir / f"{name}.tmp").unlink(missing_ok=True)
        (run_dir / f"{name}.tmp").symlink_to(victim)
    sha = write_gate_report(run_dir, GateReport(run_id="gate-write", thresholds_sha256="cd" * 32))
    assert victim.read_text() == "export PATH\n"
    assert sha256_hex((run_dir / "gates.json").read_bytes()) == sha
    assert read_manifest(run_dir).gate_report_sha256 == sha
    assert not any(p.name.endswith(".tmp") for p in run_dir.iterdir())
