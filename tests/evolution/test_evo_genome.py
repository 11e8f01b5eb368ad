import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from scarline.errors import ConfigError
from scarline.events import Array
from scarline.evolution.genome import (
    GeneDomain,
    Genes,
    Genome,
    GenomeLayout,
    clip_gene,
    decode_genome,
    encode_genome,
    genome_of,
    hash_of_encoded,
    load_genome,
    policy_hash,
)
from scarline.learning.qnet import QPopulation

DOMAIN = GeneDomain()


def layout(n_features: int = 3, n_private: int = 2, hidden: tuple[int, ...] = (4,)) -> GenomeLayout:
    return GenomeLayout(
        feature_names=tuple(f"f{j}" for j in range(n_features)),
        private_names=tuple(f"p{j}" for j in range(n_private)),
        actions=(-1.0, 0.0, 1.0),
        hidden=hidden,
    )


def population(n: int, lay: GenomeLayout, seed: int = 0) -> tuple[QPopulation, Genes]:
    g = torch.Generator().manual_seed(seed)
    net = QPopulation(n, lay.sizes[0], list(lay.hidden), len(lay.actions), g)
    return net, Genes.founders(n, len(lay.feature_names), lay.domain, lr=3e-4)


def scramble(genes: Genes, rng: np.random.Generator) -> None:
    """Random in-domain genes for every agent."""
    n, d = genes.n, DOMAIN
    for name in ("lr", "epsilon_floor", "scar_sensitivity", "sigma"):
        lo, hi = d.bounds(name)
        getattr(genes, name)[:] = clip_gene(rng.uniform(lo, hi, n), lo, hi)
    genes.feature_mask[:] = rng.random(genes.feature_mask.shape) < 0.6
    genes.feature_mask[:, 0] = True
    genes.entry[:] = rng.integers(0, len(d.entries), n)
    genes.risk[:] = rng.integers(0, len(d.risk_templates), n)


def test_domain_defaults_founders_and_errors_name_the_field() -> None:
    genes = Genes.founders(4, 5, DOMAIN, lr=3e-4)
    assert genes.lr.dtype == np.float32 and genes.feature_mask.shape == (4, 5)
    assert genes.feature_mask.all() and (genes.entry == 0).all() and (genes.risk == 0).all()
    assert np.all(genes.lr == np.float32(3e-4)) and np.all(genes.sigma == np.float32(0.02))
    assert genes.exposure_cap(DOMAIN).tolist() == [1.0] * 4
    with pytest.raises(ValidationError, match="risk_templates"):
        GeneDomain(risk_templates=[0.5, 0.75])
    with pytest.raises(ValidationError, match=r"founder\.sigma"):
        GeneDomain(sigma_max=1e-2)
    with pytest.raises(ConfigError, match=r"qnet\.lr = 0\.1 is outside evolution\.domain"):
        Genes.founders(2, 1, DOMAIN, lr=0.1)
    with pytest.raises(ValidationError, match="entries"):
        GeneDomain(entries=["market", "market"])
    with pytest.raises(ValidationError, match="sigma_min"):
        GeneDomain(sigma_min=0.0)
    with pytest.raises(ConfigError, match="min_features = 2"):
        Genes.founders(2, 1, GeneDomain(min_features=2), lr=3e-4)


def test_founders_inside_the_domain_are_clipped_as_before() -> None:
    """A learning rate on a bound is clipped one float32 step inwards, so genomes (and their
    hashes) of existing runs do not change."""
    lo = DOMAIN.lr_min
    gene = Genes.founders(1, 1, DOMAIN, lr=lo).lr[0]
    assert float(gene) >= lo and gene == clip_gene(np.array([lo]), *DOMAIN.bounds("lr"))[0]


def test_clip_gene_never_rounds_out_of_the_domain() -> None:
    lo, hi = DOMAIN.bounds("sigma")
    out = clip_gene(np.array([0.0, 1e-4, 1.0]), lo, hi)
    assert out.dtype == np.float32 and all(lo <= float(v) <= hi for v in out)


