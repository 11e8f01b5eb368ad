"""Rebuild an agent's runtime from a run's genome vault alone: ``policy.json`` + ``weights.npy``.

The vault snapshot is the evidence (its sha256 is checked against its pack's index, its policy
hash is recomputed after decoding); the two files are a portable, plain form of it that
needs neither msgpack nor scarline to read. Both are pure functions of the genome, so every
rebuild on every machine writes the same bytes:

* ``policy.json``: every gene and layout field except the weights, the policy hash, the
  weights file's name and sha256 and the weight shapes; sorted keys, compact separators,
  floats as ``repr`` (exact round trip), ASCII, one trailing newline;
* ``weights.npy``: ``W0, b0, W1, b1, …`` (W as ``[in, out]``) flattened in that order into
  one little-endian float32 vector, ``.npy`` format version 1.0 (a fixed header).

:func:`load_policy` reads them back and recomputes the policy hash, so a loaded policy is
provably the genome the lineage names.
"""

from __future__ import annotations

import io
import json
import math
import re
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec
import numpy as np

from scarline.digest import sha256_hex
from scarline.errors import ScarlineError
from scarline.events import Array
from scarline.evolution.genome import WEIGHTS_DTYPE, Genome, decode_genome, policy_hash
from scarline.evolution.vault import Vault
from scarline.journal.manifest import read_manifest
from scarline.rundir import RunDir
from scarline.safe_write import replace_file

if TYPE_CHECKING:
    from scarline.learning.qnet import QPopulation

POLICY_FILE = "policy.json"
WEIGHTS_FILE = "weights.npy"
MIN_PREFIX = 8
"""Shortest policy hash prefix accepted (4 bytes: ambiguity stays rare in any real vault)."""
CANDIDATES_SHOWN = 5
_HEX = re.compile(r"[0-9a-f]+")
_GENE_FIELDS: tuple[str, ...] = tuple(f for f in Genome.__struct_fields__ if f != "weights")
_EXTRA_FIELDS = ("policy_hash", "weights_file", "weights_sha256", "weight_shapes")


class PolicyNotFound(ScarlineError):
    """The run, its vault or the policy hash is not there (or a prefix is ambiguous)."""

    exit_code = 2


class PolicyError(ScarlineError):
    """A snapshot or a rebuilt policy directory does not hold what it claims to."""


def open_vault(run_dir: Path | str) -> Vault:
    """The run's vault; :class:`PolicyNotFound` when the run or its vault is missing."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise PolicyNotFound(f"{run_dir}: no such run directory")
    vault = Vault(RunDir(run_dir).vault)
    if not vault.sums_path.is_file():
        raise PolicyNotFound(
            f"{vault.sums_path}: no genome vault in this run (was [agents.evolution] enabled?)"
        )
    return vault


def resolve_hash(vault: Vault, prefix: str) -> str:
    """The one stored policy hash starting with ``prefix`` (>= :data:`MIN_PREFIX` hex digits)."""
    wanted = prefix.strip().lower()
    if len(wanted) < MIN_PREFIX or not _HEX.fullmatch(wanted):
        raise PolicyNotFound(
            f"policy hash must be at least {MIN_PREFIX} hex digits, got {prefix!r}"
        )
    matches = [h for h in vault.hashes() if h.startswith(wanted)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise PolicyNotFound(f"{vault.dir}: no policy hash starts with {wanted}")
    shown = ", ".join(matches[:CANDIDATES_SHOWN])
    more = f" and {len(matches) - CANDIDATES_SHOWN} more" if len(matches) > CANDIDATES_SHOWN else ""
    raise PolicyNotFound(
        f"{vault.dir}: policy hash prefix {wanted} is ambiguous ({len(matches)} matches: "
        f"{shown}{more})"
    )


def load_genome_from_vault(run_dir: Path | str, policy: str) -> tuple[str, Genome]:
    """``(full policy hash, genome)``: the snapshot's sha256 and its policy hash both checked."""
    vault = open_vault(run_dir)
    full = resolve_hash(vault, policy)
    data = vault.get(full)  # VaultError (exit 1) when the bytes differ from their sha256
    path = vault.location(full)
    try:
        genome = decode_genome(data)
    except ValueError as exc:
        raise PolicyError(f"{path}: {exc}") from None
    actual = policy_hash(genome)
    if actual != full:
        raise PolicyError(f"{path}: decodes to policy hash {actual}, not {full}")
    _check_shapes(genome, path)
    _check_recorded(Path(run_dir), vault, full)
    return full, genome


