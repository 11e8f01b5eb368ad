"""Genes and genomes: what an agent inherits, and its canonical, hashable form.

Two views of the same thing:

* :class:`Genes` holds the genes of a whole population as arrays (one row per agent), so
  mutation and reproduction stay vectorized.
* :class:`Genome` is ONE agent's genome as a frozen msgspec Struct: everything it takes to
  rebuild the agent's phenotype bit for bit (features it sees, network shape and weights,
  learning rate, exploration floor, scar sensitivity, entry style, risk template). Its
  canonical msgpack bytes are hashed into the *policy hash* that the lineage and the policy
  ledger refer to, so a genome must serialize to the same bytes in every process: gene
  floats are the exact float32 values widened to Python floats, weights are raw
  little-endian float32 bytes.

:class:`GeneDomain` declares where every gene may live; founders, mutation and loading never
leave it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from itertools import pairwise
from typing import TYPE_CHECKING, Literal

import msgspec
import numpy as np
from pydantic import Field, model_validator

from scarline.errors import ConfigError
from scarline.events import Array
from scarline.strict import Strict

if TYPE_CHECKING:
    from scarline.learning.qnet import QPopulation

GENOME_VERSION = 1
WEIGHTS_DTYPE = np.dtype("<f4")  # weights are stored little-endian float32 on every machine
FLOAT_GENES: tuple[str, ...] = ("lr", "epsilon_floor", "scar_sensitivity", "sigma")
"""The real-valued genes, in the order :meth:`GeneDomain.bounds` knows them."""

Entry = Literal["market", "limit"]
ENTRIES: tuple[Entry, ...] = ("market", "limit")


class FounderGenes(Strict):
    """The genes every founder starts with (all market features on). Their learning rate is
    the group's ``qnet.lr``: one knob, not two."""

    epsilon_floor: float = Field(default=0.0, description="the founders' exploration floor")
    scar_sensitivity: float = Field(
        default=1.0, description="divides the scar thresholds (2.0: scars at half the loss)"
    )
    sigma: float = Field(default=0.02, description="the founders' weight-mutation step")
    entry: Entry = Field(default="market", description="the founders' entry order type")
    risk_template: int = Field(
        default=0, ge=0, description="index into domain.risk_templates (0: the loosest)"
    )


