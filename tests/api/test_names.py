"""``sl.replay`` and ``sl.gates`` stay the API's functions whatever else was imported: no
submodule of the package shares their names (Python would bind it over them)."""

from __future__ import annotations

import importlib
import pkgutil

import scarline as sl


def test_no_submodule_shadows_an_api_name() -> None:
    submodules = {m.name for m in pkgutil.iter_modules(sl.__path__)}
    assert not submodules & set(sl.__all__)
    for name in submodules:
        importlib.import_module(f"scarline.{name}")
    assert callable(sl.replay) and callable(sl.gates) and callable(sl.backtest)
    assert sl.gates.__module__ == "scarline.api" and sl.replay.__module__ == "scarline.api"
