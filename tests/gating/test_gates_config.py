"""configs/gates.toml spells out exactly the built-in thresholds (the docs point at it)."""

from __future__ import annotations

from pathlib import Path

from scarline.gating.config import GatesConfig, load_gates_config

ROOT = Path(__file__).resolve().parents[2]


def test_bundled_gates_toml_is_the_defaults() -> None:
    assert load_gates_config(ROOT / "configs" / "gates.toml") == GatesConfig()


def test_thresholds_hash_changes_with_a_threshold() -> None:
    assert GatesConfig().sha256() == GatesConfig().sha256()
    assert GatesConfig(G2={"alpha": 0.01}).sha256() != GatesConfig().sha256()