class GeneDomain(Strict):
    """The allowed domain of every gene, and the scales hyper-parameter mutation uses.

    ``lr`` mutates on a log scale; ``scar_sensitivity`` is a multiplier (the scar thresholds
    are divided by it: 2.0 scars at half the loss); ``sigma`` is the agent's own weight
    mutation step (self-adapted); ``risk_templates`` are exposure caps, loosest first, and an
    agent's risk gene indexes them; ``entries`` are the execution styles an agent may use.
    """

    lr_min: float = Field(
        default=1e-5,
        gt=0,
        description="learning-rate gene, lower bound (qnet.lr must be >= it)",
    )
    lr_max: float = Field(
        default=1e-2,
        gt=0,
        description="learning-rate gene, upper bound (qnet.lr must be <= it)",
    )
    epsilon_floor_min: float = Field(
        default=0.0, ge=0, le=1, description="exploration-floor gene, lower bound"
    )
    epsilon_floor_max: float = Field(
        default=0.5, ge=0, le=1, description="exploration-floor gene, upper bound"
    )
    scar_sensitivity_min: float = Field(
        default=0.25, gt=0, description="scar-sensitivity gene, lower bound"
    )
    scar_sensitivity_max: float = Field(
        default=4.0, gt=0, description="scar-sensitivity gene, upper bound"
    )
    sigma_min: float = Field(default=1e-4, gt=0, description="mutation-step gene, lower bound")
    sigma_max: float = Field(default=0.5, gt=0, description="mutation-step gene, upper bound")
    min_features: int = Field(
        default=1,
        ge=1,
        description="features an agent keeps at least (the group must observe this many)",
    )
    risk_templates: list[float] = Field(
        default_factory=lambda: [1.0, 0.75, 0.5, 0.25],
        min_length=1,
        max_length=127,
        description="exposure caps, strictly decreasing in (0, 1]",
    )
    entries: list[Entry] = Field(
        default_factory=lambda: list(ENTRIES),
        min_length=1,
        description="entry order types an agent may use",
    )
    lr_log_step: float = Field(
        default=0.2, ge=0, description="std of the log-normal learning-rate mutation"
    )
    epsilon_floor_step: float = Field(
        default=0.02, ge=0, description="std of the additive exploration-floor mutation"
    )
    scar_sensitivity_log_step: float = Field(
        default=0.1, ge=0, description="std of the log-normal scar-sensitivity mutation"
    )
    founder: FounderGenes = Field(default_factory=FounderGenes)

    @model_validator(mode="after")
    def _check(self) -> GeneDomain:
        for name in FLOAT_GENES:
            lo, hi = self.bounds(name)
            if lo > hi:
                raise ValueError(f"{name}_min ({lo}) must be <= {name}_max ({hi})")
            value = getattr(self.founder, name, None)
            if value is not None and not lo <= value <= hi:
                raise ValueError(f"founder.{name} = {value} is outside [{lo}, {hi}]")
        caps = self.risk_templates
        if any(not 0 < c <= 1 for c in caps) or any(a <= b for a, b in pairwise(caps)):
            raise ValueError(f"risk_templates must be strictly decreasing in (0, 1], got {caps}")
        if len(set(self.entries)) != len(self.entries):
            raise ValueError(f"entries must be distinct, got {self.entries}")
        if self.founder.entry not in self.entries:
            raise ValueError(f"founder.entry '{self.founder.entry}' is not in entries")
        if self.founder.risk_template >= len(caps):
            raise ValueError(
                f"founder.risk_template = {self.founder.risk_template} but there are only "
                f"{len(caps)} risk_templates"
            )
        return self

    def bounds(self, gene: str) -> tuple[float, float]:
        """``(min, max)`` of a float gene (one of :data:`FLOAT_GENES`)."""
        if gene not in FLOAT_GENES:
            raise ValueError(f"unknown float gene '{gene}', expected one of {FLOAT_GENES}")
        return getattr(self, f"{gene}_min"), getattr(self, f"{gene}_max")