def test_put_copies_rows_vectorized() -> None:
    genes = Genes.founders(4, 3, DOMAIN, lr=3e-4)
    src = genes.copy()
    scramble(src, np.random.default_rng(1))
    genes.put(np.array([3, 0]), src, np.array([1, 1]))
    for name in ("lr", "sigma", "feature_mask", "entry", "risk"):
        assert np.array_equal(getattr(genes, name)[[3, 0]], getattr(src, name)[[1, 1]])
        assert np.array_equal(
            getattr(genes, name)[[1, 2]],
            getattr(Genes.founders(4, 3, DOMAIN, lr=3e-4), name)[[1, 2]],
        )


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 5),
    n_features=st.integers(1, 4),
    n_private=st.integers(0, 3),
    hidden=st.sampled_from([(3,), (4, 2)]),
)
def test_round_trip_gives_an_equal_genome_and_hash(
    seed: int, n: int, n_features: int, n_private: int, hidden: tuple[int, ...]
) -> None:
    lay = layout(n_features, n_private, hidden)
    net, genes = population(n, lay, seed)
    scramble(genes, np.random.default_rng(seed))
    i = seed % n
    g = genome_of(i, genes, net, lay)
    data = encode_genome(g)
    assert encode_genome(decode_genome(data)) == data  # canonical

    net2, genes2 = population(n, lay, seed + 1)
    load_genome(net2, genes2, i, decode_genome(data), lay)
    g2 = genome_of(i, genes2, net2, lay)
    assert g2 == g and policy_hash(g2) == policy_hash(g)
    assert hash_of_encoded(data) == policy_hash(g)  # what the census stores, from its bytes
    assert all(
        torch.equal(a[i], b[i]) for a, b in zip(net.parameters(), net2.parameters(), strict=True)
    )


def _change_one_weight_bit(g: Genome) -> Genome:
    w = g.weights[0].numpy().copy()
    w.view(np.uint32).flat[0] ^= 1  # the lowest mantissa bit
    return Genome(**{**_fields(g), "weights": (Array.of(w), *g.weights[1:])})


def _fields(g: Genome) -> dict:
    return {f: getattr(g, f) for f in g.__struct_fields__}


def test_any_single_change_changes_the_hash() -> None:
    lay = layout()
    net, genes = population(2, lay)
    g = genome_of(0, genes, net, lay)
    base = policy_hash(g)
    f32_next = float(np.nextafter(np.float32(g.lr), np.float32(1)))
    variants = [
        _change_one_weight_bit(g),
        Genome(**{**_fields(g), "lr": f32_next}),
        Genome(**{**_fields(g), "feature_mask": (False, *g.feature_mask[1:])}),
        Genome(**{**_fields(g), "entry": "limit"}),
        Genome(**{**_fields(g), "risk_template": 1, "exposure_cap": 0.75}),
        Genome(**{**_fields(g), "epsilon_floor": float(np.float32(0.01))}),
    ]
    hashes = {policy_hash(v) for v in variants}
    assert base not in hashes and len(hashes) == len(variants)
    assert len(base) == 64


def test_hash_is_stable_across_processes() -> None:
    script = textwrap.dedent(
        """
        import numpy as np
        from scarline.events import Array
        from scarline.evolution.genome import Genome, policy_hash
        g = Genome(
            feature_names=("ret_1", "vol_20"), private_names=("exposure",),
            feature_mask=(True, False), actions=(-1.0, 0.0, 1.0), hidden=(2,),
            lr=float(np.float32(3e-4)), epsilon_floor=0.0, scar_sensitivity=1.0,
            sigma=float(np.float32(0.02)), entry="market", risk_template=0, exposure_cap=1.0,
            weights=(
                Array.of(np.arange(6, dtype=np.float32).reshape(3, 2) / 7),
                Array.of(np.zeros(2, np.float32)),
                Array.of(-np.arange(6, dtype=np.float32).reshape(2, 3) / 3),
                Array.of(np.ones(3, np.float32)),
            ),
        )
        print(policy_hash(g))
        """
    )
    hashes = set()
    for hash_seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        out = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        )
        hashes.add(out.stdout.strip())
    ns: dict = {}
    exec(script.replace("print(policy_hash(g))", "h = policy_hash(g)"), ns)
    assert hashes == {ns["h"]}


def test_load_rejects_mismatches_naming_the_field() -> None:
    lay = layout()
    net, genes = population(2, lay)
    g = genome_of(0, genes, net, lay)
    bad = {
        "feature_names": Genome(**{**_fields(g), "feature_names": ("a", "b", "c")}),
        "hidden": Genome(**{**_fields(g), "hidden": (5,)}),
        r"weights\[2\]": Genome(
            **{
                **_fields(g),
                "weights": (*g.weights[:2], Array.of(np.zeros((4, 2), np.float32)), g.weights[3]),
            }
        ),
        "lr": Genome(**{**_fields(g), "lr": 1.0}),
        "exposure_cap": Genome(**{**_fields(g), "exposure_cap": 0.5}),
        "entry": Genome(**{**_fields(g), "entry": "iceberg"}),
        "feature_mask": Genome(**{**_fields(g), "feature_mask": (False, False, False)}),
    }
    before = [p.detach().clone() for p in net.parameters()]
    for field, genome in bad.items():
        with pytest.raises(ValueError, match=field):
            load_genome(net, genes, 1, genome, lay)
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters(), strict=True))
    with pytest.raises(ValueError, match="network sizes"):
        load_genome(net, genes, 0, g, layout(n_features=4))
    with pytest.raises(ValueError, match="not a valid genome"):
        decode_genome(b"\x00garbage")