def _check_recorded(run_dir: Path, vault: Vault, full: str) -> None:
    """The pack holding ``full`` is the one the run recorded: its sha256 is the one
    ``SHA256SUMS`` lists and, in a finished run, the one the manifest bound. The genome's own
    checks cannot tell a pack (header and sums line included) added after the run: it holds
    a well-formed genome that the run never had. A manifest that binds no vault file at all
    leaves the sums file as the only record."""
    entry = vault.entry(full)
    assert entry is not None  # resolved from the same index
    digest = vault.check_pack(entry.pack)
    paths = RunDir(run_dir)
    if not paths.manifest.is_file():  # an unfinished run: its sums file is all there is
        return
    artifacts = read_manifest(run_dir).artifacts
    prefix = paths.relative(vault.dir) + "/"
    if not any(name.startswith(prefix) for name in artifacts):
        return  # the manifest binds no vault (sealed from the WAL; a paper session's policies)
    pack = vault.dir / entry.pack
    recorded = artifacts.get(paths.relative(pack))
    if recorded is None:
        raise PolicyError(f"{pack}: not in the run's manifest (added after the run?)")
    if recorded != digest:
        raise PolicyError(f"{pack}: sha256 differs from the run's manifest (the pack was altered)")


def weight_shapes(genome: Genome) -> list[list[int]]:
    """``[[in, out], [out], …]`` of W0, b0, W1, b1, … from the layout (not from the arrays)."""
    sizes = [len(genome.feature_names) + len(genome.private_names), *genome.hidden]
    sizes.append(len(genome.actions))
    return [shape for i, o in pairwise(sizes) for shape in ([i, o], [o])]


def _check_shapes(genome: Genome, where: str) -> None:
    expected = weight_shapes(genome)
    got = [list(a.shape) for a in genome.weights]
    if got != expected:
        raise PolicyError(f"{where}: weight shapes {got} do not fit the layout {expected}")
    if any(np.dtype(a.dtype) != WEIGHTS_DTYPE for a in genome.weights):
        raise PolicyError(f"{where}: weights must be little-endian float32")


def weights_bytes(genome: Genome) -> bytes:
    """The ``.npy`` file of all weights flattened in order (format 1.0: a fixed header)."""
    flat = np.concatenate([a.numpy().reshape(-1) for a in genome.weights]).astype(WEIGHTS_DTYPE)
    buf = io.BytesIO()
    np.lib.format.write_array(buf, flat, version=(1, 0), allow_pickle=False)
    return buf.getvalue()


def canonical_json(obj: Any) -> bytes:
    """Sorted keys, no spaces, ASCII, floats as ``repr``, NaN refused, trailing newline."""
    text = json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    )
    return (text + "\n").encode("ascii")


def policy_files(genome: Genome, full_hash: str) -> dict[str, bytes]:
    """``{file name: bytes}`` of the rebuilt runtime (pure: same genome, same bytes)."""
    weights = weights_bytes(genome)
    config: dict[str, Any] = {name: _plain(getattr(genome, name)) for name in _GENE_FIELDS}
    config |= {
        "policy_hash": full_hash,
        "weights_file": WEIGHTS_FILE,
        "weights_sha256": sha256_hex(weights),
        "weight_shapes": weight_shapes(genome),
    }
    return {POLICY_FILE: canonical_json(config), WEIGHTS_FILE: weights}


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def rebuild_policy(
    run_dir: Path | str, policy_hash: str, out_dir: Path | str, *, force: bool = False
) -> list[Path]:
    """Write ``policy.json`` and ``weights.npy`` of a vaulted policy into ``out_dir``.

    ``policy_hash`` may be a unique prefix. A non-empty ``out_dir`` is refused unless
    ``force`` (which overwrites the two files and leaves anything else there alone).
    """
    full, genome = load_genome_from_vault(run_dir, policy_hash)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise PolicyError(f"{out}: exists and is not a directory")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise PolicyError(f"{out}: directory is not empty (use --force to overwrite)")
    out.mkdir(parents=True, exist_ok=True)
    files = policy_files(genome, full)
    # weights first: a policy.json on disk always names weights that are already complete
    for name in (WEIGHTS_FILE, POLICY_FILE):
        replace_file(out / name, files[name])
    return [out / name for name in sorted(files)]