def clip_gene(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Clip to ``[lo, hi]`` and round to float32 without leaving the interval.

    ``np.float32(1e-4) < 1e-4``: a plain cast of a clipped bound can fall just outside the
    domain, so the bounds are first moved inwards to the nearest float32 inside it.
    """
    lo32, hi32 = np.float32(lo), np.float32(hi)
    if float(lo32) < lo:
        lo32 = np.nextafter(lo32, np.float32(np.inf))
    if float(hi32) > hi:
        hi32 = np.nextafter(hi32, np.float32(-np.inf))
    return np.clip(np.asarray(values, dtype=np.float32), lo32, hi32)


@dataclass(eq=False)
class Genes:
    """The genes of N agents: one row per agent, F market features in the mask."""

    lr: np.ndarray  # float32[N]
    epsilon_floor: np.ndarray  # float32[N]
    scar_sensitivity: np.ndarray  # float32[N]
    sigma: np.ndarray  # float32[N]
    feature_mask: np.ndarray  # bool[N, F]
    entry: np.ndarray  # int8[N], index into GeneDomain.entries
    risk: np.ndarray  # int8[N], index into GeneDomain.risk_templates

    def __post_init__(self) -> None:
        n = self.lr.shape[0] if self.lr.ndim == 1 else -1
        expected = {**dict.fromkeys(FLOAT_GENES, np.float32), "entry": np.int8, "risk": np.int8}
        for name, dtype in expected.items():
            arr = getattr(self, name)
            if arr.dtype != dtype or arr.shape != (n,):
                raise ValueError(
                    f"Genes.{name}: expected {np.dtype(dtype)}[{n}], got "
                    f"{arr.dtype}{list(arr.shape)}"
                )
        mask = self.feature_mask
        if mask.dtype != np.bool_ or mask.ndim != 2 or mask.shape[0] != n:
            raise ValueError(
                f"Genes.feature_mask: expected bool[{n}, F], got {mask.dtype}{list(mask.shape)}"
            )

    @property
    def n(self) -> int:
        return self.lr.shape[0]

    @property
    def n_features(self) -> int:
        return self.feature_mask.shape[1]

    @classmethod
    def founders(cls, n: int, n_features: int, domain: GeneDomain, lr: float) -> Genes:
        """N founders with the domain's founder genes, learning rate ``lr``, all features on.

        Every Q-network group's genomes are stored and loaded through its domain (the vault,
        a paper session's policies, the gates' frozen re-runs), evolving or not, so the
        founders must fit it: a :class:`~scarline.errors.ConfigError` naming the keys
        otherwise (the run config refuses the same earlier, see
        ``agents.config.domain_problems``).
        """
        if n < 1:
            raise ValueError(f"founders: n must be >= 1, got {n}")
        check_founder_domain(n_features, domain, lr)
        f = domain.founder
        start = {g: lr if g == "lr" else getattr(f, g) for g in FLOAT_GENES}
        floats = {g: clip_gene(np.full(n, start[g]), *domain.bounds(g)) for g in FLOAT_GENES}
        return cls(
            **floats,
            feature_mask=np.ones((n, n_features), dtype=bool),
            entry=np.full(n, domain.entries.index(f.entry), dtype=np.int8),
            risk=np.full(n, f.risk_template, dtype=np.int8),
        )

    def copy(self) -> Genes:
        return Genes(**{name: getattr(self, name).copy() for name in _FIELDS})

    def put(self, rows: np.ndarray, src: Genes, src_rows: np.ndarray) -> None:
        """Agents ``rows`` take the genes of ``src``'s agents ``src_rows`` (e.g. births)."""
        if src.n_features != self.n_features:
            raise ValueError(
                f"Genes.put: feature_mask has {src.n_features} features, expected {self.n_features}"
            )
        rows, src_rows = np.asarray(rows, np.int64), np.asarray(src_rows, np.int64)
        if rows.shape != src_rows.shape:
            raise ValueError(f"Genes.put: rows {rows.shape} and src_rows {src_rows.shape} differ")
        for name in _FIELDS:
            getattr(self, name)[rows] = getattr(src, name)[src_rows]

    def exposure_cap(self, domain: GeneDomain) -> np.ndarray:
        """Each agent's exposure cap from its risk template, ``float32[N]``."""
        return np.asarray(domain.risk_templates, dtype=np.float32)[self.risk]


_FIELDS: tuple[str, ...] = (*FLOAT_GENES, "feature_mask", "entry", "risk")


def check_founder_domain(n_features: int, domain: GeneDomain, lr: float) -> None:
    """Raise :class:`ConfigError` unless a group's founders fit ``domain``: their learning
    rate (``qnet.lr``) in ``[lr_min, lr_max]``, and at least ``min_features`` market
    features to switch on and off."""
    lo, hi = domain.bounds("lr")
    if not lo <= lr <= hi:
        raise ConfigError(
            f"qnet.lr = {lr} is outside evolution.domain [lr_min, lr_max] = [{lo}, {hi}]: "
            "a group's genomes are stored and loaded through its domain, evolving or not; move "
            "it inside, or widen the domain"
        )
    if n_features < domain.min_features:
        raise ConfigError(
            f"the group observes {n_features} market features (features.*_windows and "
            f"exogenous columns), but evolution.domain.min_features = {domain.min_features}: "
            "add feature windows, or lower min_features"
        )


class Genome(msgspec.Struct, frozen=True, kw_only=True):
    """One agent's canonical genome: enough to rebuild its phenotype deterministically.

    ``feature_mask`` refers to ``feature_names`` (the market part of the observation); the
    network's input is ``feature_names + private_names``. ``weights`` is ``W0, b0, W1, b1,
    …`` with W as ``[in, out]`` and b as ``[out]``, float32.
    """

    version: int = GENOME_VERSION
    feature_names: tuple[str, ...]
    private_names: tuple[str, ...]
    feature_mask: tuple[bool, ...]
    actions: tuple[float, ...]
    hidden: tuple[int, ...]
    lr: float
    epsilon_floor: float
    scar_sensitivity: float
    sigma: float
    entry: str
    risk_template: int
    exposure_cap: float
    weights: tuple[Array, ...]


