import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from scarline.evolution.genome import FLOAT_GENES, GeneDomain, Genes, clip_gene
from scarline.evolution.operators import (
    MUTATION_ORDER,
    OPERATOR_GENES,
    OPERATORS,
    MutationRates,
    mutate,
    mutate_hyper,
    mutate_weights,
    op_add_feature,
    op_drop_feature,
    op_swap_execution_topology,
    op_tighten_risk,
)
from scarline.learning.qnet import QPopulation

DOMAIN = GeneDomain(min_features=2)
GENE_FIELDS = (*FLOAT_GENES, "feature_mask", "entry", "risk")


def random_genes(n: int, n_features: int, seed: int, extreme: bool = False) -> Genes:
    """In-domain genes; ``extreme`` puts the float genes on their bounds."""
    rng = np.random.default_rng(seed)
    genes = Genes.founders(n, n_features, DOMAIN, lr=3e-4)
    for name in FLOAT_GENES:
        lo, hi = DOMAIN.bounds(name)
        values = rng.choice([lo, hi], n) if extreme else rng.uniform(lo, hi, n)
        getattr(genes, name)[:] = clip_gene(values, lo, hi)
    mask = rng.random((n, n_features)) < rng.random()
    mask[:, : DOMAIN.min_features] |= mask.sum(1, keepdims=True) < DOMAIN.min_features
    genes.feature_mask[:] = mask
    genes.entry[:] = rng.integers(0, len(DOMAIN.entries), n)
    genes.risk[:] = rng.integers(0, len(DOMAIN.risk_templates), n)
    return genes


def assert_in_domain(genes: Genes, domain: GeneDomain = DOMAIN) -> None:
    for name in FLOAT_GENES:
        lo, hi = domain.bounds(name)
        values = getattr(genes, name)
        assert values.dtype == np.float32
        assert np.all((values.astype(np.float64) >= lo) & (values.astype(np.float64) <= hi)), name
    assert np.all(genes.feature_mask.sum(1) >= domain.min_features)
    assert np.all((genes.entry >= 0) & (genes.entry < len(domain.entries)))
    assert np.all((genes.risk >= 0) & (genes.risk < len(domain.risk_templates)))


def net_of(n: int, seed: int = 0) -> QPopulation:
    return QPopulation(n, 5, [4], 3, torch.Generator().manual_seed(seed))


@settings(max_examples=40, deadline=None)
@given(
    name=st.sampled_from(sorted(OPERATORS)),
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 12),
    n_features=st.integers(2, 6),
    extreme=st.booleans(),
)
def test_gene_operators_stay_in_domain_and_touch_only_their_genes_and_rows(
    name: str, seed: int, n: int, n_features: int, extreme: bool
) -> None:
    genes = random_genes(n, n_features, seed, extreme)
    before = genes.copy()
    rng = np.random.default_rng(seed)
    rows = np.flatnonzero(rng.random(n) < 0.5)
    log = OPERATORS[name](genes, rows, DOMAIN, rng)
    assert_in_domain(genes)
    assert log.operator == name and np.isin(log.rows, rows).all()
    assert log.before.shape == log.after.shape == (len(log), len(log.fields))
    outside = np.setdiff1d(np.arange(n), rows)
    for field in GENE_FIELDS:
        old, new = getattr(before, field), getattr(genes, field)
        assert np.array_equal(old[outside], new[outside]), field
        if field not in OPERATOR_GENES[name]:
            assert np.array_equal(old, new), field
    assert np.all(genes.risk >= before.risk)  # risk is never loosened


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 10), extreme=st.booleans())
def test_mutate_weights_changes_only_rows_and_keeps_sigma_in_domain(
    seed: int, n: int, extreme: bool
) -> None:
    genes = random_genes(n, 3, seed, extreme)
    net = net_of(n, seed % 7)
    old = [p.detach().clone() for p in net.parameters()]
    rows = np.flatnonzero(np.random.default_rng(seed).random(n) < 0.5)
    log = mutate_weights(net, rows, genes, DOMAIN, torch.Generator().manual_seed(seed))
    assert_in_domain(genes)
    assert np.array_equal(log.rows, rows) and log.fields == ("sigma",)
    assert np.array_equal(log.after[:, 0], genes.sigma[rows].astype(np.float64))
    outside = torch.from_numpy(np.setdiff1d(np.arange(n), rows))
    for a, b in zip(old, net.parameters(), strict=True):
        assert torch.equal(a[outside], b.detach()[outside])
        if rows.size:
            assert not torch.equal(a[torch.from_numpy(rows)], b.detach()[torch.from_numpy(rows)])


def test_mutate_weights_is_deterministic_and_self_adaptive() -> None:
    n = 400
    genes = Genes.founders(n, 3, DOMAIN, lr=3e-4)
    nets = [net_of(n), net_of(n)]
    results = []
    for net in nets:
        g = genes.copy()
        mutate_weights(net, np.arange(n), g, DOMAIN, torch.Generator().manual_seed(3))
        results.append(g)
    assert np.array_equal(results[0].sigma, results[1].sigma)
    assert all(torch.equal(a, b) for a, b in zip(*(m.parameters() for m in nets), strict=True))
    # sigma moved log-normally around 0.02 ...
    sigma = results[0].sigma.astype(np.float64)
    assert 0.015 < np.exp(np.log(sigma).mean()) < 0.025 and sigma.std() > 0
    # ... and each row's weights moved by its own new sigma, in the documented draw order
    g = torch.Generator().manual_seed(3)
    n_params = 5 * 4 + 4 + 4 * 3 + 3
    z = torch.randn(n, generator=g, dtype=torch.float64).numpy()
    tau = 1.0 / np.sqrt(2.0 * np.sqrt(n_params))
    expected_sigma = clip_gene(float(np.float32(0.02)) * np.exp(tau * z), 1e-4, 0.5)
    assert np.array_equal(results[0].sigma, expected_sigma)
    step = torch.from_numpy(expected_sigma)
    for old, new in zip(net_of(n).parameters(), nets[0].parameters(), strict=True):
        noise = torch.randn(old.shape, generator=g)
        expected = old.detach() + step.view(-1, 1, 1) * noise
        assert torch.equal(new.detach(), expected)


