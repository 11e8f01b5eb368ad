"""Drift sentry cost: one ``DriftSentry.update`` over N agents (both detectors, all active).

    python bench/drift.py [--agents N] [--steps T] [--repeat R] [--direction D]
    python bench/drift.py --quality [--detector page-hinkley|cusum|both]

Prints JSON ``{"n_agents": N, "us_per_update": ...}`` (the best of R runs of T steps, after
the warm-up, so the figure is the steady state the kernel pays on almost every step).
Variants: ``us_per_update_masked`` with 10 % of the agents inactive (dead), and
``us_per_update_alarms`` on returns whose mean drops, so that alarms are built every step,
and ``us_per_update_quiet`` with thresholds no return reaches: no alarm, hence no agent in a
new warm-up (the floor of the cost).

``--quality`` measures the default config instead (the figures of docs/drift.md): false
alarms per 1000 agent-steps on 400 agents × 4000 steps of Gaussian and Student-t(3)
returns, and, for a mean that falls by 1 and by 0.5 sd at step 300 (from +shift/2 to
-shift/2), the share of agents alarming before the change and the delays of the others.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from scarline.argtypes import positive_int
from scarline.reflect import DriftConfig, DriftSentry


def _time(sentry: DriftSentry, returns: np.ndarray, active: np.ndarray, start: int) -> float:
    t0 = time.perf_counter()
    update = sentry.update
    for t in range(returns.shape[0]):
        update(start + t, returns[t], active)
    return (time.perf_counter() - t0) / returns.shape[0] * 1e6


def measure(n_agents: int, steps: int, repeat: int, direction: str) -> dict[str, object]:
    cfg = DriftConfig(enabled=True, direction=direction)  # type: ignore[arg-type]
    rng = np.random.default_rng(0)
    warm = rng.normal(0.001, 0.01, (cfg.min_instances * 2 + 1, n_agents))
    returns = rng.normal(0.001, 0.01, (steps, n_agents))
    shifted = returns - 0.03  # a 3 sd drop: alarms keep firing after each re-warm-up
    all_active = np.ones(n_agents, dtype=bool)
    masked = all_active.copy()
    masked[rng.random(n_agents) < 0.1] = False
    out: dict[str, object] = {"n_agents": n_agents, "steps": steps, "direction": direction}
    quiet = cfg.model_copy(update={"threshold": 1e300, "cusum_h": 1e300})
    for name, c, x, active in (
        ("us_per_update", cfg, returns, all_active),
        ("us_per_update_masked", cfg, returns, masked),
        ("us_per_update_alarms", cfg, shifted, all_active),
        ("us_per_update_quiet", quiet, returns, all_active),
    ):
        best = float("inf")
        for _ in range(repeat):
            sentry = DriftSentry(n_agents, c)
            _time(sentry, warm, all_active, 0)
            best = min(best, _time(sentry, x, active, warm.shape[0]))
        out[name] = round(best, 1)
    return out


def _first_alarms(cfg: DriftConfig, returns: np.ndarray) -> tuple[int, np.ndarray]:
    """Alarmed agent-steps, and each agent's first alarm step (-1: none)."""
    steps, n = returns.shape
    sentry, on = DriftSentry(n, cfg), np.ones(n, dtype=bool)
    first, count = np.full(n, -1), 0
    for t in range(steps):
        alarms = sentry.update(t, returns[t], on)
        if not alarms.empty:
            rows = alarms.rows
            count += len(rows)
            first[rows[first[rows] < 0]] = t
    return count, first


def quality(detector: str) -> dict[str, object]:
    cfg = DriftConfig(enabled=True, detector=detector)  # type: ignore[arg-type]
    rng = np.random.default_rng(1)
    n, steps, change = 400, 4000, 300
    out: dict[str, object] = {"detector": detector}
    gauss = rng.normal(0, 1, (steps, n))
    t3 = rng.standard_t(3, (steps, n)) / np.sqrt(3)
    for name, x in (("gaussian", gauss), ("student_t3", t3)):
        count, _ = _first_alarms(cfg, x)
        out[f"false_alarms_per_1000_{name}"] = round(count / x.size * 1000, 3)
    for shift in (1.0, 0.5):
        x = rng.normal(0, 1, (2 * change, n))
        x[:change] += shift / 2
        x[change:] -= shift / 2
        _, first = _first_alarms(cfg, x)
        delay = first[first >= change] - change
        out[f"drop_{shift}sd"] = {
            "early_share": round(float(((first >= 0) & (first < change)).mean()), 3),
            "missed_share": round(float((first < 0).mean()), 3),
            "delay_median": float(np.median(delay)),
            "delay_p90": round(float(np.percentile(delay, 90)), 1),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--agents", type=positive_int, default=4096)
    parser.add_argument("--steps", type=positive_int, default=2000)
    parser.add_argument("--repeat", type=positive_int, default=5)
    parser.add_argument("--direction", default="down", choices=["up", "down", "both"])
    parser.add_argument("--quality", action="store_true")
    parser.add_argument("--detector", default="both", choices=["page-hinkley", "cusum", "both"])
    args = parser.parse_args()
    if args.quality:
        print(json.dumps(quality(args.detector)))
    else:
        print(json.dumps(measure(args.agents, args.steps, args.repeat, args.direction)))


if __name__ == "__main__":
    main()