@dataclass(frozen=True)
class GenomeLayout:
    """What a run's genomes share: feature and private names, action levels, hidden sizes."""

    feature_names: tuple[str, ...]
    private_names: tuple[str, ...]
    actions: tuple[float, ...]
    hidden: tuple[int, ...]
    domain: GeneDomain = field(default_factory=GeneDomain)

    def __post_init__(self) -> None:
        # accept any sequences; store tuples of plain Python values (what a Genome holds)
        object.__setattr__(self, "feature_names", tuple(str(s) for s in self.feature_names))
        object.__setattr__(self, "private_names", tuple(str(s) for s in self.private_names))
        object.__setattr__(self, "actions", tuple(float(a) for a in self.actions))
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))
        names = self.feature_names + self.private_names
        if len(set(names)) != len(names):
            raise ValueError(f"GenomeLayout: feature and private names must be distinct: {names}")

    @property
    def sizes(self) -> list[int]:
        """Layer sizes of the network: ``[F + P, *hidden, A]``."""
        return [
            len(self.feature_names) + len(self.private_names),
            *self.hidden,
            len(self.actions),
        ]


def _check_population(net: QPopulation, genes: Genes, i: int, layout: GenomeLayout) -> None:
    if net.sizes != layout.sizes:
        raise ValueError(f"network sizes {net.sizes} != layout sizes {layout.sizes}")
    if genes.n != net.n_agents:
        raise ValueError(f"genes hold {genes.n} agents, the network {net.n_agents}")
    if genes.n_features != len(layout.feature_names):
        raise ValueError(
            f"feature_mask has {genes.n_features} features, layout has "
            f"{len(layout.feature_names)} feature_names"
        )
    if not 0 <= i < genes.n:
        raise ValueError(f"agent {i} is out of range [0, {genes.n})")


def genome_of(i: int, genes: Genes, net: QPopulation, layout: GenomeLayout) -> Genome:
    """Agent ``i``'s canonical genome (its genes row and its network row)."""
    return genomes_of([i], genes, net, layout)[0]


def genomes_of(
    rows: list[int], genes: Genes, net: QPopulation, layout: GenomeLayout
) -> list[Genome]:
    """The canonical genomes of agents ``rows``: one gather per tensor for the whole batch
    (a life cycle records thousands of genomes)."""
    for i in rows:
        _check_population(net, genes, i, layout)
    index = np.asarray(rows, dtype=np.int64)
    tensors = [
        np.ascontiguousarray(t.detach().numpy()[index], dtype=WEIGHTS_DTYPE)
        for w, b in zip(net.weights, net.biases, strict=True)
        for t in (w, b[:, 0])
    ]
    shapes = [list(t.shape[1:]) for t in tensors]  # what Array.of gives, built once
    # gene columns to Python values once (float32 .tolist() widens exactly, like float())
    floats = {g: getattr(genes, g)[index].tolist() for g in FLOAT_GENES}
    mask = genes.feature_mask[index].tolist()
    entry = genes.entry[index].tolist()
    risk = genes.risk[index].tolist()
    domain = layout.domain
    caps = [float(np.float32(c)) for c in domain.risk_templates]
    return [
        Genome(
            version=GENOME_VERSION,
            feature_names=layout.feature_names,
            private_names=layout.private_names,
            feature_mask=tuple(mask[j]),
            actions=layout.actions,
            hidden=layout.hidden,
            lr=floats["lr"][j],
            epsilon_floor=floats["epsilon_floor"][j],
            scar_sensitivity=floats["scar_sensitivity"][j],
            sigma=floats["sigma"][j],
            entry=domain.entries[entry[j]],
            risk_template=risk[j],
            exposure_cap=caps[risk[j]],
            weights=tuple(
                Array(WEIGHTS_DTYPE.str, shape, t[j].tobytes())
                for t, shape in zip(tensors, shapes, strict=True)
            ),
        )
        for j in range(len(rows))
    ]


