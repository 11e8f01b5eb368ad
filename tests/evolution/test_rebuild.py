"""rebuild_policy / load_policy: a vaulted genome becomes two plain files that rebuild the same
agent, bit for bit, and refuse anything that is not what the lineage names."""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
from pathlib import Path

import msgspec
import numpy as np
import pyarrow.parquet as pq
import pytest
import torch

from scarline.config import RunConfig
from scarline.events import Array
from scarline.evolution.genome import decode_genome, encode_genome, policy_hash
from scarline.evolution.rebuild import (
    POLICY_FILE,
    WEIGHTS_FILE,
    PolicyError,
    PolicyNotFound,
    load_policy,
    obs_mask,
    rebuild_policy,
    weights_bytes,
)
from scarline.evolution.vault import Vault, VaultError, pack_bytes, read_header
from scarline.policy_store import load_agent
from scarline.rundir import RunDir
from scarline.runner import RunSummary, execute_run

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, small_evolving_config: RunConfig) -> RunSummary:
    return execute_run(
        small_evolving_config, run_id="evo", out_dir=tmp_path_factory.mktemp("rebuild")
    )


@pytest.fixture(scope="module")
def best(run: RunSummary) -> str:
    best = run.to_json().get("best_policy_hash")
    assert isinstance(best, str)
    return best


def _copy_vault(run: RunSummary, tmp_path: Path) -> Path:
    """A run directory holding a copy of the run's vault (safe to tamper with)."""
    shutil.copytree(run.run_dir / "vault", tmp_path / "run" / "vault")
    return tmp_path / "run"


def test_rebuilding_twice_gives_identical_bytes(run: RunSummary, best: str, tmp_path: Path) -> None:
    a = rebuild_policy(run.run_dir, best, tmp_path / "a")
    b = rebuild_policy(run.run_dir, best, tmp_path / "b")
    assert [p.name for p in a] == [POLICY_FILE, WEIGHTS_FILE]
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [POLICY_FILE, WEIGHTS_FILE]
    for x, y in zip(a, b, strict=True):
        assert x.read_bytes() == y.read_bytes()
    genome = decode_genome(Vault(run.run_dir / "vault").get(best))
    assert weights_bytes(genome) == weights_bytes(genome) == a[1].read_bytes()


def test_policy_json_is_canonical_and_exact(run: RunSummary, best: str, tmp_path: Path) -> None:
    policy, weights = rebuild_policy(run.run_dir, best, tmp_path)
    text = policy.read_text(encoding="ascii")
    config = json.loads(text)
    assert text == json.dumps(config, sort_keys=True, separators=(",", ":")) + "\n"
    genome = decode_genome(Vault(run.run_dir / "vault").get(best))
    assert config["policy_hash"] == best
    assert config["weights_sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()
    for name in ("lr", "epsilon_floor", "scar_sensitivity", "sigma", "exposure_cap"):
        assert config[name] == getattr(genome, name)  # repr round trip: the exact float
    assert config["weight_shapes"] == [list(a.shape) for a in genome.weights]
    flat = np.load(io.BytesIO(weights.read_bytes()))
    assert flat.dtype == np.dtype("<f4") and flat.ndim == 1
    expected = np.concatenate([a.numpy().ravel() for a in genome.weights])
    assert flat.tobytes() == expected.tobytes()
    _, loaded = load_policy(tmp_path)
    assert encode_genome(loaded) == encode_genome(genome)


def test_a_living_agents_policy_is_its_saved_weights(run: RunSummary, tmp_path: Path) -> None:
    lineage = pq.read_table(run.run_dir / RunDir.LINEAGE).to_pandas()
    alive = lineage[lineage.death_step == -1].sort_values("agent_id")
    assert len(alive) == run.n_agents
    gen = torch.Generator().manual_seed(7)
    for _, row in alive.iloc[:3].iterrows():
        out = tmp_path / row.final_hash
        rebuild_policy(run.run_dir, row.final_hash, out)
        pop, genome = load_policy(out)
        slot = int(row.slot)
        with np.load(run.run_dir / "weights" / "group0.npz") as saved:
            assert int(saved["first_agent"]) == 0
            for k in range(len(pop.weights)):
                assert np.array_equal(pop.weights[k][0].numpy(), saved[f"w{k}"][slot])
                assert np.array_equal(pop.biases[k][0].numpy(), saved[f"b{k}"][slot])
        full, agent_row, _ = load_agent(run.run_dir, slot)
        assert agent_row == slot and pop.n_agents == 1
        for _ in range(4):  # one observation per agent, as the kernel acts
            obs = torch.randn(pop.obs_dim, generator=gen) * torch.from_numpy(obs_mask(genome))
            mine = pop.q_values(obs.unsqueeze(0))[0]
            theirs = full.q_values(obs.expand(full.n_agents, -1))[slot]
            assert torch.equal(mine, theirs)


def test_prefixes_resolve_to_the_one_hash(run: RunSummary, best: str, tmp_path: Path) -> None:
    a = rebuild_policy(run.run_dir, best[:8].upper(), tmp_path / "a")
    b = rebuild_policy(run.run_dir, best, tmp_path / "b")
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]