def test_hyper_is_deterministic_and_moves_every_gene() -> None:
    a, b = Genes.founders(50, 3, DOMAIN, lr=3e-4), Genes.founders(50, 3, DOMAIN, lr=3e-4)
    a.epsilon_floor[:] = b.epsilon_floor[:] = 0.1
    la = mutate_hyper(a, np.arange(50), DOMAIN, np.random.default_rng(4))
    mutate_hyper(b, np.arange(50), DOMAIN, np.random.default_rng(4))
    assert all(np.array_equal(getattr(a, f), getattr(b, f)) for f in FLOAT_GENES)
    assert la.fields == ("lr", "epsilon_floor", "scar_sensitivity")
    assert np.all(la.before != la.after, axis=0).all()
    assert np.all(a.sigma == Genes.founders(50, 3, DOMAIN, lr=3e-4).sigma)


def test_add_and_drop_feature_flip_one_uniformly_chosen_feature() -> None:
    n, f = 3000, 4
    genes = Genes.founders(n, f, DOMAIN, lr=3e-4)
    genes.feature_mask[:, 2:] = False  # f0, f1 on; f2, f3 off
    genes.feature_mask[0] = True  # row 0: all on, add is a no-op
    log = op_add_feature(genes, np.arange(n), DOMAIN, np.random.default_rng(0))
    assert 0 not in log.rows and len(log) == n - 1
    assert np.all(genes.feature_mask[1:].sum(1) == 3)
    picks = log.before[:, 0].astype(int)
    assert set(picks) == {2, 3} and abs(np.mean(picks == 2) - 0.5) < 0.05
    assert np.all(log.before[:, 1] == 0) and np.all(log.after[:, 1] == 1)

    log = op_drop_feature(genes, np.arange(n), DOMAIN, np.random.default_rng(1))
    assert len(log) == n and np.all(genes.feature_mask[1:].sum(1) == 2)
    log = op_drop_feature(genes, np.arange(1, n), DOMAIN, np.random.default_rng(2))
    assert len(log) == 0  # at min_features = 2: never below


def test_swap_and_tighten() -> None:
    genes = Genes.founders(3, 2, DOMAIN, lr=3e-4)
    rows = np.array([0, 2])
    log = op_swap_execution_topology(genes, rows, DOMAIN, np.random.default_rng(0))
    assert genes.entry.tolist() == [1, 0, 1] and log.after[:, 0].tolist() == [1, 1]
    op_swap_execution_topology(genes, rows, DOMAIN, np.random.default_rng(0))
    assert genes.entry.tolist() == [0, 0, 0]
    single = GeneDomain(entries=["market"])
    assert len(op_swap_execution_topology(genes, rows, single, np.random.default_rng(0))) == 0

    caps = []
    for _ in range(5):
        log = op_tighten_risk(genes, np.array([1]), DOMAIN, np.random.default_rng(0))
        caps.append(float(genes.exposure_cap(DOMAIN)[1]))
    assert caps == [0.75, 0.5, 0.25, 0.25, 0.25] and len(log) == 0
    assert genes.risk.tolist() == [0, 3, 0]


def test_rows_are_validated() -> None:
    genes = Genes.founders(3, 2, DOMAIN, lr=3e-4)
    with pytest.raises(ValueError, match="distinct"):
        op_tighten_risk(genes, np.array([1, 1]), DOMAIN, np.random.default_rng(0))
    with pytest.raises(ValueError, match="in \\[0, 3\\)"):
        op_tighten_risk(genes, np.array([3]), DOMAIN, np.random.default_rng(0))


def test_mutate_applies_every_operator_in_a_fixed_order_deterministically() -> None:
    n = 64
    runs = []
    for _ in range(2):
        genes, net = random_genes(n, 5, 9), net_of(n)
        rates = MutationRates(add_feature=0.5, drop_feature=0.5, swap_topology=0.5)
        logs = mutate(
            genes,
            net,
            np.arange(0, n, 2),
            rates,
            DOMAIN,
            np.random.default_rng(1),
            torch.Generator().manual_seed(1),
        )
        runs.append((genes, net, logs))
        assert [log.operator for log in logs] == list(MUTATION_ORDER)
        assert all(np.all(log.rows % 2 == 0) for log in logs)
        assert len(logs[0]) == n // 2 and 0 < len(logs[1]) < n // 2  # rates 1.0 and 0.5
    (g1, n1, l1), (g2, n2, l2) = runs
    assert all(np.array_equal(getattr(g1, f), getattr(g2, f)) for f in GENE_FIELDS)
    assert all(torch.equal(a, b) for a, b in zip(n1.parameters(), n2.parameters(), strict=True))
    assert all(np.array_equal(a.after, b.after) for a, b in zip(l1, l2, strict=True))

    genes, net = random_genes(n, 5, 9), net_of(n)
    zero = MutationRates(**dict.fromkeys(MUTATION_ORDER, 0.0))
    logs = mutate(
        genes, net, np.arange(n), zero, DOMAIN, np.random.default_rng(1), torch.Generator()
    )
    assert all(len(log) == 0 for log in logs)
    assert all(
        np.array_equal(getattr(genes, f), getattr(random_genes(n, 5, 9), f)) for f in GENE_FIELDS
    )