def encode_genome(g: Genome) -> bytes:
    """Canonical bytes: msgpack with fields in declaration order, floats as float64."""
    return msgspec.msgpack.encode(g)


def decode_genome(data: bytes) -> Genome:
    try:
        return msgspec.msgpack.decode(data, type=Genome)
    except msgspec.DecodeError as exc:
        raise ValueError(f"not a valid genome: {exc}") from exc


def policy_hash(g: Genome) -> str:
    """BLAKE2b-256 hex digest of the genome's canonical bytes."""
    return hash_of_encoded(encode_genome(g))


def hash_of_encoded(data: bytes) -> str:
    """:func:`policy_hash` of the genome whose canonical bytes are ``data`` (a caller that
    encoded it already, to store it, need not encode it again)."""
    return hashlib.blake2b(data, digest_size=32).hexdigest()


def load_genome(net: QPopulation, genes: Genes, i: int, g: Genome, layout: GenomeLayout) -> None:
    """Write genome ``g`` into agent ``i`` of ``net`` and ``genes`` (inverse of genome_of).

    Everything is checked before anything is written; a mismatch raises ValueError naming
    the genome field.
    """
    import torch  # here, not at module level: hashing genomes needs no torch

    _check_population(net, genes, i, layout)
    domain = layout.domain
    if g.version != GENOME_VERSION:
        raise ValueError(f"version: genome has {g.version}, this code reads {GENOME_VERSION}")
    for name in ("feature_names", "private_names", "actions", "hidden"):
        if tuple(getattr(g, name)) != getattr(layout, name):
            raise ValueError(
                f"{name}: genome has {getattr(g, name)}, layout has {getattr(layout, name)}"
            )
    if len(g.feature_mask) != len(layout.feature_names):
        raise ValueError(
            f"feature_mask: {len(g.feature_mask)} entries for {len(layout.feature_names)} features"
        )
    if sum(g.feature_mask) < domain.min_features:
        raise ValueError(
            f"feature_mask: {sum(g.feature_mask)} features on, domain needs "
            f">= {domain.min_features}"
        )
    for name in FLOAT_GENES:
        value, (lo, hi) = getattr(g, name), domain.bounds(name)
        if float(np.float32(value)) != value or not lo <= value <= hi:
            raise ValueError(f"{name}: {value} is not a float32 value in [{lo}, {hi}]")
    if g.entry not in domain.entries:
        raise ValueError(f"entry: '{g.entry}' is not one of {domain.entries}")
    if not 0 <= g.risk_template < len(domain.risk_templates):
        raise ValueError(
            f"risk_template: {g.risk_template} out of range [0, {len(domain.risk_templates)})"
        )
    cap = float(np.float32(domain.risk_templates[g.risk_template]))
    if g.exposure_cap != cap:
        raise ValueError(
            f"exposure_cap: genome has {g.exposure_cap}, risk template {g.risk_template} "
            f"is {cap} here"
        )
    mine = net.agent_state(i)
    keys = [f"{kind}{k}" for k in range(len(net.weights)) for kind in ("w", "b")]
    if len(g.weights) != len(keys):
        raise ValueError(f"weights: genome has {len(g.weights)} arrays, network needs {len(keys)}")
    state = {}
    for j, (key, arr) in enumerate(zip(keys, g.weights, strict=True)):
        shape = list(mine[key].shape)
        if np.dtype(arr.dtype) != np.float32 or arr.shape != shape:
            raise ValueError(
                f"weights[{j}] ({key}): expected float32{shape}, got {arr.dtype}{arr.shape}"
            )
        state[key] = torch.from_numpy(arr.numpy().astype(np.float32))  # owned, native order
    net.set_agent_state(i, state)
    genes.feature_mask[i] = g.feature_mask
    for name in FLOAT_GENES:
        getattr(genes, name)[i] = getattr(g, name)
    genes.entry[i] = domain.entries.index(g.entry)
    genes.risk[i] = g.risk_template