def test_ambiguous_unknown_and_short_prefixes(tmp_path: Path) -> None:
    vault = Vault(tmp_path / "vault")
    hashes = [f"deadbeef{i:02d}" + "0" * 54 for i in range(7)]
    vault.put_many([(f"genome {i}".encode(), h) for i, h in enumerate(hashes)])
    with pytest.raises(PolicyNotFound, match=r"ambiguous \(7 matches: deadbeef00.*and 2 more"):
        rebuild_policy(tmp_path, "deadbeef", tmp_path / "out")
    with pytest.raises(PolicyNotFound, match="no policy hash starts with 0123abcd"):
        rebuild_policy(tmp_path, "0123abcd", tmp_path / "out")
    with pytest.raises(PolicyNotFound, match="at least 8 hex digits"):
        rebuild_policy(tmp_path, "deadbee", tmp_path / "out")
    # a unique prefix that is not a genome: decoding fails with the file named
    with pytest.raises(
        PolicyError, match=rf"pack-000001\.vpack\[{hashes[3]}\]: not a valid genome"
    ):
        rebuild_policy(tmp_path, hashes[3][:10], tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_missing_run_or_vault(tmp_path: Path) -> None:
    with pytest.raises(PolicyNotFound, match="no such run directory"):
        rebuild_policy(tmp_path / "nope", "deadbeef", tmp_path / "out")
    with pytest.raises(PolicyNotFound, match="no genome vault in this run"):
        rebuild_policy(tmp_path, "deadbeef", tmp_path / "out")


def test_a_tampered_snapshot_is_refused(run: RunSummary, best: str, tmp_path: Path) -> None:
    run_dir = _copy_vault(run, tmp_path)
    vault = Vault(run_dir / "vault")
    entry = vault.entry(best)
    assert entry is not None
    pack = vault.dir / entry.pack
    blob = bytearray(pack.read_bytes())
    blob[entry.offset + entry.length - 1] ^= 1  # one bit of the last weight
    pack.write_bytes(bytes(blob))
    snapshot = re.escape(f"{pack}[{best}]")
    with pytest.raises(VaultError, match=rf"{snapshot}: sha256 differs"):
        rebuild_policy(run_dir, best, tmp_path / "out")
    # ... and re-writing the pack index's sha256 does not help: the policy hash no longer matches
    altered = bytes(blob[entry.offset : entry.offset + entry.length])
    old, new = entry.sha256.encode(), hashlib.sha256(altered).hexdigest().encode()
    pack.write_bytes(bytes(blob).replace(old, new, 1))
    with pytest.raises(PolicyError, match=rf"{snapshot}: decodes to policy hash \w+, not {best}"):
        rebuild_policy(run_dir, best, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def _forged_pack(run_dir: Path, source: str) -> str:
    """Add a pack holding a well-formed genome the run never had (``source``'s with one weight
    changed), listed in SHA256SUMS as a pack of the run; its policy hash."""
    vault = Vault(run_dir / "vault")
    genome = decode_genome(vault.get(source))
    weights = list(genome.weights)
    first = weights[0].numpy().copy()
    first.flat[0] += 1.0
    weights[0] = Array.of(first)
    forged = msgspec.structs.replace(genome, weights=tuple(weights))
    data, digest = encode_genome(forged), policy_hash(forged)
    pack = vault.dir / "pack-999999.vpack"
    pack.write_bytes(pack_bytes([(data, digest)]))
    with vault.sums_path.open("a") as sums:
        sums.write(f"{hashlib.sha256(pack.read_bytes()).hexdigest()}  {pack.name}\n")
    return digest


def test_a_forged_pack_is_refused(run: RunSummary, best: str, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    shutil.copytree(run.run_dir, run_dir)
    forged = _forged_pack(run_dir, best)
    # the genome, its pack header and the sums file all agree: only the manifest knows
    with pytest.raises(PolicyError, match=r"pack-999999\.vpack: not in the run's manifest"):
        rebuild_policy(run_dir, forged, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_pack_altered_elsewhere_is_refused(run: RunSummary, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    shutil.copytree(run.run_dir, run_dir)
    vault = Vault(run_dir / "vault")
    pack = next(p for p in sorted(vault.dir.glob("*.vpack")) if len(read_header(p)) > 1)
    entry, *rest = read_header(pack).values()
    others = [h for h, e in read_header(pack).items() if e in rest]
    blob = bytearray(pack.read_bytes())
    blob[entry.offset + entry.length - 1] ^= 1  # another genome of the same pack
    pack.write_bytes(bytes(blob))
    with pytest.raises(
        VaultError, match=rf"{re.escape(str(pack))}: sha256 differs from SHA256SUMS"
    ):
        rebuild_policy(run_dir, others[0], tmp_path / "out")
    # the sums line rewritten to match: the manifest still binds the pack as the run wrote it
    sums = vault.sums_path.read_text()
    listed = hashlib.sha256(bytes(blob)).hexdigest()
    vault.sums_path.write_text(re.sub(rf"\w{{64}}(  {entry.pack})", rf"{listed}\1", sums))
    with pytest.raises(PolicyError, match="sha256 differs from the run's manifest"):
        rebuild_policy(run_dir, others[0], tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_non_empty_out_dir_needs_force(run: RunSummary, best: str, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(PolicyError, match="not empty"):
        rebuild_policy(run.run_dir, best, tmp_path)
    paths = rebuild_policy(run.run_dir, best, tmp_path, force=True)
    again = rebuild_policy(run.run_dir, best, tmp_path, force=True)
    assert [p.read_bytes() for p in paths] == [p.read_bytes() for p in again]
    assert (tmp_path / "notes.txt").read_text() == "mine"  # never deletes what it did not write


def test_load_policy_refuses_edited_files(run: RunSummary, best: str, tmp_path: Path) -> None:
    policy, weights = rebuild_policy(run.run_dir, best, tmp_path)
    original = weights.read_bytes()
    weights.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
    with pytest.raises(PolicyError, match=rf"{weights}: sha256 differs"):
        load_policy(tmp_path)
    weights.write_bytes(original)
    config = json.loads(policy.read_bytes())
    config["exposure_cap"] = 1.0 if config["exposure_cap"] != 1.0 else 0.5
    policy.write_text(json.dumps(config))
    with pytest.raises(PolicyError, match=r"the files hash to policy \w+, not " + best):
        load_policy(tmp_path)
    config["weight_shapes"] = [[1, 1]]
    policy.write_text(json.dumps(config))
    with pytest.raises(PolicyError, match="weight_shapes do not fit"):
        load_policy(tmp_path)
    with pytest.raises(PolicyNotFound, match="no such file"):
        load_policy(tmp_path / "missing")
