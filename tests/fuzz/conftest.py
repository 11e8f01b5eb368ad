"""The fuzz suite's one finished run (the target of run-directory commands)."""

from __future__ import annotations

import pytest
from fuzz_helpers import CORPUS, FuzzRun, invoke
from make_corpus import BASE_TOML


@pytest.fixture(scope="session")
def fuzz_run(tmp_path_factory: pytest.TempPathFactory) -> FuzzRun:
    root = tmp_path_factory.mktemp("fuzz")
    config = root / "base.toml"
    config.write_text(BASE_TOML, encoding="utf-8")
    data = CORPUS / "base.csv"
    runs = root / "runs"
    out = invoke(
        ["run", "-c", str(config), "--data", str(data), "--out", str(runs), "--run-id", "base"]
    )
    assert out.code == 0, out.output
    return FuzzRun(root, runs / "base", config, data)
