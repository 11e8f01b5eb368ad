"""G2's one evidence decision: DSR and SPA must both reject (intersection-union), PBO vetoes."""

from __future__ import annotations

from statistics import NormalDist

import numpy as np

from scarline.gating.evidence import _combined, decision, joined_pass

DSR_OK = {"dsr": 0.99, "pass": True}
SPA_OK = {"p_value": 0.01, "pass": True}
PBO_OK = {"pbo": 0.2, "pass": True}


def test_evidence_needs_dsr_and_spa_and_no_pbo_veto() -> None:
    ok = decision(DSR_OK, PBO_OK, SPA_OK, alpha=0.05, pbo_max=0.5)
    assert ok["pass"] is True and ok["failed"] == []
    assert ok["rule"] == "DSR >= 0.95 and SPA p <= 0.05; PBO <= 0.5 (veto)"
    assert ok["false_pass_rate_at_most"] == 0.05
    assert (ok["dsr"], ok["spa_p"], ok["pbo"]) == (0.99, 0.01, 0.2)
    no_dsr = decision({"dsr": 0.9, "pass": False}, PBO_OK, SPA_OK, 0.05, 0.5)
    assert no_dsr["pass"] is False and no_dsr["failed"] == ["dsr"]
    no_spa = decision(DSR_OK, PBO_OK, {"p_value": 0.2, "pass": False}, 0.05, 0.5)
    assert no_spa["failed"] == ["spa"]
    vetoed = decision(DSR_OK, {"pbo": 0.7, "pass": False}, SPA_OK, 0.05, 0.5)
    assert vetoed["pass"] is False and vetoed["failed"] == ["pbo"]
    na = decision(DSR_OK, {"pbo": "n/a: fewer than 2", "pass": True}, SPA_OK, 0.05, 0.5)
    assert na["pass"] is True


def test_pbo_is_a_figure_when_the_candidate_was_judged_held_out() -> None:
    """Chosen in-sample, judged on unseen bars: the out-of-sample record is the evidence, so
    a high PBO is reported but vetoes nothing; DSR and SPA still decide."""
    high = {"pbo": 0.7, "pass": False}
    held = decision(DSR_OK, high, SPA_OK, 0.05, 0.5, pbo_veto=False)
    assert held["pass"] is True and held["failed"] == [] and held["pbo"] == 0.7
    assert held["rule"] == "DSR >= 0.95 and SPA p <= 0.05; PBO reported (judged held out)"
    weak = decision({"dsr": 0.9, "pass": False}, high, SPA_OK, 0.05, 0.5, pbo_veto=False)
    assert weak["pass"] is False and weak["failed"] == ["dsr"]


def test_only_top_k_counts_as_chosen_in_sample() -> None:
    """Candidates from the in-sample ranking leave the held-out bars unsearched; agent ids
    may have been picked by looking at them, so they get the population's deflation."""
    from scarline.gating.subject import chosen_in_sample

    assert chosen_in_sample([]) and chosen_in_sample(["top:3"])
    assert not chosen_in_sample(["3"]) and not chosen_in_sample(["top:1,7"])


def test_the_in_sample_record_joins_dsr_and_spa() -> None:
    """A top:K candidate judged held out: DSR and SPA pass on their combined p-values (set by
    the checks), and the decision says so."""
    dsr = {"dsr": 0.9, "combined_p": 0.01, "pass": True}
    spa = {"p_value": 0.08, "combined_p": 0.02, "pass": True}
    held = decision(dsr, {"pbo": 0.7, "pass": False}, spa, 0.05, 0.5, pbo_veto=False)
    assert held["pass"] is True and (held["dsr_combined_p"], held["spa_combined_p"]) == (
        0.01,
        0.02,
    )
    assert held["rule"].startswith("DSR and SPA, each with the in-sample record (Stouffer)")


def test_stouffer_weights_bars_and_keeps_the_level() -> None:
    assert abs(_combined(0.5, 2000, 0.5, 900) - 0.5) < 1e-12
    assert abs(_combined(0.05, 100, 0.5, 0) - 0.05) < 1e-9  # no bars after: the first p
    # equal evidence per bar on 2100 + 900 bars: the p of the pooled t
    z_is, z_oos = 0.04 * np.sqrt(2100), 0.04 * np.sqrt(900)
    pooled = NormalDist().cdf(-0.04 * np.sqrt(3000))
    p = _combined(NormalDist().cdf(-z_is), 2100, NormalDist().cdf(-z_oos), 900)
    assert abs(p - pooled) < 1e-9
    assert _combined(1.0, 2100, 0.0, 900) < 1.0  # certain p-values stay finite


def test_the_in_sample_record_cannot_rescue_a_held_out_loss() -> None:
    assert joined_pass(0.01, 0.05, 0.02)
    assert not joined_pass(0.01, 0.05, 0.0)  # no held-out edge: the record cannot pass it
    assert not joined_pass(0.01, 0.05, -0.03)
    assert not joined_pass(0.06, 0.05, 0.2)