def obs_mask(genome: Genome) -> np.ndarray:
    """``float32[F + P]``: what the agent multiplies its observation by (dropped features are
    zeroed; the private part is always seen), as :mod:`scarline.evolution.phenotype` does."""
    mask = [*genome.feature_mask, *([True] * len(genome.private_names))]
    return np.asarray(mask, dtype=np.float32)


def load_policy(directory: Path | str) -> tuple[QPopulation, Genome]:
    """Read a rebuilt policy back: a one-agent network and the genome (hash re-checked).

    The network is the raw Q-function; acting like the agent also takes :func:`obs_mask`
    on the observation and ``genome.exposure_cap`` on the chosen action level.
    """
    directory = Path(directory)
    config_path = directory / POLICY_FILE
    try:
        config = json.loads(config_path.read_bytes())
    except FileNotFoundError:
        raise PolicyNotFound(f"{config_path}: no such file") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{config_path}: not valid JSON ({exc})") from None
    expected = set(_GENE_FIELDS) | set(_EXTRA_FIELDS)
    if not isinstance(config, dict) or set(config) != expected:
        got = sorted(config) if isinstance(config, dict) else type(config).__name__
        raise PolicyError(f"{config_path}: expected the keys {sorted(expected)}, got {got}")
    weights_path = directory / str(config["weights_file"])
    if weights_path.parent != directory:
        raise PolicyError(f"{config_path}: weights_file must be a file name in {directory}")
    try:
        raw = weights_path.read_bytes()
    except FileNotFoundError:
        raise PolicyNotFound(f"{weights_path}: no such file") from None
    if sha256_hex(raw) != config["weights_sha256"]:
        raise PolicyError(f"{weights_path}: sha256 differs from weights_sha256 in {POLICY_FILE}")
    try:
        flat = np.load(io.BytesIO(raw), allow_pickle=False)
    except ValueError as exc:
        raise PolicyError(f"{weights_path}: not a .npy array ({exc})") from None
    layout = _genome_from(config, config_path)  # genes and layout checked, no weights yet
    shapes = weight_shapes(layout)
    if config["weight_shapes"] != shapes:
        raise PolicyError(f"{config_path}: weight_shapes do not fit the layout {shapes}")
    size = sum(math.prod(s) for s in shapes)
    if flat.dtype != WEIGHTS_DTYPE or flat.shape != (size,):
        raise PolicyError(
            f"{weights_path}: expected float32[{size}] (little-endian), "
            f"got {flat.dtype.str}{list(flat.shape)}"
        )
    bounds = np.cumsum([0, *(math.prod(s) for s in shapes)])
    arrays = tuple(
        Array.of(flat[lo:hi].reshape(shape))
        for lo, hi, shape in zip(bounds[:-1], bounds[1:], shapes, strict=True)
    )
    genome = msgspec.structs.replace(layout, weights=arrays)
    actual = policy_hash(genome)
    if actual != config["policy_hash"]:
        raise PolicyError(
            f"{config_path}: the files hash to policy {actual}, not {config['policy_hash']}"
        )
    return genome_network(genome), genome


def genome_network(genome: Genome) -> QPopulation:
    """A one-agent network holding ``genome``'s weights (the raw Q-function, see
    :func:`load_policy`)."""
    import torch  # here: writing policies needs no torch

    from scarline.learning.qnet import QPopulation

    state = [torch.from_numpy(a.numpy().astype(np.float32)) for a in genome.weights]
    return QPopulation._from_tensors(
        [w.unsqueeze(0) for w in state[0::2]],
        [b.reshape(1, 1, -1) for b in state[1::2]],
        requires_grad=False,
    )


def _genome_from(config: dict[str, Any], where: Path) -> Genome:
    """The genome's genes and layout from ``policy.json``, type-checked (weights still empty)."""
    fields = {name: config[name] for name in _GENE_FIELDS}
    try:
        return msgspec.convert({**fields, "weights": []}, type=Genome, strict=True)
    except msgspec.ValidationError as exc:
        raise PolicyError(f"{where}: {exc}") from None
